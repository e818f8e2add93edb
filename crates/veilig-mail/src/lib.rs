//! Mail. For now: outgoing mail through the organisation's SMTP server (invitations and
//! security notices, in the recipient's language). The phishing desk (analysis, report
//! mailbox, awareness) will live here too.

pub mod imap;
pub mod notices;
pub mod outgoing;

pub use outgoing::{MailError, Mailer};
