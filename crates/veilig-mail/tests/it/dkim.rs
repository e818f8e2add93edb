//! DKIM verification against a real DNS server (Debian's dnsmasq, started by the test) that
//! publishes the signer's key: a signed message authenticates its sender for the phishing
//! engine, a changed one fails, an unknown key says nothing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use veilig_mail::dkim::DkimVerifier;
use veilig_phish::{Context, Verdict, analyse, analyse_verified};

struct Dns(Child);

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// dnsmasq on a free loopback port, answering only the given TXT records.
fn dns(records: &[(&str, &str)]) -> (Dns, std::net::SocketAddr) {
    let port = veilig_testkit::free_port();
    let mut cmd = Command::new("dnsmasq");
    cmd.args(["--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1"])
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, text) in records {
        cmd.arg(format!("--txt-record={name},{text}"));
    }
    let child = cmd.spawn().expect("dnsmasq (scripts/test installs dnsmasq-base)");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Ready when it answers on TCP as well.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "dnsmasq did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Dns(child), addr)
}

const MESSAGE: &str = "From: Bank Oost <service@bank-oost.example>\r\nTo: m.devries@zorggroephorizon.nl\r\nSubject: Uw nieuwe pas\r\n\
Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMessage-ID: <pas-1@bank-oost.example>\r\n\r\nUw nieuwe betaalpas is verstuurd. Activeer hem in de app.\r\n";

fn sign(key: Ed25519Key, raw: &str) -> String {
    let sig = DkimSigner::from_key(key)
        .domain("bank-oost.example")
        .selector("s2026")
        .headers(["From", "To", "Subject", "Date"])
        .sign(raw.as_bytes())
        .unwrap();
    format!("{}{raw}", sig.to_header())
}

#[test]
fn dkim_is_verified_against_the_key_in_dns() {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
    let public = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key.public_key());
    let signed = sign(key, MESSAGE);
    let (_dns, addr) = dns(&[("s2026._domainkey.bank-oost.example", &format!("v=DKIM1; k=ed25519; p={public}"))]);
    let ctx = Context::new().unwrap().org_domain("zorggroephorizon.nl").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let verifier = DkimVerifier::new(Some(addr)).unwrap();

    let verified = rt.block_on(verifier.verify(signed.as_bytes()));
    assert_eq!(verified.dkim, vec![(true, "bank-oost.example".to_owned())]);
    let a = analyse_verified(signed.as_bytes(), &ctx, &verified);
    assert_eq!(a.verdict, Verdict::Clean, "{:?}", a.reasons);

    // Someone changed the text on the way: the signature fails and says so.
    let changed = signed.replace("Activeer hem in de app.", "Activeer hem via https://bank-oost-activeren.example/login binnen 24 uur.");
    let verified = rt.block_on(verifier.verify(changed.as_bytes()));
    assert_eq!(verified.dkim, vec![(false, "bank-oost.example".to_owned())]);
    let a = analyse_verified(changed.as_bytes(), &ctx, &verified);
    assert!(a.reasons.iter().any(|r| r.code.as_str() == "auth.dkim_fail"), "{:?}", a.reasons);
    assert!(
        !analyse(changed.as_bytes(), &ctx).reasons.iter().any(|r| r.code.as_str() == "auth.dkim_fail"),
        "without DNS the engine cannot know"
    );

    // A signature whose key is not published is no verdict either way.
    let other = Ed25519Key::from_pkcs8_der(&Ed25519Key::generate_pkcs8().unwrap()).unwrap();
    let unknown = DkimSigner::from_key(other).domain("elders.example").selector("x").headers(["From"]).sign(MESSAGE.as_bytes()).unwrap();
    let verified = rt.block_on(verifier.verify(format!("{}{MESSAGE}", unknown.to_header()).as_bytes()));
    assert!(verified.dkim.iter().all(|(pass, _)| !pass), "{verified:?}");
}
