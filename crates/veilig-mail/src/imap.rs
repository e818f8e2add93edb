//! A small IMAP4rev1 client (RFC 3501) for the report mailbox: implicit TLS (IMAPS) or
//! STARTTLS, AUTHENTICATE PLAIN or LOGIN, SELECT, UID SEARCH, UID FETCH, UID STORE and IDLE
//! (RFC 2177). Just the commands the phishing desk needs, with bounded lines and literals.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The longest response line read (without literals).
const MAX_LINE: usize = 64 * 1024;
/// The largest literal (a whole message) read.
const MAX_LITERAL: usize = 60 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot reach the IMAP server: {0}")]
    Connect(String),
    #[error("TLS with the IMAP server failed: {0}")]
    Tls(String),
    #[error("the IMAP server closed the connection")]
    Closed,
    #[error("the IMAP server did not answer in time")]
    Timeout,
    #[error("the IMAP server refused {command}: {text}")]
    Refused { command: &'static str, text: String },
    #[error("the IMAP server sent something this client does not understand: {0}")]
    Protocol(String),
    #[error("I/O with the IMAP server: {0}")]
    Io(String),
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> Self {
        ImapError::Io(e.to_string())
    }
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// IMAPS: TLS from the first byte (port 993).
    Tls,
    /// Plain first, then STARTTLS before anything else is said (port 143).
    StartTls,
    /// No TLS: only for a server on loopback (the configuration refuses it otherwise).
    None,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One untagged response line with the literals it carried.
#[derive(Debug, Default)]
struct Untagged {
    line: String,
    literals: Vec<Vec<u8>>,
}

/// An open connection.
pub struct Imap {
    io: BufReader<Box<dyn Io>>,
    tag: u32,
    timeout: Duration,
    capabilities: Vec<String>,
}

/// What SELECT tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    pub exists: u32,
    pub uid_validity: u32,
}

/// Why IDLE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// New mail arrived.
    NewMail,
    /// The time was up.
    TimedOut,
}

impl Imap {
    /// Connects, protects the connection as asked and reads the capabilities.
    pub async fn connect(
        host: &str,
        port: u16,
        security: Security,
        tls: Arc<rustls::ClientConfig>,
        timeout: Duration,
    ) -> Result<Imap, ImapError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| ImapError::Timeout)?
            .map_err(|e| ImapError::Connect(format!("{host}:{port}: {e}")))?;
        let name = ServerName::try_from(host.to_string()).map_err(|e| ImapError::Tls(e.to_string()))?;
        let connector = tokio_rustls::TlsConnector::from(tls);
        let read_timeout = timeout.max(Duration::from_secs(30));
        let io: Box<dyn Io> = match security {
            Security::Tls => Box::new(
                tokio::time::timeout(timeout, connector.connect(name, tcp))
                    .await
                    .map_err(|_| ImapError::Timeout)?
                    .map_err(|e| ImapError::Tls(e.to_string()))?,
            ),
            Security::None => Box::new(tcp),
            Security::StartTls => {
                let mut plain = BufReader::new(tcp);
                let greeting = tokio::time::timeout(read_timeout, read_untagged(&mut plain)).await.map_err(|_| ImapError::Timeout)??;
                check_greeting(&greeting)?;
                plain.get_mut().write_all(b"V0000 STARTTLS\r\n").await?;
                loop {
                    let u = tokio::time::timeout(read_timeout, read_untagged(&mut plain)).await.map_err(|_| ImapError::Timeout)??;
                    if let Some(rest) = u.line.strip_prefix("V0000 ") {
                        if !rest.starts_with("OK") {
                            return Err(refused("STARTTLS", rest));
                        }
                        break;
                    }
                }
                if !plain.buffer().is_empty() {
                    // Bytes sent before the handshake could be injected by someone in between.
                    return Err(ImapError::Protocol("data after STARTTLS before the TLS handshake".into()));
                }
                Box::new(
                    tokio::time::timeout(timeout, connector.connect(name, plain.into_inner()))
                        .await
                        .map_err(|_| ImapError::Timeout)?
                        .map_err(|e| ImapError::Tls(e.to_string()))?,
                )
            }
        };
        let mut imap = Imap { io: BufReader::new(io), tag: 0, timeout, capabilities: Vec::new() };
        if security != Security::StartTls {
            let greeting = imap.read_line().await?;
            check_greeting(&greeting)?;
        }
        imap.refresh_capabilities().await?;
        Ok(imap)
    }

    /// True when the server offers `cap` (such as `IDLE`).
    pub fn has(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|c| c.eq_ignore_ascii_case(cap))
    }

    async fn refresh_capabilities(&mut self) -> Result<(), ImapError> {
        let lines = self.command("CAPABILITY", "CAPABILITY").await?;
        self.capabilities = lines
            .iter()
            .filter_map(|u| u.line.strip_prefix("* CAPABILITY "))
            .flat_map(|l| l.split_whitespace().map(str::to_string))
            .collect();
        Ok(())
    }

    /// Signs in with AUTHENTICATE PLAIN where offered (any characters), else LOGIN.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), ImapError> {
        if self.has("AUTH=PLAIN") {
            let token = base64_encode(format!("\0{user}\0{password}").as_bytes());
            let tag = self.next_tag();
            self.write(&format!("{tag} AUTHENTICATE PLAIN\r\n")).await?;
            let cont = self.read_line().await?;
            if !cont.line.starts_with('+') {
                return Err(refused("AUTHENTICATE", &cont.line));
            }
            self.write(&format!("{token}\r\n")).await?;
            self.finish(&tag, "AUTHENTICATE").await?;
        } else {
            if !is_quotable(user) || !is_quotable(password) {
                return Err(ImapError::Protocol("the server offers only LOGIN, which cannot carry this user name or password".into()));
            }
            self.command("LOGIN", &format!("LOGIN {} {}", quote(user), quote(password))).await?;
        }
        // Servers may offer more after signing in.
        self.refresh_capabilities().await
    }

    /// Selects a mailbox for reading and writing.
    pub async fn select(&mut self, mailbox: &str) -> Result<Selected, ImapError> {
        let lines = self.command("SELECT", &format!("SELECT {}", quote(mailbox))).await?;
        let mut selected = Selected { exists: 0, uid_validity: 0 };
        for u in &lines {
            if let Some(n) = u.line.strip_prefix("* ").and_then(|r| r.strip_suffix(" EXISTS")) {
                selected.exists = n.trim().parse().unwrap_or(0);
            }
            if let Some(rest) = u.line.split("[UIDVALIDITY ").nth(1) {
                selected.uid_validity = rest.split(']').next().and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            }
        }
        Ok(selected)
    }

    /// UIDs of the messages without `\Seen`, in ascending order.
    pub async fn unseen(&mut self) -> Result<Vec<u32>, ImapError> {
        let lines = self.command("SEARCH", "UID SEARCH UNSEEN").await?;
        let mut uids: Vec<u32> = lines
            .iter()
            .filter_map(|u| u.line.strip_prefix("* SEARCH"))
            .flat_map(|l| l.split_whitespace().filter_map(|n| n.parse().ok()))
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The whole message with this UID, without setting `\Seen`; `None` when it is gone.
    pub async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        let lines = self.command("FETCH", &format!("UID FETCH {uid} (UID BODY.PEEK[])")).await?;
        Ok(lines.into_iter().filter(|u| u.line.contains("FETCH") && u.line.contains("BODY[]")).find_map(|u| u.literals.into_iter().next()))
    }

    /// Marks the message `\Seen`.
    pub async fn mark_seen(&mut self, uid: u32) -> Result<(), ImapError> {
        self.command("STORE", &format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)")).await.map(|_| ())
    }

    /// Waits for new mail with IDLE, at most `max` (servers drop idle clients after 30 minutes;
    /// callers use less).
    pub async fn idle(&mut self, max: Duration) -> Result<Idle, ImapError> {
        let tag = self.next_tag();
        self.write(&format!("{tag} IDLE\r\n")).await?;
        let cont = self.read_line().await?;
        if !cont.line.starts_with('+') {
            return Err(refused("IDLE", &cont.line));
        }
        let deadline = tokio::time::Instant::now() + max;
        let mut outcome = Idle::TimedOut;
        loop {
            match tokio::time::timeout_at(deadline, read_untagged(&mut self.io)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(u)) => {
                    if u.line.ends_with(" EXISTS") || u.line.ends_with(" RECENT") {
                        outcome = Idle::NewMail;
                        break;
                    }
                }
            }
        }
        self.write("DONE\r\n").await?;
        self.finish(&tag, "IDLE").await?;
        Ok(outcome)
    }

    /// Says goodbye; errors are of no interest any more.
    pub async fn logout(mut self) {
        let _ = self.command("LOGOUT", "LOGOUT").await;
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("V{:04}", self.tag)
    }

    async fn write(&mut self, s: &str) -> Result<(), ImapError> {
        let io = self.io.get_mut();
        tokio::time::timeout(self.timeout, async {
            io.write_all(s.as_bytes()).await?;
            io.flush().await
        })
        .await
        .map_err(|_| ImapError::Timeout)?
        .map_err(ImapError::from)
    }

    async fn read_line(&mut self) -> Result<Untagged, ImapError> {
        tokio::time::timeout(self.timeout.max(Duration::from_secs(30)), read_untagged(&mut self.io))
            .await
            .map_err(|_| ImapError::Timeout)?
    }

    /// Sends a command and collects the untagged responses until its tagged completion.
    async fn command(&mut self, name: &'static str, text: &str) -> Result<Vec<Untagged>, ImapError> {
        let tag = self.next_tag();
        self.write(&format!("{tag} {text}\r\n")).await?;
        self.finish(&tag, name).await
    }

    async fn finish(&mut self, tag: &str, name: &'static str) -> Result<Vec<Untagged>, ImapError> {
        let mut lines = Vec::new();
        loop {
            let u = self.read_line().await?;
            if let Some(rest) = u.line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
                return if rest.starts_with("OK") { Ok(lines) } else { Err(refused(name, rest)) };
            }
            if u.line.starts_with("* BYE") && name != "LOGOUT" {
                return Err(ImapError::Closed);
            }
            lines.push(u);
        }
    }
}

fn check_greeting(g: &Untagged) -> Result<(), ImapError> {
    if g.line.starts_with("* OK") || g.line.starts_with("* PREAUTH") {
        Ok(())
    } else {
        Err(ImapError::Protocol(format!("greeting: {}", shorten(&g.line))))
    }
}

fn refused(command: &'static str, text: &str) -> ImapError {
    ImapError::Refused { command, text: shorten(text) }
}

fn shorten(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Reads one response line, with any literals `{n}` inside it.
async fn read_untagged<R: AsyncBufReadExt + Unpin>(io: &mut R) -> Result<Untagged, ImapError> {
    let mut u = Untagged::default();
    loop {
        let mut raw = Vec::new();
        let n = (&mut *io).take(MAX_LINE as u64).read_until(b'\n', &mut raw).await?;
        if n == 0 {
            return Err(ImapError::Closed);
        }
        if !raw.ends_with(b"\n") {
            return Err(ImapError::Protocol("response line too long".into()));
        }
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim_end_matches(['\r', '\n']);
        match literal_size(text) {
            Some(size) if size > MAX_LITERAL => return Err(ImapError::Protocol(format!("literal of {size} bytes is too large"))),
            Some(size) => {
                let mut buf = vec![0u8; size];
                io.read_exact(&mut buf).await?;
                u.literals.push(buf);
                u.line.push_str(text);
            }
            None => {
                u.line.push_str(text);
                return Ok(u);
            }
        }
    }
}

/// The size of a literal announced at the end of a line: `... {1234}`.
fn literal_size(line: &str) -> Option<usize> {
    let inner = line.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    inner[open + 1..].trim_end_matches('+').parse().ok()
}

fn is_quotable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_lines_with_literals() {
        let data = b"* 3 FETCH (UID 7 BODY[] {12}\r\nHello\r\nWorld)\r\n* SEARCH 4 9\r\n".to_vec();
        let mut r = tokio::io::BufReader::new(&data[..]);
        let u = read_untagged(&mut r).await.unwrap();
        assert_eq!(u.line, "* 3 FETCH (UID 7 BODY[] {12})");
        assert_eq!(u.literals, vec![b"Hello\r\nWorld".to_vec()]);
        assert_eq!(read_untagged(&mut r).await.unwrap().line, "* SEARCH 4 9");
        assert!(matches!(read_untagged(&mut r).await, Err(ImapError::Closed)));
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(literal_size("* 1 FETCH (BODY[] {42+}"), Some(42));
    }
}
