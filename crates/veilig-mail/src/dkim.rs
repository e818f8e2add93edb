//! DKIM verification of reported messages against the signers' keys in DNS (`mail-auth` 0.13,
//! the newest that builds on this toolchain), for when the organisation's mail server left no
//! `Authentication-Results` or the report came from elsewhere. Only for attached originals:
//! an inline forward no longer has the signed headers.

use std::net::SocketAddr;

use mail_auth::dkim::DkimError;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, Error, MessageAuthenticator};
use veilig_phish::Verified;

/// A DKIM verifier with its DNS resolver.
pub struct DkimVerifier(MessageAuthenticator);

impl DkimVerifier {
    /// Asks `dns` (a resolver's address), or the system's resolvers when `None`.
    pub fn new(dns: Option<SocketAddr>) -> Result<DkimVerifier, String> {
        let auth = match dns {
            Some(addr) => {
                let mut server = NameServerConfig::udp(addr.ip());
                for c in &mut server.connections {
                    c.port = addr.port();
                }
                let mut opts = ResolverOpts::default();
                opts.timeout = std::time::Duration::from_secs(3);
                opts.attempts = 1;
                MessageAuthenticator::new(ResolverConfig::from_parts(None, Vec::new(), vec![server]), opts)
            }
            None => MessageAuthenticator::new_system_conf(),
        };
        auth.map(DkimVerifier).map_err(|e| format!("DNS resolver for DKIM: {e}"))
    }

    /// Every DKIM signature of `raw`: passed or failed, with its domain. Signatures whose key
    /// could not be fetched (DNS trouble) are left out: no verdict from a lookup that failed.
    pub async fn verify(&self, raw: &[u8]) -> Verified {
        let Some(message) = AuthenticatedMessage::parse(raw) else { return Verified::default() };
        let outputs = self.0.verify_dkim(&message).await;
        let dkim = outputs
            .iter()
            .filter_map(|o| {
                let domain = o.signature()?.d.clone();
                match o.result() {
                    DkimResult::Pass => Some((true, domain)),
                    DkimResult::Fail(_) | DkimResult::PermError(_) => Some((false, domain)),
                    // A body that no longer matches its signed hash was changed on the way.
                    DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => Some((false, domain)),
                    DkimResult::Neutral(_) | DkimResult::TempError(_) | DkimResult::None => None,
                }
            })
            .collect();
        Verified { dkim }
    }
}
