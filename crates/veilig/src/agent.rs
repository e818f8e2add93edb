//! `veilig agent check`: the device's posture, collected here and judged by `veilig-device`.
//!
//! The collectors only run the system's own tools and read its files (each with a time limit);
//! everything they return is read by the engine. This build collects on Linux; on other systems
//! every item is *unknown* with that reason (the Windows and macOS readers exist in the engine and
//! are tested on recorded outputs, their collectors are still to come).

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use veilig_device::policy::{Policy, Verdict, evaluate};
use veilig_device::{Check, Item, Os, Report};

use crate::cli::AgentCheckArgs;

/// Runs a tool with a time limit; its standard output when it ran at all.
fn run(cmd: &str, args: &[&str], limit: Duration) -> Option<String> {
    let mut child = Command::new(cmd).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    Some(out)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The first 512 bytes of the newest ClamAV daily database.
fn clamav_header(dir: &str) -> Option<Vec<u8>> {
    ["daily.cld", "daily.cvd"].iter().find_map(|f| {
        let mut buf = vec![0u8; 512];
        let mut file = std::fs::File::open(format!("{dir}/{f}")).ok()?;
        let n = file.read(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    })
}

#[cfg(target_os = "linux")]
fn collect(now: i64, clamav_dir: &str) -> (Os, Vec<Check>) {
    use veilig_device::{eol, linux};
    let t = Duration::from_secs(10);
    let os = linux::os_release(&read("/etc/os-release").unwrap_or_default());
    let distro = read(&format!("/usr/share/distro-info/{}.csv", os.name));
    let mut checks = vec![eol::check(&os, distro.as_deref(), now)];
    let dnf = if read("/var/log/apt/history.log").is_none() { run("dnf", &["history", "list"], t) } else { None };
    checks.push(linux::updates(read("/var/log/apt/history.log").as_deref(), dnf.as_deref(), now));
    let freshclam = run("systemctl", &["is-active", "clamav-freshclam"], t).map(|s| s.trim() == "active");
    let (scanner, sigs) = linux::clamav(clamav_header(clamav_dir).as_deref(), freshclam, now);
    checks.push(scanner);
    checks.push(sigs);
    checks.push(match run("lsblk", &["-J", "-o", "NAME,TYPE,MOUNTPOINTS"], t) {
        Some(j) => linux::root_encryption(&j),
        None => Check::unknown(Item::DiskEncryption, "lsblk could not be run"),
    });
    checks.push(linux::firewall(
        run("nft", &["list", "ruleset"], t).as_deref(),
        run("ufw", &["status"], t).as_deref(),
        run("firewall-cmd", &["--state"], t).as_deref(),
    ));
    // gsettings answers with its defaults even where no desktop runs: ask only inside a session
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    checks.push(if desktop {
        linux::gnome_screen_lock(
            run("gsettings", &["get", "org.gnome.desktop.session", "idle-delay"], t).as_deref(),
            run("gsettings", &["get", "org.gnome.desktop.screensaver", "lock-enabled"], t).as_deref(),
        )
    } else {
        Check::unknown(Item::ScreenLock, "no desktop session (run the agent as the signed-in user to check the screen lock)")
    });
    (os, checks)
}

#[cfg(not(target_os = "linux"))]
fn collect(_now: i64, _clamav_dir: &str) -> (Os, Vec<Check>) {
    let reason = "this build of the agent collects on Linux only";
    let items = [Item::OsSupported, Item::Updates, Item::Scanner, Item::Signatures, Item::DiskEncryption, Item::Firewall, Item::ScreenLock];
    (Os { family: std::env::consts::OS.into(), ..Os::default() }, items.iter().map(|i| Check::unknown(*i, reason)).collect())
}

pub fn check(args: &AgentCheckArgs) -> ExitCode {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (os, checks) = collect(now, &args.clamav_dir);
    let hostname = read("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let report = Report { agent_version: env!("CARGO_PKG_VERSION").into(), hostname, os, checked_at: now, checks };
    let verdict = evaluate(&report, &Policy::default(), now, now);
    if args.json {
        println!("{}", serde_json::json!({"report": report, "compliance": verdict}));
    } else {
        println!("{} — {} {} ({})", report.hostname, report.os.name, report.os.version, report.os.build);
        for c in &report.checks {
            let mark = match c.status {
                veilig_device::Status::Ok => "ok     ",
                veilig_device::Status::NotOk => "NOT OK ",
                veilig_device::Status::Unknown => "unknown",
            };
            println!("  {mark} {:<16} {}", format!("{:?}", c.item), c.detail);
        }
        let word = match verdict.verdict {
            Verdict::Compliant => "compliant",
            Verdict::NotCompliant => "not compliant",
            Verdict::Unknown => "unknown",
        };
        println!("\n{word} with the default policy");
        for f in &verdict.findings {
            println!("  - {}", f.en);
        }
    }
    ExitCode::SUCCESS
}
