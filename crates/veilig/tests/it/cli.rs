use crate::veilig;

#[test]
fn config_check_lists_every_problem_and_exits_2() {
    let dir = veilig_testkit::temp_dir("cfg");
    let file = dir.join("veilig.toml");
    std::fs::write(&file, "[server]\nlisten = \"0.0.0.0:443\"\nlanguage = \"fr\"\ncolour = \"blue\"\n[log]\nformat = \"yaml\"\n").unwrap();
    let (code, _, err) = veilig(&["config", "check", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    for needle in
        ["server.language", "server.colour: unknown setting", "log.format", "server.listen: refusing to serve 0.0.0.0:443 without TLS"]
    {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(err.contains(file.to_str().unwrap()), "each problem names the file");
}

#[test]
fn config_check_accepts_a_valid_file_and_flags_win() {
    let dir = veilig_testkit::temp_dir("cfg");
    let file = dir.join("veilig.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9999\"\n").unwrap();
    let (code, out, err) = veilig(&["config", "check", "--config", file.to_str().unwrap(), "--listen", "127.0.0.1:7777"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("127.0.0.1:7777") && !out.contains("9999"), "{out}");
}

#[test]
fn environment_variables_configure_too() {
    let out = std::process::Command::new(crate::BIN)
        .args(["config", "check"])
        .env("VEILIG_LISTEN", "127.0.0.1:6543")
        .env("VEILIG_MAX_BODY_BYTES", "12")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("VEILIG_MAX_BODY_BYTES: server.max_body_bytes"), "{err}");
}

#[test]
fn the_example_configuration_is_valid() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../veilig.example.toml");
    let (code, _, err) = veilig(&["config", "check", "--config", example.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_2() {
    let (code, _, err) = veilig(&["serve", "--listen", "127.0.0.1:0", "--database-url", "postgres://root@127.0.0.1:1/none"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("veilig: cannot open the database"), "{err}");
}

#[test]
fn a_port_in_use_is_one_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let db = crate::database();
    let (code, _, err) = veilig(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url]);
    assert_eq!(code, 2);
    assert!(err.trim().ends_with("the port is already in use"), "{err}");
    assert_eq!(err.trim().lines().filter(|l| l.starts_with("veilig:")).count(), 1, "{err}");
}

#[test]
fn serve_refuses_a_public_address_without_tls() {
    let (code, _, err) = veilig(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 2);
    assert!(err.contains("without TLS"), "{err}");
}

#[test]
fn audit_verify_without_a_database_says_so() {
    let dir = veilig_testkit::temp_dir("empty");
    let (code, _, err) = veilig(&["audit", "verify", "--data", dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("there is no database"), "{err}");
    assert!(!dir.join("veilig.db").exists(), "verify must not create an empty database");
}

#[test]
fn monitor_replay_finds_attacks_and_survives_garbage() {
    let dir = veilig_testkit::temp_dir("replay");
    let log = dir.join("fw.log");
    let mut text = Vec::new();
    for i in 0..40u32 {
        text.extend(format!("Nov 27 06:00:{:02} gw kernel: [1.0] FW-DROP IN=eth0 OUT= SRC=203.0.113.9 DST=198.51.100.1 LEN=40 PROTO=TCP SPT=4000 DPT={} SYN\n", i % 60, 1000 + i).into_bytes());
    }
    for i in 0..12u32 {
        text.extend(
            format!(
                "Nov 27 06:01:{:02} gw sshd[9]: Failed password for invalid user u{i} from 192.0.2.20 port {} ssh2\n",
                i * 3,
                40000 + i
            )
            .into_bytes(),
        );
    }
    text.extend(b"\xff\xfe binary \x00 garbage\n");
    text.extend(vec![b'x'; 200_000]);
    text.extend(b"\nNov 27 06:02:00 gw CRON[1]: (root) CMD (true)\n<13>truncated");
    std::fs::write(&log, text).unwrap();
    let (code, out, err) = veilig(&["monitor", "replay", "--json", "--year", "2026", log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let alerts: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rules: Vec<&str> = alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"port_scan_fast") && rules.contains(&"ssh_brute_force") && rules.contains(&"password_spraying"), "{rules:?}");
    let scan = alerts.iter().find(|a| a["rule"] == "port_scan_fast").unwrap();
    assert_eq!(scan["source"], "203.0.113.9");
    assert_eq!(scan["first_seen"], "2026-11-27T06:00:00Z");
    for key in ["rule", "severity", "source", "user", "first_seen", "last_seen", "count", "summary", "example"] {
        assert!(scan.get(key).is_some(), "{key} missing");
    }
    let example = scan["example"].as_str().unwrap();
    assert!(
        example.starts_with("Nov 27 06:00:") && example.contains("SRC=203.0.113.9"),
        "the alert names the line that completed it: {example}"
    );
    assert!(err.contains("4 not understood"), "{err}");

    let (code, _, err) = veilig(&["monitor", "replay", "--format", "cisco", log.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown --format"), "{err}");
    let (code, _, _) = veilig(&["monitor", "replay", "/nonexistent/log"]);
    assert_eq!(code, 2);
}

/// The administrator's own YAML rules: checked with every mistake named, listed, and used by
/// replay — replacing a shipped rule, switching one off, adding one.
#[test]
fn own_rules_are_checked_listed_and_replayed() {
    let dir = veilig_testkit::temp_dir("rules");
    let rules = dir.join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("broken.yaml"), "name: rdp\nseverity: urgent\nmatch: {kind: packet}\nwindow: 1 hour\nthreshold: 3\n")
        .unwrap();
    std::fs::write(rules.join("also-broken.yml"), "name: x\nseverity: low\nmatch: {colour: red}\nwindow: 1m\nthreshold: 1\n").unwrap();
    let (code, _, err) = veilig(&["monitor", "rules", "--rules", rules.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("2 problem(s)") && err.contains("broken.yaml: rule rdp: severity 'urgent'") && err.contains("unknown field `colour`"),
        "{err}"
    );

    std::fs::remove_file(rules.join("also-broken.yml")).unwrap();
    std::fs::write(
        rules.join("broken.yaml"),
        "name: rdp_probe\ndescription: RDP from outside\nseverity: low\nmatch: {kind: packet, dst_port: 3389, src_not_in: [192.0.2.0/24]}\nwindow: 1h\nthreshold: 3\nsummary: \"{src} tried RDP {count} times\"\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("ssh.yaml"),
        "name: ssh_brute_force\nseverity: critical\nmatch: {kind: auth_failure, program: sshd}\nwindow: 10m\nthreshold: 3\n",
    )
    .unwrap();
    std::fs::write(rules.join("off.yaml"), "name: password_spraying\nenabled: false\n").unwrap();
    let (code, out, err) = veilig(&["monitor", "rules", "--rules", rules.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let listed: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = listed.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"rdp_probe") && !names.contains(&"password_spraying"), "{names:?}");
    assert_eq!(listed.iter().find(|r| r["name"] == "ssh_brute_force").unwrap()["severity"], "critical");

    let log = dir.join("fw.log");
    let mut text = String::new();
    for (i, src) in ["203.0.113.5", "203.0.113.5", "203.0.113.5", "192.0.2.8", "192.0.2.8", "192.0.2.8"].iter().enumerate() {
        text.push_str(&format!(
            "Nov 27 06:00:{i:02} gw kernel: FW-DROP IN=eth0 OUT= SRC={src} DST=198.51.100.1 PROTO=TCP SPT=4000 DPT=3389 SYN\n"
        ));
    }
    for (i, user) in ["root", "admin", "pi", "git", "test"].iter().enumerate() {
        text.push_str(&format!(
            "Nov 27 06:01:{:02} gw sshd[9]: Failed password for invalid user {user} from 198.51.100.20 port 4000{i} ssh2\n",
            i * 3
        ));
    }
    std::fs::write(&log, text).unwrap();
    let (code, out, err) =
        veilig(&["monitor", "replay", "--json", "--year", "2026", "--rules", rules.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let alerts: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|a| {
            format!(
                "{} {} {} {}",
                a["rule"].as_str().unwrap(),
                a["severity"].as_str().unwrap(),
                a["source"].as_str().unwrap(),
                a["summary"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            "rdp_probe low 203.0.113.5 203.0.113.5 tried RDP 3 times",
            "ssh_brute_force critical 198.51.100.20 ssh_brute_force: 3 events from 198.51.100.20 within 10 min"
        ],
        "the allow-listed source and the switched-off spraying rule raise nothing"
    );
    let (code, _, err) = veilig(&["monitor", "replay", "--rules", "/nonexistent", log.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the rules folder"), "{err}");
}

/// The country rules with a GeoIP database (a fixture written in the MaxMind DB format):
/// one account signing in from two countries within two hours.
#[test]
fn replay_with_a_geoip_database_finds_impossible_travel() {
    let dir = veilig_testkit::temp_dir("geoip");
    let db = dir.join("countries.mmdb");
    let nets = [("145.97.0.0/16", "NL"), ("81.2.69.0/24", "GB")];
    std::fs::write(&db, veilig_testkit::mmdb::country_db(veilig_testkit::mmdb::Shape::CountryCode, &nets)).unwrap();
    let log = dir.join("auth.log");
    std::fs::write(
        &log,
        "Nov 27 08:00:00 gw sshd[1]: Accepted password for anna from 145.97.3.4 port 5000 ssh2\n\
         Nov 27 08:40:00 gw sshd[1]: Accepted password for anna from 81.2.69.160 port 5000 ssh2\n\
         Nov 27 09:00:00 gw sshd[1]: Accepted password for bert from 145.97.8.8 port 5000 ssh2\n",
    )
    .unwrap();
    let (code, out, err) =
        veilig(&["monitor", "replay", "--json", "--year", "2026", "--geoip", db.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let alerts: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(alerts.len(), 1, "{out}");
    assert_eq!(alerts[0]["rule"], "impossible_travel");
    assert_eq!(alerts[0]["summary"], "anna signed in from GB (81.2.69.160) 40 min after a sign-in from NL");
    // Without the database: nothing; with a broken one: a clear error.
    let (code, out, _) = veilig(&["monitor", "replay", "--json", "--year", "2026", log.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, err) = veilig(&["monitor", "replay", "--geoip", log.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a MaxMind DB file"), "{err}");
}

/// An imported blocklist (Spamhaus DROP's format) for the two shipped blocklist rules.
#[test]
fn replay_with_an_imported_blocklist() {
    let dir = veilig_testkit::temp_dir("lists");
    let drop = dir.join("drop.txt");
    std::fs::write(&drop, "; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\nnonsense\n").unwrap();
    let log = dir.join("fw.log");
    std::fs::write(
        &log,
        "Nov 27 06:00:00 gw kernel: FW-DROP IN=eth0 OUT= SRC=1.10.20.1 DST=145.100.0.1 PROTO=TCP SPT=4000 DPT=443 SYN\n\
         Nov 27 06:00:01 gw kernel: FW-ACCEPT IN=eth1 OUT=eth0 SRC=145.100.0.9 DST=1.10.16.5 PROTO=TCP SPT=5000 DPT=8443 SYN\n",
    )
    .unwrap();
    let list = format!("blocklist={}", drop.display());
    let (code, out, err) = veilig(&["monitor", "replay", "--json", "--year", "2026", "--list", &list, log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 line(s) are not an address or network"), "{err}");
    let rules: Vec<String> =
        out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"].as_str().unwrap().to_owned()).collect();
    assert_eq!(rules, ["blocklisted_source", "blocklisted_destination"]);
    let (code, _, err) = veilig(&["monitor", "replay", "--list", "bad name=/x", log.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn vpn_exposure_names_every_port_that_answers_besides_the_portal() {
    let portal = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ssh = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = veilig_testkit::free_port();
    let (p, s) = (portal.local_addr().unwrap().port(), ssh.local_addr().unwrap().port());
    let ports = format!("{p},{s},{closed}");
    let (code, out, err) =
        veilig(&["vpn", "exposure", "127.0.0.1", "--ports", &ports, "--portal-port", &p.to_string(), "--timeout-ms", "500"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("{p}/tcp")) && out.contains("the portal (expected)"), "{out}");
    assert!(out.contains(&format!("{s}/tcp")) && out.contains("UNEXPECTED"), "{out}");
    assert!(!out.contains(&format!("{closed}/tcp")), "{out}");
    assert!(out.contains("EXPOSED: 1 port(s)"), "{out}");

    drop(ssh);
    let (code, out, _) =
        veilig(&["vpn", "exposure", "127.0.0.1", "--ports", &ports, "--portal-port", &p.to_string(), "--timeout-ms", "500", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["open_tcp"], serde_json::json!([p]));
    assert_eq!(v["only_portal_and_vpn"], true);
    assert_eq!(v["wireguard_udp"]["state"], "refused", "nothing listens on 51820 here");

    let (code, _, err) = veilig(&["vpn", "exposure", "127.0.0.1", "--ports", "80-22"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a port or a range"), "{err}");
}

#[test]
fn config_check_names_every_vpn_problem() {
    let dir = veilig_testkit::temp_dir("cfg");
    let file = dir.join("veilig.toml");
    std::fs::write(
        &file,
        "[vpn]\nenabled = true\ninterface = \"my tunnel!\"\npool = \"10.13.0.0/31\"\ndns = [\"10.20.0.999\"]\nendpoint = \"vpn.gemeente.nl\"\ndata_plane = \"turbo\"\n",
    )
    .unwrap();
    let (code, _, err) = veilig(&["config", "check", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    for needle in [
        "vpn.interface: 'my tunnel!' is not an interface name",
        "vpn.pool: the pool needs room",
        "vpn.dns: '10.20.0.999' is not an IP address",
        "vpn.endpoint: 'vpn.gemeente.nl' is not host:port",
        "vpn.data_plane: 'turbo' is not auto, userspace or kernel",
        "vpn.networks: name the internal networks",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    std::fs::write(&file, "[vpn]\nenabled = true\nnetworks = [\"10.13.0.0/16\"]\n").unwrap();
    let (code, _, err) = veilig(&["config", "check", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("vpn.networks: 10.13.0.0/16 overlaps the tunnel address pool 10.13.0.0/24"), "{err}");
}

#[test]
fn mail_check_prints_a_verdict_per_message_and_reads_folders() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../veilig-phish/corpus/dev");
    let phishing = corpus.join("phishing");
    let legit = corpus.join("legit/001-nieuwsbrief-vakblad-tracking.eml");
    let dir = veilig_testkit::temp_dir("mailcheck");
    let broken = dir.join("kapot.eml");
    std::fs::write(&broken, b"\xff\xfe niets").unwrap();
    let (code, out, err) = veilig(&[
        "mail",
        "check",
        "--json",
        "--lang",
        "en",
        "--org-domain",
        "zorggroephorizon.nl",
        "--person",
        "Sanne Bakker",
        phishing.to_str().unwrap(),
        legit.to_str().unwrap(),
        broken.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let files = std::fs::read_dir(&phishing).unwrap().count();
    assert_eq!(lines.len(), files + 2);
    let flagged = lines[..files].iter().filter(|l| l["verdict"] != "clean").count();
    assert!(flagged * 100 >= files * 95, "{flagged} of {files}");
    assert_eq!(lines[files]["verdict"], "clean", "{}", lines[files]);
    let last = &lines[files + 1];
    assert_eq!(last["verdict"], "suspicious");
    assert_eq!(last["reasons"][0]["code"], "analysis.incomplete");
    assert!(last["reasons"][0]["message"].as_str().unwrap().contains("could not be analysed fully"), "{last}");
    for l in &lines {
        assert!(l["file"].is_string() && l["score"].as_u64().unwrap() <= 100, "{l}");
    }

    // A missing file is named and the exit code says so; bad flags are refused.
    let (code, _, err) = veilig(&["mail", "check", dir.join("weg.eml").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("weg.eml"), "{err}");
    let (code, _, err) = veilig(&["mail", "check", "--org-domain", "not a domain", legit.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("--org-domain"), "{err}");
}
