//! A real Dovecot IMAP server (Debian's `dovecot-imapd` 2.3, installed by `scripts/test`),
//! started by a test in a folder of its own on free loopback ports: STARTTLS on one port,
//! implicit TLS on another, one mailbox user with a plain password, Maildir storage owned by
//! `nobody` (Dovecot refuses root). Mail is delivered with `doveadm save`, as a mail server
//! would; the server can be restarted on the same folders to test reconnection.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Dovecot {
    dir: PathBuf,
    child: Option<Child>,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub user: String,
    pub password: String,
}

impl Dovecot {
    /// Starts a server with the certificate and key (PEM files; the certificate must name
    /// `localhost`) and one user.
    pub fn start(cert: &Path, key: &Path, user: &str, password: &str) -> Dovecot {
        let dir = crate::temp_dir("dovecot");
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        let chown = Command::new("chown").args(["-R", "65534:65534"]).arg(dir.join("mail")).status();
        assert!(chown.is_ok_and(|s| s.success()), "chown of the mail folder (the tests run as root)");
        std::fs::copy(cert, dir.join("cert.pem")).unwrap_or_else(|e| panic!("copy certificate: {e}"));
        std::fs::copy(key, dir.join("key.pem")).unwrap_or_else(|e| panic!("copy key: {e}"));
        std::fs::write(dir.join("passwd"), format!("{user}:{{PLAIN}}{password}\n")).unwrap_or_else(|e| panic!("passwd: {e}"));
        let mut d = Dovecot { dir, child: None, imap_port: 0, imaps_port: 0, user: user.to_owned(), password: password.to_owned() };
        d.run();
        d
    }

    fn config(&self) -> String {
        let dir = self.dir.display();
        format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {dir}/run\nstate_dir = {dir}/state\ninstance_name = veilig-{port}\n\
             log_path = {dir}/dovecot.log\ninfo_log_path = {dir}/dovecot.log\nssl = required\nssl_cert = <{dir}/cert.pem\n\
             ssl_key = <{dir}/key.pem\ndisable_plaintext_auth = yes\nauth_mechanisms = plain login\nauth_failure_delay = 0\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%n {dir}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={dir}/mail/%n\n}}\n\
             mail_location = maildir:~/Maildir\nmail_fsync = never\nfirst_valid_uid = 1\nfirst_valid_gid = 1\n\
             protocol imap {{\n  mail_max_userip_connections = 100\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n",
            port = self.imap_port,
            tls_port = self.imaps_port,
        )
    }

    /// Starts the server process and waits for its greeting; new ports when they were taken.
    fn run(&mut self) {
        for _ in 0..5 {
            if self.imap_port == 0 {
                self.imap_port = crate::free_port();
                self.imaps_port = crate::free_port();
            }
            let conf = self.dir.join("dovecot.conf");
            std::fs::write(&conf, self.config()).unwrap_or_else(|e| panic!("dovecot.conf: {e}"));
            let _ = std::fs::remove_file(self.dir.join("run/master.pid"));
            let mut child = Command::new("dovecot")
                .arg("-F")
                .arg("-c")
                .arg(&conf)
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("dovecot (scripts/test installs dovecot-imapd): {e}"));
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    eprintln!("dovecot exited with {status}: {err}");
                    self.imap_port = 0;
                    break;
                }
                if greeting(self.imap_port) {
                    self.child = Some(child);
                    return;
                }
                assert!(Instant::now() < deadline, "dovecot did not greet within 15 s; log: {}", self.log());
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("dovecot would not start; log: {}", self.log());
    }

    /// Stops every process of the server (the whole process group) and waits for them.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
        }
    }

    /// Stops and starts the server on the same folders and ports (mail and UIDs are kept).
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Delivers a message into the user's INBOX, unseen.
    pub fn deliver(&self, raw: &[u8]) {
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .args(["save", "-u", &self.user, "-m", "INBOX"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("doveadm: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, raw).unwrap_or_else(|e| panic!("doveadm save: {e}"));
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("doveadm save: {e}"));
        assert!(out.status.success(), "doveadm save: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The UIDs of INBOX messages that still lack `\Seen`.
    pub fn unseen(&self) -> Vec<u32> {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .args(["search", "-u", &self.user, "mailbox", "INBOX", "UNSEEN"])
            .output()
            .unwrap_or_else(|e| panic!("doveadm search: {e}"));
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().nth(1)?.parse().ok()).collect()
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }
}

fn greeting(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4];
    std::io::Read::read_exact(&mut s, &mut buf).is_ok() && &buf == b"* OK"
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}
