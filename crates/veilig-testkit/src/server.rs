//! The real `veilig` binary as a child process on a free port.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::db::TestDatabase;

pub struct ServerProcess {
    child: Child,
    pub port: u16,
    /// A second free port, for `{port2}` in the arguments (a syslog listener, say).
    pub port2: u16,
    pub base: String,
    pub db: TestDatabase,
    pub binary: PathBuf,
    stdout_file: PathBuf,
    stderr_file: PathBuf,
}

impl ServerProcess {
    /// Starts `binary serve` on a free port against `db`, with `extra` arguments (where
    /// `{port}` stands for the port), and waits until `/healthz` answers.
    pub fn start(binary: &Path, db: &TestDatabase, extra: &[&str]) -> ServerProcess {
        Self::start_with_env(binary, db, extra, &[])
    }

    /// Like [`ServerProcess::start`], with extra environment variables for the server.
    pub fn start_with_env(binary: &Path, db: &TestDatabase, extra: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        Self::start_inside(binary, db, &[], "127.0.0.1", extra, env)
    }

    /// Starts the server through `prefix` (such as `ip netns exec gw`), listening on `host`.
    /// `{port}` and `{port2}` are replaced in `extra` and in the environment values.
    pub fn start_inside(
        binary: &Path,
        db: &TestDatabase,
        prefix: &[String],
        host: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let port = crate::free_port();
        let port2 = crate::free_port();
        let extra: Vec<String> =
            extra.iter().map(|a| a.replace("{port}", &port.to_string()).replace("{port2}", &port2.to_string())).collect();
        let logs = crate::temp_dir("logs");
        let stdout_file = logs.join("stdout");
        let stderr_file = logs.join("stderr");
        let out = std::fs::File::create(&stdout_file).unwrap_or_else(|e| panic!("log file: {e}"));
        let err = std::fs::File::create(&stderr_file).unwrap_or_else(|e| panic!("log file: {e}"));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.replace("{port}", &port.to_string()).replace("{port2}", &port2.to_string())))
            .collect();
        let listen = format!("{host}:{port}");
        let mut command = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let child = command
            .args(["serve", "--data"])
            .arg(&db.data_dir)
            .args(["--database-url", &db.url, "--listen", &listen])
            .args(&extra)
            .env_remove("VEILIG_CONFIG")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&db.data_dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = ServerProcess {
            child,
            port2,
            port,
            base: format!("http://{listen}"),
            db: db.clone(),
            binary: binary.to_owned(),
            stdout_file,
            stderr_file,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let agent = crate::http::agent();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("veilig exited early with {status}: {}", self.stderr());
            }
            if let Ok(res) = agent.get(&format!("{}/healthz", self.base)).call()
                && res.status().as_u16() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("veilig did not become ready: {}", self.stderr());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn stdout(&self) -> String {
        read(&self.stdout_file)
    }

    pub fn stderr(&self) -> String {
        read(&self.stderr_file)
    }

    /// Sends SIGTERM and waits for the exit status (at most 30 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.wait_exit(Duration::from_secs(30))
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("veilig did not stop within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs another subcommand of the same binary against the same database.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.binary)
            .args(args)
            .args(["--database-url", &self.db.url])
            .output()
            .unwrap_or_else(|e| panic!("cannot run veilig: {e}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}
