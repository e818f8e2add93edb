//! Mail: outgoing mail through the organisation's SMTP server (invitations and security
//! notices, in the recipient's language), and the phishing desk's report mailbox (`desk`, over
//! the IMAP client in `imap`).

pub mod awareness;
pub mod desk;
pub mod dkim;
pub mod imap;
pub mod notices;
pub mod outgoing;

pub use outgoing::{MailError, Mailer};
