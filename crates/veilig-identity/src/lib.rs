//! Identity: who may come in, and only with a second factor.
//!
//! Users, groups and roles; passwords (argon2id on a bounded worker pool, with a strength
//! check); second factors (TOTP per RFC 6238, passkeys and security keys through WebAuthn,
//! single-use recovery codes); server-side sessions with idle and absolute timeouts; API
//! tokens; per-account and per-address brute-force limits. Every change is written to the
//! audit chain in the same transaction, and events (a disabled user, reset factors) go out on
//! the event bus so other capabilities can cut access.
//!
//! The rules (e-mail normalisation, password policy, TOTP, throttling) are plain functions,
//! tested on their own; [`Identity`] combines them with the store.

pub mod crypto;
pub mod email;
pub mod password;
pub mod role;
pub mod service;
pub mod throttle;
pub mod totp;
pub mod webauthn;

pub use email::Email;
pub use role::Role;
pub use service::{Identity, IdentitySettings, LoginOutcome, SessionInfo};

/// What went wrong, in terms a page or the API can show.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    Invalid(String),
    #[error("the e-mail address or password is wrong")]
    BadCredentials,
    #[error("the code is wrong or was already used")]
    BadCode,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error("this link is invalid, used or expired")]
    BadToken,
    #[error("the server is busy checking passwords; try again in a moment")]
    Busy,
    #[error("not signed in, or the session has ended")]
    NoSession,
    #[error("this needs a second factor first")]
    SecondFactorRequired,
    #[error("not allowed")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("storage: {0}")]
    Store(#[from] veilig_store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;
