//! Running `nft` on this host: the table of blocks, adding and removing one, and reading the
//! set back to tell whether a change took effect.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::AsyncWriteExt;
use veilig_monitor::response;

/// The `nft` program; `Nft::default()` finds it on the `PATH`.
#[derive(Debug, Clone)]
pub struct Nft {
    program: PathBuf,
}

impl Default for Nft {
    fn default() -> Self {
        Nft { program: PathBuf::from("nft") }
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl Nft {
    pub fn new(program: impl Into<PathBuf>) -> Nft {
        Nft { program: program.into() }
    }

    /// Runs a script with `nft -f -` (one transaction).
    pub async fn apply(&self, script: &str) -> Result<(), String> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        // nft may exit before reading everything (a refused change): then its own words, not
        // the broken pipe, say what went wrong.
        let written = match child.stdin.take() {
            Some(mut stdin) => stdin.write_all(script.as_bytes()).await,
            None => Ok(()),
        };
        let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| "nft did not finish within 10 seconds".to_owned())?
            .map_err(|e| format!("nft: {e}"))?;
        if !out.status.success() {
            return Err(format!("nft refused the change: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        written.map_err(|e| format!("cannot write to nft: {e}"))
    }

    /// Whether the set that holds `net` lists it.
    pub async fn contains(&self, net: IpNet) -> Result<bool, String> {
        let out = tokio::time::timeout(TIMEOUT, tokio::process::Command::new(&self.program).args(response::nft_list_args(net)).output())
            .await
            .map_err(|_| "nft did not finish within 10 seconds".to_owned())?
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        if !out.status.success() {
            return Err(format!("nft cannot list the set: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(response::listing_contains(&String::from_utf8_lossy(&out.stdout), net))
    }

    /// Adds a block and reads it back: `applied`, or `failed: why`.
    pub async fn block(&self, net: IpNet, secs: u64) -> String {
        if let Err(e) = self.apply(&response::nft_add(net, secs)).await {
            return format!("failed: {e}");
        }
        match self.contains(net).await {
            Ok(true) => "applied".to_owned(),
            Ok(false) => "failed: nft accepted the block but does not list it".to_owned(),
            Err(e) => format!("failed: {e}"),
        }
    }

    /// Removes a block and reads the set back: `removed`, or `failed: why`.
    pub async fn unblock(&self, net: IpNet) -> String {
        if let Err(e) = self.apply(&response::nft_delete(net)).await {
            // Gone already (its timeout passed, or someone flushed the set) is what we wanted.
            if !matches!(self.contains(net).await, Ok(false)) {
                return format!("failed: {e}");
            }
        }
        match self.contains(net).await {
            Ok(false) => "removed".to_owned(),
            Ok(true) => "failed: nft still lists it".to_owned(),
            Err(e) => format!("failed: {e}"),
        }
    }
}
