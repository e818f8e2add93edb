//! A small network of Linux network namespaces for end-to-end tests of the VPN:
//!
//! ```text
//!  root (the test) 10.99.0.1 ── mgmt ── 10.99.0.2  gw  10.20.0.1 ── 10.20.0.2  office
//!  home   10.99.1.2 ─────────────────── 10.99.1.1  gw
//!  home2  10.99.2.2 ─────────────────── 10.99.2.1  gw
//! ```
//!
//! *gw* runs Veilig; *office* is the internal network; *home* and *home2* are employees'
//! laptops with the WireGuard tools. Names carry a per-run id so runs can share a machine.
//! Everything is removed when the [`Lab`] is dropped. Needs root.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Lab {
    pub id: String,
    pub gw: String,
    pub office: String,
    pub home: String,
    pub home2: String,
    pub dir: PathBuf,
    children: Vec<Child>,
    tunnels: Vec<(String, PathBuf)>,
}

/// Panics unless this process runs as root: the VPN tests need namespaces and TUN devices.
pub fn require_root() {
    let out = Command::new("id").arg("-u").output().unwrap_or_else(|e| panic!("cannot run id: {e}"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "the VPN end-to-end tests need root (network namespaces, TUN)");
}

fn run(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"))
}

fn must(args: &[&str]) {
    let out = run(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

impl Lab {
    pub fn new() -> Lab {
        require_root();
        use rand::Rng;
        let id = format!("{:x}", rand::thread_rng().r#gen::<u16>());
        let lab = Lab {
            gw: format!("vg{id}g"),
            office: format!("vg{id}o"),
            home: format!("vg{id}h"),
            home2: format!("vg{id}i"),
            dir: crate::temp_dir("lab"),
            id,
            children: Vec::new(),
            tunnels: Vec::new(),
        };
        for ns in [&lab.gw, &lab.office, &lab.home, &lab.home2] {
            must(&["ip", "netns", "add", ns]);
            must(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let m0 = format!("vg{}m", lab.id);
        must(&["ip", "link", "add", &m0, "type", "veth", "peer", "name", "m1", "netns", &lab.gw]);
        must(&["ip", "addr", "add", "10.99.0.1/30", "dev", &m0]);
        must(&["ip", "link", "set", &m0, "up"]);
        lab.gw_cmd(&["ip", "addr", "add", "10.99.0.2/30", "dev", "m1"]);
        lab.gw_cmd(&["ip", "link", "set", "m1", "up"]);
        for (ns, net, gw_if) in [(&lab.home, "10.99.1", "h1"), (&lab.home2, "10.99.2", "h2")] {
            must(&["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", gw_if, "netns", &lab.gw]);
            must(&["ip", "-n", ns, "addr", "add", &format!("{net}.2/24"), "dev", "eth0"]);
            must(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
            lab.gw_cmd(&["ip", "addr", "add", &format!("{net}.1/24"), "dev", gw_if]);
            lab.gw_cmd(&["ip", "link", "set", gw_if, "up"]);
        }
        must(&["ip", "-n", &lab.office, "link", "add", "eth0", "type", "veth", "peer", "name", "o1", "netns", &lab.gw]);
        must(&["ip", "-n", &lab.office, "addr", "add", "10.20.0.2/24", "dev", "eth0"]);
        must(&["ip", "-n", &lab.office, "link", "set", "eth0", "up"]);
        must(&["ip", "-n", &lab.office, "route", "add", "default", "via", "10.20.0.1"]);
        lab.gw_cmd(&["ip", "addr", "add", "10.20.0.1/24", "dev", "o1"]);
        lab.gw_cmd(&["ip", "link", "set", "o1", "up"]);
        lab
    }

    /// The words that run a command inside namespace `ns`.
    pub fn prefix(ns: &str) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), ns.into()]
    }

    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut all: Vec<&str> = vec!["ip", "netns", "exec", ns];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Runs a command in `ns` with `input` on its standard input.
    pub fn exec_input(&self, ns: &str, args: &[&str], input: &str) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        }
        child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
    }

    fn gw_cmd(&self, args: &[&str]) {
        let out = self.exec(&self.gw, args);
        assert!(out.status.success(), "{args:?} in gw failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Starts a long-running process in `ns`; it is killed when the lab is dropped.
    pub fn spawn(&mut self, ns: &str, args: &[&str]) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {args:?}: {e}"));
        self.children.push(child);
    }

    /// Starts an HTTP server in *office* at 10.20.0.2:`port` that answers every GET.
    pub fn office_http(&mut self, port: u16) {
        let office = self.office.clone();
        // Not `python3 -m http.server`: it looks up its own name in DNS, which hangs in a
        // namespace without a resolver.
        let script = format!(
            "import http.server, socketserver\n\
             class S(socketserver.ThreadingTCPServer):\n    allow_reuse_address = True\n    daemon_threads = True\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_GET(self):\n\
             \x20       b = b'intranet\\n'\n\
             \x20       self.send_response(200)\n\
             \x20       self.send_header('Content-Length', str(len(b)))\n\
             \x20       self.end_headers()\n\
             \x20       self.wfile.write(b)\n\
             \x20   def log_message(self, *a):\n        pass\n\
             S(('10.20.0.2', {port}), H).serve_forever()\n"
        );
        let path = self.dir.join(format!("intranet-{port}.py"));
        std::fs::write(&path, script).unwrap_or_else(|e| panic!("{e}"));
        let p = path.display().to_string();
        self.spawn(&office, &["python3", &p]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exec(&office, &["curl", "-s", "--max-time", "1", &format!("http://10.20.0.2:{port}/")]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the office web server did not start");
    }

    /// Starts an HTTP receiver in `ns` on 127.0.0.1:`port` that answers every POST with 204
    /// and appends the request path and body, as one JSON line, to the returned file (a
    /// webhook receiver).
    pub fn receiver(&mut self, ns: &str, port: u16) -> PathBuf {
        let out = self.dir.join(format!("received-{port}.jsonl"));
        let script = format!(
            "import http.server, socketserver, json\n\
             class S(socketserver.ThreadingTCPServer):\n    allow_reuse_address = True\n    daemon_threads = True\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_POST(self):\n\
             \x20       n = int(self.headers.get('Content-Length') or 0)\n\
             \x20       body = self.rfile.read(n).decode('utf-8', 'replace')\n\
             \x20       with open({out:?}, 'a') as f:\n\
             \x20           f.write(json.dumps({{'path': self.path, 'body': body}}) + '\\n')\n\
             \x20       self.send_response(204)\n\
             \x20       self.end_headers()\n\
             \x20   def log_message(self, *a):\n        pass\n\
             S(('127.0.0.1', {port}), H).serve_forever()\n",
            out = out.display().to_string()
        );
        let path = self.dir.join(format!("receiver-{port}.py"));
        std::fs::write(&path, script).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&out, "").unwrap_or_else(|e| panic!("{e}"));
        let p = path.display().to_string();
        self.spawn(ns, &["python3", &p]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let probe = format!("http://127.0.0.1:{port}/ready");
            if self.exec(ns, &["curl", "-s", "--max-time", "1", "-X", "POST", "-d", "{}", &probe]).status.success() {
                return out;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the webhook receiver did not start");
    }

    /// Whether `ns` can fetch `url` within `timeout` (the given port of the intranet server).
    /// Packets dropped by a firewall make this wait for the whole timeout.
    pub fn reaches(&self, ns: &str, url: &str, timeout: Duration) -> bool {
        let t = format!("{:.1}", timeout.as_secs_f64());
        self.exec(ns, &["curl", "-s", "-o", "/dev/null", "--max-time", &t, url]).status.success()
    }

    /// Brings up a WireGuard tunnel in `ns` from a `.conf` as Veilig made it, with `wg-quick`
    /// and Debian's `wireguard-go` (the kernel here has no WireGuard). `name` becomes the
    /// interface name (at most 15 characters).
    pub fn tunnel_up(&mut self, ns: &str, name: &str, conf: &str) {
        let path = self.dir.join(format!("{name}.conf"));
        std::fs::write(&path, conf).unwrap_or_else(|e| panic!("{e}"));
        let p = path.display().to_string();
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "wg-quick", "up", &p])
            .env("WG_QUICK_USERSPACE_IMPLEMENTATION", "wireguard-go")
            .env("WG_SUDO", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run wg-quick: {e}"));
        assert!(out.status.success(), "wg-quick up failed: {}", String::from_utf8_lossy(&out.stderr));
        self.tunnels.push((ns.to_owned(), path));
    }

    pub fn tunnel_down(&mut self, ns: &str, name: &str) {
        if let Some(i) = self.tunnels.iter().position(|(n, p)| n == ns && p.file_stem().is_some_and(|s| s == name)) {
            let (ns, path) = self.tunnels.remove(i);
            let _ = Command::new("ip").args(["netns", "exec", &ns, "wg-quick", "down"]).arg(&path).output();
        }
    }

    /// Makes a PostgreSQL URL on this machine's loopback reachable from *gw* (which has its
    /// own loopback) through a forwarder on 10.99.0.1; SQLite URLs are returned as they are.
    pub fn reachable_db(&self, url: &str) -> String {
        let Some(rest) = url.strip_prefix("postgres://") else { return url.to_owned() };
        let (auth, after) = rest.split_once('@').unwrap_or(("", rest));
        let (hostport, path) = after.split_once('/').unwrap_or((after, ""));
        let target = hostport.to_owned();
        let listener = TcpListener::bind("10.99.0.1:0").unwrap_or_else(|e| panic!("cannot listen on the lab's management link: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let target = target.clone();
                std::thread::spawn(move || {
                    if let Ok(server) = TcpStream::connect(&target) {
                        pipe(client, server);
                    }
                });
            }
        });
        // Wait until *gw* really reaches the forwarder: a new link can drop the first packets.
        let probe = format!("echo > /dev/tcp/10.99.0.1/{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.exec(&self.gw, &["timeout", "2", "bash", "-c", &probe]).status.success() {
            assert!(Instant::now() < deadline, "gw cannot reach the database forwarder on 10.99.0.1:{port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let auth = if auth.is_empty() { String::new() } else { format!("{auth}@") };
        format!("postgres://{auth}10.99.0.1:{port}/{path}")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(mut a2), Ok(mut b2)) = (a.try_clone(), b.try_clone()) else { return };
    let (mut a, mut b) = (a, b);
    let up = std::thread::spawn(move || {
        let _ = copy(&mut a, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    let _ = copy(&mut b, &mut a2);
    let _ = a2.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 16384];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (ns, path) in std::mem::take(&mut self.tunnels) {
            let _ = Command::new("ip").args(["netns", "exec", &ns, "wg-quick", "down"]).arg(&path).output();
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.gw, &self.office, &self.home, &self.home2] {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        let _ = run(&["ip", "link", "del", &format!("vg{}m", self.id)]);
    }
}
