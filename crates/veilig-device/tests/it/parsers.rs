//! Each platform's outputs, read into posture items.

use crate::{NOW, recorded};
use expect_test::expect;
use veilig_device::{Item, Status, eol, linux, macos, windows};

fn show(c: &veilig_device::Check) -> String {
    format!("{:?} {:?} {:?} {}", c.item, c.status, c.value, c.detail)
}

#[test]
fn linux_outputs() {
    let os = linux::os_release(&recorded("linux-os-release.txt"));
    assert_eq!((os.name.as_str(), os.version.as_str(), os.build.as_str()), ("debian", "12", "bookworm"));
    let supported = eol::check(&os, Some(&recorded("linux-distro-info-debian.csv")), NOW);
    expect!["OsSupported Ok Some(580) debian bookworm (distro-info-data): supported until 2028-06-30"].assert_eq(&show(&supported));
    // without distro-info-data the own table answers the same
    assert_eq!(eol::check(&os, None, NOW).status, Status::Ok);

    let updates = linux::updates(Some(&recorded("linux-apt-history.log")), None, NOW);
    expect![[r#"Updates Ok Some(202) last update 202 days ago"#]].assert_eq(&show(&updates));
    let dnf = "ID     | Command line             | Date and time    | Action(s)      | Altered\n-------\n    14 | upgrade -y               | 2026-11-20 06:02 | Upgrade        |   31\n    13 | install clamav           | 2026-10-01 10:11 | Install        |    4\n";
    assert_eq!(linux::updates(None, Some(dnf), NOW).value, Some(7));
    assert_eq!(linux::updates(Some("garbage"), None, NOW).status, Status::Unknown);

    expect![[r#"DiskEncryption Ok None the root file system is on an encrypted (LUKS) device"#]]
        .assert_eq(&show(&linux::root_encryption(&recorded("linux-lsblk-luks.json"))));
    expect![[r#"DiskEncryption NotOk None the root file system is not encrypted"#]]
        .assert_eq(&show(&linux::root_encryption(&recorded("linux-lsblk-plain.json"))));
    assert_eq!(linux::root_encryption("{nope").status, Status::Unknown);

    expect![[r#"Firewall Ok None nftables filters incoming traffic"#]].assert_eq(&show(&linux::firewall(
        Some(&recorded("linux-nft-ruleset.txt")),
        None,
        None,
    )));
    assert_eq!(linux::firewall(Some(""), None, None).status, Status::NotOk);
    // a drop in another chain (Docker's isolation chains) is no filter on what comes in
    let docker = "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n\tchain DOCKER-ISOLATION-STAGE-2 {\n\t\toifname \"docker0\" drop\n\t}\n}\n";
    assert_eq!(linux::firewall(Some(docker), None, None).status, Status::NotOk);
    // an inactive ufw does not hide firewalld
    assert_eq!(linux::firewall(None, Some("Status: inactive\n"), Some("running\n")).status, Status::Ok);
    assert_eq!(linux::firewall(None, Some("Status: inactive\n"), None).status, Status::NotOk);
    assert_eq!(linux::firewall(None, None, Some("running\n")).status, Status::Ok);
    assert_eq!(linux::firewall(None, None, None).status, Status::Unknown);

    assert_eq!(linux::gnome_screen_lock(Some("uint32 300"), Some("true")).value, Some(5));
    assert_eq!(linux::gnome_screen_lock(Some("uint32 300"), Some("false")).status, Status::NotOk);
    assert_eq!(linux::gnome_screen_lock(None, None).status, Status::Unknown);
    // the signed-in desktop user, for an agent that runs as a service
    assert_eq!(linux::session_ids("      2 1000 anna seat0 tty2\n     c1  120 gdm  seat0 tty1\n"), ["2", "c1"]);
    let anna = "Type=wayland\nActive=yes\nName=anna\nUser=1000\n";
    assert_eq!(linux::graphical_session(anna), Some(("anna".to_owned(), 1000)));
    assert_eq!(linux::graphical_session("Type=tty\nActive=yes\nName=anna\nUser=1000\n"), None, "a text console has no screen lock");
    assert_eq!(linux::graphical_session("Type=x11\nActive=no\nName=bert\nUser=1001\n"), None, "a session in the background");
    assert_eq!(linux::graphical_session("Type=x11\nActive=yes\nName=--help\nUser=0\n"), None);
}

/// A ClamAV database header with a chosen build time, as freshclam writes it.
fn cvd_header(build_epoch: i64) -> Vec<u8> {
    let mut h = format!("ClamAV-VDB:26 Nov 2026 09-23 +0000:27469:2071052:90:X:X:raynman:{build_epoch}").into_bytes();
    h.resize(512, b' ');
    h
}

#[test]
fn clamav_freshness_from_the_database_header() {
    let (scanner, sigs) = linux::clamav(Some("1.4.6"), Some(&cvd_header(NOW - 3 * 86_400)), Some(true), NOW);
    assert_eq!(scanner.status, Status::Ok);
    assert_eq!((sigs.status, sigs.value), (Status::Ok, Some(3)));
    let (_, old) = linux::clamav(Some("1.4.6"), Some(&cvd_header(NOW - 40 * 86_400)), Some(true), NOW);
    assert_eq!(old.value, Some(40));
    let (stopped, _) = linux::clamav(Some("1.4.6"), Some(&cvd_header(NOW)), Some(false), NOW);
    assert_eq!(stopped.status, Status::NotOk);
    let (none, _) = linux::clamav(None, None, None, NOW);
    assert_eq!(none.status, Status::NotOk);
    let (bad, _) = linux::clamav(None, Some(b"\x00\x01 not a database"), Some(true), NOW);
    assert_eq!(bad.status, Status::Unknown);
    assert_eq!(linux::clamav_build_time(&cvd_header(1_700_000_000)), Ok(1_700_000_000));
    assert!(scanner.detail.contains("ClamAV 1.4.6"), "{}", scanner.detail);
    // installed from the distribution, but the database never downloaded
    let (no_db, _) = linux::clamav(Some("1.4.6"), None, None, NOW);
    assert_eq!(
        (no_db.status, no_db.detail.as_str()),
        (Status::NotOk, "ClamAV 1.4.6 is installed but has no virus database (run freshclam)")
    );
    assert_eq!(linux::clamav_version("ClamAV 1.4.6\n").as_deref(), Some("1.4.6"));
    assert_eq!(linux::clamav_version("ClamAV 1.0.7/27469/Wed Nov 26 09:23:00 2026").as_deref(), Some("1.0.7"));
    assert_eq!(linux::clamav_version("bash: clamscan: command not found"), None);
}

#[test]
fn windows_outputs() {
    // Defender is passive (off in Security Center) because ESET is on and up to date
    let (scanner, sigs) = windows::scanner(Some(&recorded("windows-securitycenter.json")), Some(&recorded("windows-defender.json")));
    expect![[r#"Scanner Ok None ESET Security is on"#]].assert_eq(&show(&scanner));
    expect![[r#"Signatures Ok Some(9) Defender's signatures are 9 days old"#]].assert_eq(&show(&sigs));
    let ps = windows::product_state(397568);
    assert!(ps.on && ps.up_to_date && ps.microsoft);
    let ps = windows::product_state(397584);
    assert!(ps.on && !ps.up_to_date);
    assert!(!windows::product_state(393472).on);
    let (none, _) = windows::scanner(None, None);
    assert_eq!(none.status, Status::Unknown);

    expect![[r#"DiskEncryption NotOk None BitLocker is off on the system drive"#]]
        .assert_eq(&show(&windows::bitlocker(Some(&recorded("windows-bitlocker-off.json")))));
    assert_eq!(windows::bitlocker(Some(r#"{"MountPoint":"C:","ProtectionStatus":"On"}"#)).status, Status::Ok);
    expect![[r#"Firewall NotOk None the firewall is off for: Public"#]]
        .assert_eq(&show(&windows::firewall(Some(&recorded("windows-firewall.json")))));
    expect![[r#"Updates Ok Some(409) last update 409 days ago"#]]
        .assert_eq(&show(&windows::updates(Some(&recorded("windows-hotfix.json")), NOW)));
    assert_eq!(windows::screen_lock(Some(&recorded("windows-reg-desktop.txt"))).value, Some(10));

    // Windows 10 22H2: support ended on 14 October 2025
    let os = windows::os(&recorded("windows-os.json")).unwrap();
    expect![[r#"OsSupported NotOk Some(-409) Windows 10 22H2: support ended on 2025-10-14"#]].assert_eq(&show(&eol::check(&os, None, NOW)));
    let unknown =
        veilig_device::Os { family: "windows".into(), name: "Windows 12".into(), version: "10.0.30000".into(), build: "30000".into() };
    assert_eq!(eol::check(&unknown, None, NOW).status, Status::Unknown);
    assert!(windows::os("not json").is_err());
}

#[test]
fn macos_outputs() {
    let os = macos::sw_vers(&recorded("macos-sw_vers.txt"));
    assert_eq!((os.name.as_str(), os.version.as_str(), os.build.as_str()), ("macOS", "15.1.1", "24B91"));
    assert_eq!(eol::check(&os, None, NOW).status, Status::Ok);
    let old = veilig_device::Os { family: "macos".into(), name: "macOS".into(), version: "13.7.8".into(), build: "22H730".into() };
    assert_eq!(eol::check(&old, None, NOW).status, Status::NotOk);
    assert_eq!(macos::filevault(Some(&recorded("macos-fdesetup.txt"))).status, Status::Ok);
    assert_eq!(macos::firewall(Some(&recorded("macos-socketfilterfw.txt"))).status, Status::NotOk);
    expect![[r#"Updates Ok Some(738) last update 738 days ago"#]]
        .assert_eq(&show(&macos::updates(Some(&recorded("macos-softwareupdate-history.txt")), NOW)));
    assert_eq!(macos::screen_lock(Some(&recorded("macos-sysadminctl.txt"))).value, Some(5));
    let (scanner, sigs) = macos::xprotect(Some("5279"), Some(NOW - 10 * 86_400), NOW);
    assert_eq!((scanner.status, sigs.value), (Status::Ok, Some(10)));
    assert_eq!(macos::xprotect(None, None, NOW).0.item, Item::Scanner);
}
