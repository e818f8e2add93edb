//! `veilig agent check`: the device's posture, collected here and judged by `veilig-device`.
//!
//! Each platform's collector is a plan: which of the system's own tools to run and which files to
//! read, handed to the engine's readers. The plans compile everywhere and take a [`Source`], so
//! the Windows and macOS ones are tested on these Linux machines with recorded outputs; only the
//! choice of plan depends on the platform the agent runs on.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use veilig_device::policy::{Policy, Verdict, evaluate};
use veilig_device::{Check, Item, Os, Report, eol, linux, macos, windows};

use std::path::{Path, PathBuf};

use crate::cli::{AgentCheckArgs, AgentEnrollArgs, AgentRunArgs};

/// Where a collector gets its facts: the real system, or recorded outputs in tests.
pub trait Source {
    /// A tool's standard output, when it ran at all (within a time limit).
    fn run(&self, cmd: &str, args: &[&str]) -> Option<String>;
    /// A file's first `max` bytes.
    fn read(&self, path: &str, max: usize) -> Option<Vec<u8>>;
    /// A file's modification time (Unix seconds).
    fn modified(&self, path: &str) -> Option<i64>;
    /// An environment variable.
    fn env(&self, name: &str) -> Option<String>;
}

fn text(src: &dyn Source, path: &str) -> Option<String> {
    src.read(path, 4 << 20).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// This machine: tools run with a 10-second limit, files read directly.
pub struct System;

impl Source for System {
    fn run(&self, cmd: &str, args: &[&str]) -> Option<String> {
        let mut child = Command::new(cmd).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().ok()?;
        // read both pipes while the tool runs, so a long answer never blocks it
        let mut so = child.stdout.take()?;
        let mut se = child.stderr.take()?;
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = so.by_ref().take(16 << 20).read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = se.by_ref().take(1 << 20).read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < Duration::from_secs(10) => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        };
        let out = out.join().ok()?;
        let err = err.join().ok()?;
        // an answer on standard output counts whatever the exit code ("inactive" from systemctl);
        // a tool that succeeded with nothing there answered on standard error (sysadminctl);
        // a failure with nothing on standard output is no answer
        if !out.trim().is_empty() {
            Some(out)
        } else if status.success() {
            Some(err)
        } else {
            None
        }
    }

    fn read(&self, path: &str, max: usize) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        std::fs::File::open(path).ok()?.take(max as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    }

    fn modified(&self, path: &str) -> Option<i64> {
        let t = std::fs::metadata(path).ok()?.modified().ok()?;
        t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs() as i64)
    }

    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// Linux: os-release, distro-info, apt/dnf history, ClamAV, lsblk, nft/ufw/firewalld, GNOME.
pub fn collect_linux(src: &dyn Source, now: i64, clamav_dir: &str) -> (Os, Vec<Check>) {
    let os = linux::os_release(&text(src, "/etc/os-release").unwrap_or_default());
    let distro = text(src, &format!("/usr/share/distro-info/{}.csv", os.name));
    let mut checks = vec![eol::check(&os, distro.as_deref(), now)];
    let apt = text(src, "/var/log/apt/history.log");
    let dnf = if apt.is_none() { src.run("dnf", &["history", "list"]) } else { None };
    checks.push(linux::updates(apt.as_deref(), dnf.as_deref(), now));
    // systemd's answer, or else (no systemd, freshclam started otherwise) the process list
    let freshclam = src
        .run("systemctl", &["is-active", "clamav-freshclam"])
        .map(|s| s.trim() == "active")
        .or_else(|| src.run("ps", &["-eo", "comm"]).map(|ps| ps.lines().any(|l| l.trim() == "freshclam")));
    let version = src.run("clamscan", &["--version"]).and_then(|v| linux::clamav_version(&v));
    let header = ["daily.cld", "daily.cvd"].iter().find_map(|f| src.read(&format!("{clamav_dir}/{f}"), 512));
    let (scanner, sigs) = linux::clamav(version.as_deref(), header.as_deref(), freshclam, now);
    checks.push(scanner);
    checks.push(sigs);
    checks.push(match src.run("lsblk", &["-J", "-o", "NAME,TYPE,MOUNTPOINTS"]) {
        Some(j) => linux::root_encryption(&j),
        None => Check::unknown(Item::DiskEncryption, "lsblk could not be run"),
    });
    checks.push(linux::firewall(
        src.run("nft", &["list", "ruleset"]).as_deref(),
        src.run("ufw", &["status"]).as_deref(),
        src.run("firewall-cmd", &["--state"]).as_deref(),
    ));
    checks.push(linux_screen_lock(src));
    (os, checks)
}

/// GNOME's screen lock. gsettings answers with its defaults even where no desktop runs, so it
/// is asked only inside a desktop session: the agent's own, or — as a system service — that of
/// the user signed in at the screen (through `runuser` and their session bus).
fn linux_screen_lock(src: &dyn Source) -> Check {
    const KEYS: [(&str, &str); 2] = [("org.gnome.desktop.session", "idle-delay"), ("org.gnome.desktop.screensaver", "lock-enabled")];
    if src.env("DISPLAY").is_some() || src.env("WAYLAND_DISPLAY").is_some() {
        let [delay, lock] = KEYS.map(|(schema, key)| src.run("gsettings", &["get", schema, key]));
        return linux::gnome_screen_lock(delay.as_deref(), lock.as_deref());
    }
    let sessions = src.run("loginctl", &["list-sessions", "--no-legend"]).map(|l| linux::session_ids(&l)).unwrap_or_default();
    let user = sessions.iter().find_map(|id| {
        src.run("loginctl", &["show-session", id, "-p", "Type", "-p", "Active", "-p", "Name", "-p", "User"])
            .and_then(|s| linux::graphical_session(&s))
    });
    let Some((name, uid)) = user else {
        return Check::unknown(Item::ScreenLock, "nobody is signed in at the screen (no desktop session to ask)");
    };
    let bus = format!("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{uid}/bus");
    let [delay, lock] = KEYS.map(|(schema, key)| src.run("runuser", &["-u", &name, "--", "env", &bus, "gsettings", "get", schema, key]));
    linux::gnome_screen_lock(delay.as_deref(), lock.as_deref())
}

fn powershell(src: &dyn Source, command: &str) -> Option<String> {
    src.run("powershell.exe", &["-NoProfile", "-NonInteractive", "-Command", command]).filter(|o| !o.trim().is_empty())
}

/// Windows: CIM/WMI, Defender, BitLocker, the firewall profiles and hotfixes through PowerShell,
/// the screen saver from the registry.
pub fn collect_windows(src: &dyn Source, now: i64) -> (Os, Vec<Check>) {
    let os = powershell(src, "Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber | ConvertTo-Json")
        .and_then(|j| windows::os(&j).ok())
        .unwrap_or_else(|| Os { family: "windows".into(), ..Os::default() });
    let mut checks = vec![eol::check(&os, None, now)];
    checks.push(windows::updates(powershell(src, "Get-HotFix | Select-Object HotFixID,InstalledOn | ConvertTo-Json").as_deref(), now));
    let (scanner, sigs) = windows::scanner(
        powershell(src, "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | Select-Object displayName,productState | ConvertTo-Json").as_deref(),
        powershell(src, "Get-MpComputerStatus | Select-Object AntivirusEnabled,RealTimeProtectionEnabled,AntivirusSignatureAge,AMRunningMode | ConvertTo-Json").as_deref(),
    );
    checks.push(scanner);
    checks.push(sigs);
    checks.push(windows::bitlocker(
        powershell(src, "Get-BitLockerVolume -MountPoint $env:SystemDrive | Select-Object MountPoint,ProtectionStatus | ConvertTo-Json")
            .as_deref(),
    ));
    checks.push(windows::firewall(powershell(src, "Get-NetFirewallProfile | Select-Object Name,Enabled | ConvertTo-Json").as_deref()));
    checks.push(windows::screen_lock(src.run("reg.exe", &["query", r"HKCU\Control Panel\Desktop"]).as_deref()));
    (os, checks)
}

/// macOS: sw_vers, softwareupdate, XProtect, fdesetup, the application firewall, sysadminctl.
pub fn collect_macos(src: &dyn Source, now: i64) -> (Os, Vec<Check>) {
    let os = macos::sw_vers(&src.run("sw_vers", &[]).unwrap_or_default());
    let mut checks = vec![eol::check(&os, None, now)];
    checks.push(macos::updates(src.run("softwareupdate", &["--history"]).as_deref(), now));
    // Sequoia keeps XProtect under /var/protected; older systems in CoreServices
    let bundles = ["/var/protected/xprotect/XProtect.bundle", "/Library/Apple/System/Library/CoreServices/XProtect.bundle"];
    let bundle = bundles.iter().find(|b| src.modified(&format!("{b}/Contents/Info.plist")).is_some());
    let version = bundle.and_then(|b| {
        src.run("defaults", &["read", &format!("{b}/Contents/Info.plist"), "CFBundleShortVersionString"]).map(|v| v.trim().to_owned())
    });
    let modified = bundle.and_then(|b| src.modified(&format!("{b}/Contents/Info.plist")));
    let (scanner, sigs) = macos::xprotect(version.as_deref().filter(|v| !v.is_empty()), modified, now);
    checks.push(scanner);
    checks.push(sigs);
    checks.push(macos::filevault(src.run("fdesetup", &["status"]).as_deref()));
    checks.push(macos::firewall(src.run("/usr/libexec/ApplicationFirewall/socketfilterfw", &["--getglobalstate"]).as_deref()));
    checks.push(macos::screen_lock(src.run("sysadminctl", &["-screenLock", "status"]).as_deref()));
    (os, checks)
}

pub fn check(args: &AgentCheckArgs) -> ExitCode {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (os, checks) = match std::env::consts::OS {
        "windows" => collect_windows(&System, now),
        "macos" => collect_macos(&System, now),
        _ => collect_linux(&System, now, &args.clamav_dir),
    };
    let hostname = text(&System, "/etc/hostname")
        .or_else(|| System.env("COMPUTERNAME"))
        .or_else(|| System.run("hostname", &[]))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
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

// ---- Enrolment and reporting ------------------------------------------------------------------

/// What the agent keeps in its folder besides the key and certificates.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct AgentState {
    device_id: String,
    report_url: String,
    /// The last sequence number used; the server refuses any report that does not exceed it.
    seq: i64,
}

/// The agent's folder: `/var/lib/veilig-agent`, `%ProgramData%\Veilig\agent` or
/// `/Library/Application Support/Veilig/agent`, unless `--dir` says otherwise.
fn agent_dir(dir: &Option<PathBuf>) -> PathBuf {
    if let Some(d) = dir {
        return d.clone();
    }
    match std::env::consts::OS {
        "windows" => PathBuf::from(std::env::var("ProgramData").unwrap_or_else(|_| r"C:\ProgramData".into())).join(r"Veilig\agent"),
        "macos" => PathBuf::from("/Library/Application Support/Veilig/agent"),
        _ => PathBuf::from("/var/lib/veilig-agent"),
    }
}

/// Writes `text` to `path` through a temporary file, readable by the owner only where the
/// platform has modes (on Windows the folder's ACL, set at installation, protects it).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn hostname() -> String {
    text(&System, "/etc/hostname")
        .or_else(|| System.env("COMPUTERNAME"))
        .or_else(|| System.run("hostname", &[]))
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "device".into())
}

/// Runs every check of this platform: the report the agent sends.
fn collect(clamav_dir: &str) -> Report {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (os, checks) = match std::env::consts::OS {
        "windows" => collect_windows(&System, now),
        "macos" => collect_macos(&System, now),
        _ => collect_linux(&System, now, clamav_dir),
    };
    Report { agent_version: env!("CARGO_PKG_VERSION").into(), hostname: hostname(), os, checked_at: now, checks }
}

fn loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host).trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn http_agent(roots: ureq::tls::RootCerts, client: Option<ureq::tls::ClientCert>) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder().root_certs(roots).client_cert(client).build();
    ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
}

/// The message of a `{"error": {"code", "message"}}` answer, or the status.
fn error_message(status: u16, body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("the server answered {status}"))
}

pub fn enroll(args: &AgentEnrollArgs) -> ExitCode {
    match enroll_inner(args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("veilig agent enroll: {e}");
            ExitCode::from(2)
        }
    }
}

fn enroll_inner(args: &AgentEnrollArgs) -> Result<String, String> {
    let base = args.url.trim_end_matches('/');
    if !base.starts_with("https://") && !loopback_http(base) {
        return Err(format!("{base}: use the portal's https:// address (plain http only on this machine)"));
    }
    let dir = agent_dir(&args.dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    let roots = match &args.ca_file {
        Some(f) => {
            let pem = std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let cert = ureq::tls::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", f.display()))?;
            ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![cert]))
        }
        None => ureq::tls::RootCerts::WebPki,
    };
    let host = hostname();
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, host.as_str());
    let csr = params.serialize_request(&key).and_then(|c| c.pem()).map_err(|e| e.to_string())?;
    let body = serde_json::json!({ "token": args.token.trim(), "csr": csr, "hostname": host });
    let mut resp = http_agent(roots, None)
        .post(&format!("{base}/api/v1/agent/enroll"))
        .send_json(&body)
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(error_message(status, &text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))?;
    let field = |k: &str| v[k].as_str().map(str::to_owned).ok_or_else(|| format!("unexpected answer: no {k}"));
    let state = AgentState { device_id: field("device_id")?, report_url: field("report_url")?, seq: 0 };
    let w = |name: &str, text: &str| {
        write_private(&dir.join(name), text).map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    w("key.pem", &key.serialize_pem())?;
    w("cert.pem", &field("certificate")?)?;
    w("ca.pem", &field("ca")?)?;
    w("agent.json", &serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?)?;
    Ok(format!(
        "enrolled as device {} in {}; reports go to {}\nstart reporting with: veilig agent run",
        state.device_id,
        dir.display(),
        state.report_url
    ))
}

struct Enrolled {
    dir: PathBuf,
    state: AgentState,
    agent: ureq::Agent,
}

fn load(dir: &Option<PathBuf>) -> Result<Enrolled, String> {
    let dir = agent_dir(dir);
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| format!("{}: {e} (enrol first: veilig agent enroll URL --token TOKEN)", dir.join(name).display()))
    };
    let state: AgentState = serde_json::from_slice(&read("agent.json")?).map_err(|e| format!("agent.json: {e}"))?;
    let ca = ureq::tls::Certificate::from_pem(&read("ca.pem")?).map_err(|e| format!("ca.pem: {e}"))?;
    let cert = ureq::tls::Certificate::from_pem(&read("cert.pem")?).map_err(|e| format!("cert.pem: {e}"))?;
    let key = ureq::tls::PrivateKey::from_pem(&read("key.pem")?).map_err(|e| format!("key.pem: {e}"))?;
    let client = ureq::tls::ClientCert::new_with_certs(&[cert], key);
    let agent = http_agent(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![ca])), Some(client));
    Ok(Enrolled { dir, state, agent })
}

/// One report: the sequence number is stored before sending, so it is never used twice.
fn report_once(e: &mut Enrolled, clamav_dir: &str) -> Result<String, String> {
    let report = collect(clamav_dir);
    e.state.seq += 1;
    let json = serde_json::to_string_pretty(&e.state).map_err(|x| x.to_string())?;
    write_private(&e.dir.join("agent.json"), &json).map_err(|x| format!("cannot write agent.json: {x}"))?;
    let body = serde_json::json!({ "seq": e.state.seq, "report": report });
    let url = format!("{}/agent/v1/report", e.state.report_url.trim_end_matches('/'));
    let mut resp = e.agent.post(&url).send_json(&body).map_err(|x| format!("cannot reach {url}: {x}"))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().map_err(|x| x.to_string())?;
    if status != 200 {
        return Err(error_message(status, &text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|x| format!("unexpected answer: {x}"))?;
    let mut out = format!("{}: {}", report.hostname, v["verdict"].as_str().unwrap_or("?"));
    for f in v["findings"].as_array().into_iter().flatten() {
        out.push_str(&format!("\n  - {}", f["en"].as_str().unwrap_or_default()));
    }
    Ok(out)
}

pub fn run(args: &AgentRunArgs) -> ExitCode {
    let mut enrolled = match load(&args.dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("veilig agent run: {e}");
            return ExitCode::from(2);
        }
    };
    if args.once {
        return match report_once(&mut enrolled, &args.clamav_dir) {
            Ok(msg) => {
                println!("{msg}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("veilig agent run: {e}");
                ExitCode::from(1)
            }
        };
    }
    let interval = Duration::from_secs(args.interval_minutes.clamp(1, 24 * 60) * 60);
    let mut failures = 0u32;
    loop {
        let wait = match report_once(&mut enrolled, &args.clamav_dir) {
            Ok(msg) => {
                failures = 0;
                println!("{msg}");
                interval
            }
            Err(e) => {
                // back off on failures (the server down, the network away): 1, 2, 4 … minutes
                failures = failures.saturating_add(1);
                eprintln!("veilig agent run: {e}");
                Duration::from_secs(60u64.saturating_mul(1 << failures.min(6))).min(interval)
            }
        };
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    //! The Windows and macOS plans against outputs recorded in veilig-device's tests.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use veilig_device::Status;

    struct Recorded(Vec<(&'static str, &'static str)>);

    fn file(name: &str) -> String {
        std::fs::read_to_string(format!("{}/../veilig-device/tests/it/recorded/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    impl Source for Recorded {
        fn run(&self, cmd: &str, args: &[&str]) -> Option<String> {
            let line = format!("{cmd} {}", args.join(" "));
            self.0.iter().find(|(needle, _)| line.contains(needle)).map(|(_, f)| file(f))
        }
        fn read(&self, _path: &str, _max: usize) -> Option<Vec<u8>> {
            None
        }
        fn modified(&self, path: &str) -> Option<i64> {
            path.starts_with("/var/protected/xprotect").then_some(1_795_000_000)
        }
        fn env(&self, _name: &str) -> Option<String> {
            None
        }
    }

    const NOW: i64 = 1_795_780_800;

    #[test]
    fn the_windows_plan_reads_what_powershell_answers() {
        let src = Recorded(vec![
            ("Win32_OperatingSystem", "windows-os.json"),
            ("Get-HotFix", "windows-hotfix.json"),
            ("AntiVirusProduct", "windows-securitycenter.json"),
            ("Get-MpComputerStatus", "windows-defender.json"),
            ("Get-BitLockerVolume", "windows-bitlocker-off.json"),
            ("Get-NetFirewallProfile", "windows-firewall.json"),
            ("reg.exe query", "windows-reg-desktop.txt"),
        ]);
        let (os, checks) = collect_windows(&src, NOW);
        assert_eq!(os.build, "19045");
        let status: Vec<(Item, Status)> = checks.iter().map(|c| (c.item, c.status)).collect();
        assert_eq!(
            status,
            [
                (Item::OsSupported, Status::NotOk),
                (Item::Updates, Status::Ok),
                (Item::Scanner, Status::Ok),
                (Item::Signatures, Status::Ok),
                (Item::DiskEncryption, Status::NotOk),
                (Item::Firewall, Status::NotOk),
                (Item::ScreenLock, Status::Ok),
            ]
        );
        // nothing answered: every item unknown, with a reason
        let (_, none) = collect_windows(&Recorded(vec![]), NOW);
        assert!(none.iter().all(|c| c.status == Status::Unknown && !c.detail.is_empty()), "{none:?}");
    }

    /// Recorded answers given inline.
    struct Inline(Vec<(&'static str, &'static str)>);

    impl Source for Inline {
        fn run(&self, cmd: &str, args: &[&str]) -> Option<String> {
            let line = format!("{cmd} {}", args.join(" "));
            self.0.iter().find(|(needle, _)| line.contains(needle)).map(|(_, out)| (*out).to_owned())
        }
        fn read(&self, _path: &str, _max: usize) -> Option<Vec<u8>> {
            None
        }
        fn modified(&self, _path: &str) -> Option<i64> {
            None
        }
        fn env(&self, _name: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn as_a_service_the_linux_plan_asks_the_desktop_of_the_user_at_the_screen() {
        let src = Inline(vec![
            ("list-sessions", "     c1  120 gdm  seat0 tty1\n      2 1000 anna seat0 tty2\n"),
            ("show-session c1", "Type=wayland\nActive=no\nName=gdm\nUser=120\n"),
            ("show-session 2", "Type=wayland\nActive=yes\nName=anna\nUser=1000\n"),
            (
                "runuser -u anna -- env DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus gsettings get org.gnome.desktop.session idle-delay",
                "uint32 300\n",
            ),
            (
                "runuser -u anna -- env DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus gsettings get org.gnome.desktop.screensaver lock-enabled",
                "true\n",
            ),
        ]);
        let c = linux_screen_lock(&src);
        assert_eq!((c.status, c.value), (Status::Ok, Some(5)), "{c:?}");
        // nobody at the screen: unknown, with the reason
        let c = linux_screen_lock(&Inline(vec![("list-sessions", "")]));
        assert_eq!(c.status, Status::Unknown);
        assert!(c.detail.contains("nobody is signed in"), "{}", c.detail);
    }

    #[test]
    fn the_macos_plan_reads_what_the_tools_answer() {
        let src = Recorded(vec![
            ("sw_vers", "macos-sw_vers.txt"),
            ("softwareupdate --history", "macos-softwareupdate-history.txt"),
            ("fdesetup status", "macos-fdesetup.txt"),
            ("socketfilterfw", "macos-socketfilterfw.txt"),
            ("sysadminctl", "macos-sysadminctl.txt"),
            ("CFBundleShortVersionString", "macos-xprotect-version.txt"),
        ]);
        let (os, checks) = collect_macos(&src, NOW);
        assert_eq!(os.version, "15.1.1");
        let status: Vec<(Item, Status)> = checks.iter().map(|c| (c.item, c.status)).collect();
        assert_eq!(
            status,
            [
                (Item::OsSupported, Status::Ok),
                (Item::Updates, Status::Ok),
                (Item::Scanner, Status::Ok),
                (Item::Signatures, Status::Ok),
                (Item::DiskEncryption, Status::Ok),
                (Item::Firewall, Status::NotOk),
                (Item::ScreenLock, Status::Ok),
            ]
        );
        assert_eq!(checks[3].value, Some(9));
    }
}
