//! Sending mail over SMTP (STARTTLS, implicit TLS, or plain only to a server on loopback).

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use veilig_core::config::{SmtpConfig, SmtpTls};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail setting: {0}")]
    Config(String),
    #[error("address: {0}")]
    Address(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Send(String),
}

/// A connection pool to the mail server and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer(from {})", self.from)
    }
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|e| MailError::Config(format!("smtp.from: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host).port(cfg.port);
        builder = match cfg.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => {
                builder.tls(Tls::Required(TlsParameters::new(cfg.host.clone()).map_err(|e| MailError::Config(e.to_string()))?))
            }
            SmtpTls::Tls => builder.tls(Tls::Wrapper(TlsParameters::new(cfg.host.clone()).map_err(|e| MailError::Config(e.to_string()))?)),
        };
        if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        let transport = builder.timeout(Some(std::time::Duration::from_secs(20))).build();
        Ok(Mailer { transport, from })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|e| MailError::Address(format!("{to}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Address(e.to_string()))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| MailError::Send(e.to_string()))
    }
}
