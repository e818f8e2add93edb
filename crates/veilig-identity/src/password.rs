//! Passwords: a policy (length and a strength estimate that knows common passwords and
//! patterns) and argon2id hashing on a bounded pool, so a flood of logins queues instead of
//! starving the server.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Checks a new password; the error says what to change. `context` holds words the password
/// must not lean on (the e-mail address, the name).
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(format!("use at least {MIN_LENGTH} characters"));
    }
    if chars > MAX_LENGTH {
        return Err(format!("use at most {MAX_LENGTH} characters"));
    }
    let mut words: Vec<&str> = context.to_vec();
    words.extend_from_slice(DUTCH_COMMON);
    let estimate = zxcvbn::zxcvbn(password, &words);
    // Short passwords must be very strong; long ones (passphrases) strong.
    let needed = if chars < 16 { 4 } else { 3 };
    if u8::from(estimate.score()) < needed {
        let hint = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(": {w}")).unwrap_or_default();
        return Err(format!("this password is too easy to guess{hint}; a few unrelated words work well"));
    }
    Ok(())
}

/// Words Dutch passwords lean on that zxcvbn's English lists do not know (our own list):
/// greetings, seasons, months, days, cities, clubs and work words.
const DUTCH_COMMON: &[&str] = &[
    "welkom",
    "wachtwoord",
    "geheim",
    "hallo",
    "doei",
    "lente",
    "zomer",
    "herfst",
    "winter",
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "amsterdam",
    "rotterdam",
    "utrecht",
    "denhaag",
    "eindhoven",
    "groningen",
    "ajax",
    "feyenoord",
    "psv",
    "oranje",
    "nederland",
    "holland",
    "gemeente",
    "kantoor",
    "thuiswerken",
    "werk",
    "bedrijf",
    "zorg",
    "school",
    "schatje",
    "liefje",
    "poepie",
    "konijn",
    "hond",
    "kat",
    "voetbal",
    "fiets",
    "wachtwoord",
    "inloggen",
    "beveiliging",
    "veilig",
    "corona",
    "vakantie",
    "koffie",
];

/// argon2id with OWASP's minimum (19 MiB, 2 passes) or cheaper parameters for tests.
#[derive(Clone)]
pub struct Hasher {
    argon: Argon2<'static>,
    pool: Arc<Semaphore>,
    /// Hashes waiting for a worker; past `max_waiting` new ones are turned away at once.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    max_waiting: usize,
    /// A hash of a random password, verified against when the account does not exist so that
    /// the answer takes as long either way.
    dummy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// `workers` hashes may run at once (the rest wait); `memory_kib` and `passes` set the cost.
    pub fn new(workers: usize, memory_kib: u32, passes: u32) -> Result<Hasher, String> {
        let params = Params::new(memory_kib, passes, 1, None).map_err(|e| e.to_string())?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy = argon.hash_password(crate::crypto::random_token("").as_bytes(), &salt).map_err(|e| e.to_string())?.to_string();
        Ok(Hasher {
            argon,
            pool: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            max_waiting: 64,
            dummy: Arc::new(dummy),
        })
    }

    /// One core is always left for everything else, so a flood of sign-ins cannot starve the
    /// pages of people already signed in.
    pub fn production() -> Result<Hasher, String> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Hasher::new(cores.saturating_sub(1).max(1), 19 * 1024, 2)
    }

    /// Waits for a worker, or says `Busy` when too many are waiting already.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Busy> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let permit = self.pool.acquire().await.map_err(|_| Busy);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit
    }

    pub async fn hash(&self, password: &str) -> Result<String, String> {
        let _permit = self.permit().await.map_err(|_| "the server is busy checking passwords; try again in a moment".to_owned())?;
        let argon = self.argon.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Verifies against `stored`, or against the dummy hash when there is none, so the time
    /// taken does not reveal whether an account exists.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Busy> {
        let _permit = self.permit().await?;
        let argon = self.argon.clone();
        let password = password.to_owned();
        let exists = stored.is_some();
        let stored = stored.map(str::to_owned).unwrap_or_else(|| self.dummy.as_str().to_owned());
        let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
            Ok(parsed) => argon.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        })
        .await
        .unwrap_or(false);
        Ok(ok && exists)
    }
}

/// Too many password checks are waiting: the request is refused rather than queued forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_rejects_short_and_common_passwords() {
        assert!(check_policy("kort", &[]).unwrap_err().contains("at least 12"));
        assert!(check_policy("password1234", &[]).is_err());
        assert!(check_policy("Welkom2020!!", &[]).is_err());
        assert!(check_policy("jan.jansen@gemeente.nl", &["jan.jansen@gemeente.nl"]).is_err());
        assert!(check_policy("paarse fiets onder de brug", &[]).is_ok());
        assert!(check_policy("Xk9#mQ2$vL7p", &[]).is_ok(), "a random 12 characters is fine");
        assert!(check_policy(&"x".repeat(300), &[]).unwrap_err().contains("at most"));
    }

    #[tokio::test]
    async fn hashes_verify_and_the_dummy_never_does() {
        let h = Hasher::new(2, 1024, 1).unwrap();
        let stored = h.hash("paarse fiets onder de brug").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(h.verify("paarse fiets onder de brug", Some(&stored)).await, Ok(true));
        assert_eq!(h.verify("paarse fiets onder de trein", Some(&stored)).await, Ok(false));
        assert_eq!(h.verify("anything", None).await, Ok(false));
        assert_eq!(h.verify("x", Some("not a hash")).await, Ok(false));
    }

    #[tokio::test]
    async fn a_full_queue_says_busy_instead_of_waiting() {
        let mut h = Hasher::new(1, 8 * 1024, 3).unwrap();
        h.max_waiting = 2;
        let stored = h.hash("paarse fiets onder de brug").await.unwrap();
        let tries: Vec<_> = (0..12)
            .map(|_| {
                let h = h.clone();
                let stored = stored.clone();
                tokio::spawn(async move { h.verify("x", Some(&stored)).await })
            })
            .collect();
        let mut busy = 0;
        for t in tries {
            if t.await.unwrap() == Err(Busy) {
                busy += 1;
            }
        }
        assert!(busy > 0, "some of twelve simultaneous checks must be turned away");
    }
}
