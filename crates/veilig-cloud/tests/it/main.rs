//! The cloud engine on hand-made logs of every format (`samples/`, with the counts worked out
//! by hand in `samples/EXPECTED.md`), and the catalog's rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

use expect_test::{Expect, expect};
use veilig_cloud::{Catalog, CatalogError, Discovery, Findings, Format};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/it/samples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn run(name: &str, format: Format) -> Findings {
    let catalog = Catalog::shipped().unwrap();
    let mut d = Discovery::new(&catalog, format, 2026);
    d.feed_all(&sample(name));
    d.finish()
}

/// Totals, then `service queries/clients`, then the unknown registrable domains.
fn show(f: &Findings) -> String {
    let mut out = format!("queries {} malformed {} other {} internal {}\n", f.queries, f.malformed, f.other, f.internal);
    for s in &f.services {
        out.push_str(&format!("{} {}/{}\n", s.service, s.queries, s.clients));
    }
    let unknown: Vec<String> = f.unknown.iter().map(|u| format!("{} {}/{}", u.domain, u.queries, u.clients)).collect();
    out.push_str(&format!("unknown: {}", unknown.join(", ")));
    out
}

fn golden(name: &str, format: Format, want: Expect) {
    let f = run(name, format);
    want.assert_eq(&show(&f));
    // the same lines recognised one by one give the same result
    assert_eq!(show(&run(name, Format::Auto)), show(&f), "auto-detection differs for {name}");
}

#[test]
fn dnsmasq() {
    golden(
        "dnsmasq.log",
        Format::Dnsmasq,
        expect![[r#"
        queries 22 malformed 3 other 15 internal 4
        zoom 3/2
        chatgpt 2/1
        deepl 2/1
        microsoft-365 2/2
        claude 1/1
        exact-online 1/1
        wetransfer 1/1
        whatsapp 1/1
        zivver 1/1
        unknown: example.net 1/1, microsoft.com 1/1, nu.nl 1/1, some-local-shop.nl 1/1"#]],
    );
}

#[test]
fn pihole() {
    golden(
        "pihole.log",
        Format::Dnsmasq,
        expect![[r#"
        queries 21 malformed 2 other 13 internal 3
        google-workspace 2/2
        kahoot 2/1
        tiktok 2/1
        youtube 2/1
        canva 1/1
        discord 1/1
        magister 1/1
        mentimeter 1/1
        microsoft-365 1/1
        padlet 1/1
        snappet 1/1
        somtoday 1/1
        unknown: doubleclick.net 1/1, nos.nl 1/1"#]],
    );
}

#[test]
fn unbound() {
    golden(
        "unbound.log",
        Format::Unbound,
        expect![[r#"
        queries 16 malformed 3 other 15 internal 2
        deepl 2/1
        zorgmail 2/1
        anydesk 1/1
        chatgpt 1/1
        linkedin 1/1
        microsoft-365 1/1
        nmbrs 1/1
        siilo 1/1
        teamviewer 1/1
        topdesk 1/1
        zivver 1/1
        unknown: thuisarts.nl 1/1"#]],
    );
}

#[test]
fn bind() {
    golden(
        "bind-query.log",
        Format::Bind,
        expect![[r#"
        queries 26 malformed 3 other 1 internal 2
        google-workspace 3/1
        dropbox 2/1
        github 2/1
        notion 2/1
        slack 2/1
        1password 1/1
        canva 1/1
        chatgpt 1/1
        figma 1/1
        gitlab 1/1
        hubspot 1/1
        linkedin 1/1
        miro 1/1
        mollie 1/1
        moneybird 1/1
        unknown: example.org 1/1, rtlnieuws.nl 1/1, some-local-shop.nl 1/1"#]],
    );
}

#[test]
fn windows_dns() {
    golden(
        "windows-dns.log",
        Format::WindowsDns,
        expect![[r#"
        queries 16 malformed 3 other 41 internal 2
        microsoft-365 2/1
        zivver 2/1
        docusign 1/1
        facebook 1/1
        linkedin 1/1
        notubiz 1/1
        teamviewer 1/1
        topdesk 1/1
        webex 1/1
        unknown: microsoft.com 1/1, overheid.nl 1/1, some-local-shop.nl 1/1"#]],
    );
}

#[test]
fn squid() {
    golden(
        "squid-access.log",
        Format::Squid,
        expect![[r#"
        queries 27 malformed 3 other 0 internal 3
        canva 2/1
        dropbox 2/1
        wordpress-com 2/1
        x 2/1
        facebook 1/1
        google-workspace 1/1
        instagram 1/1
        linkedin 1/1
        mailchimp 1/1
        microsoft-365 1/1
        mollie 1/1
        shopify 1/1
        stripe 1/1
        tiktok 1/1
        wetransfer 1/1
        unknown: some-local-shop.nl 2/1, firefox.com 1/1, nu.nl 1/1, windowsupdate.com 1/1"#]],
    );
}

#[test]
fn zeek_dns_tsv() {
    golden(
        "zeek-dns.log",
        Format::Zeek,
        expect![[r#"
        queries 22 malformed 3 other 9 internal 4
        claude 2/1
        github 2/1
        slack 2/1
        asana 1/1
        deepl 1/1
        figma 1/1
        gitlab 1/1
        miro 1/1
        mistral-le-chat 1/1
        notion 1/1
        perplexity 1/1
        unknown: nos.nl 1/1, objects.githubusercontent.com 1/1, some-local-shop.nl 1/1, www-rijksoverheid-nl.translate.goog 1/1"#]],
    );
}

#[test]
fn zeek_dns_json() {
    golden(
        "zeek-dns.json",
        Format::Zeek,
        expect![[r#"
        queries 25 malformed 3 other 0 internal 2
        signal 3/1
        whatsapp 3/1
        anydesk 2/1
        bitwarden 2/2
        lastpass 2/1
        proton 2/1
        telegram 2/1
        google-workspace 1/1
        teamviewer 1/1
        threema 1/1
        tuta 1/1
        unknown: ad.nl 1/1, example.com 1/1, tweakers.net 1/1"#]],
    );
}

#[test]
fn zeek_ssl() {
    golden(
        "zeek-ssl.log",
        Format::Zeek,
        expect![[r#"
        queries 20 malformed 2 other 10 internal 1
        mega 2/1
        zoom 2/1
        adobe-creative-cloud 1/1
        box 1/1
        canva 1/1
        chatgpt 1/1
        claude 1/1
        docusign 1/1
        dropbox 1/1
        microsoft-onedrive 1/1
        microsoft-teams 1/1
        surf-file-services 1/1
        webex 1/1
        wetransfer 1/1
        unknown: microsoft.com 1/1, microsoftpersonalcontent.com 1/1, nu.nl 1/1"#]],
    );
}

#[test]
fn days_first_and_last_seen_and_no_addresses_in_the_output() {
    let f = run("pihole.log", Format::Auto);
    let magister = f.services.iter().find(|s| s.service == "magister").unwrap();
    assert_eq!(magister.days[0].day, "2026-11-26", "{magister:?}");
    let google = f.services.iter().find(|s| s.service == "google-workspace").unwrap();
    assert!(google.first_seen.unwrap() <= google.last_seen.unwrap());
    assert_eq!(google.days.iter().map(|d| d.queries).sum::<u64>(), google.queries);
    let json = serde_json::to_string(&f).unwrap();
    assert!(!json.contains("10.0.0."), "no client address leaves the engine: {json}");
    // CRLF endings (the Windows log) leave no \r in names
    let w = run("windows-dns.log", Format::WindowsDns);
    assert!(w.unknown.iter().all(|u| !u.domain.contains('\r')));
}

#[test]
fn mixed_files_are_read_line_by_line_and_garbage_is_counted_and_sampled() {
    let catalog = Catalog::shipped().unwrap();
    let mut d = Discovery::new(&catalog, Format::Auto, 2026);
    for name in ["dnsmasq.log", "unbound.log", "bind-query.log", "squid-access.log", "zeek-dns.json"] {
        d.start_file(Format::Auto, 2026);
        d.feed_all(&sample(name));
    }
    d.feed(b"\xff\xfe\x00 binary");
    d.feed(&[b'x'; 100_000]);
    let f = d.finish();
    assert_eq!(f.queries, 22 + 16 + 26 + 27 + 25);
    assert_eq!(f.malformed, 3 + 3 + 3 + 3 + 3 + 2);
    assert_eq!(f.samples.len(), veilig_cloud::discover::SAMPLES);
    assert!(f.samples.iter().all(|s| s.chars().count() <= 200));
    assert!(f.samples.iter().all(|s| !s.contains("192.168.")), "{:?}", f.samples);
    assert_eq!(
        veilig_cloud::discover::mask_addresses("1795766620.001 12 192.168.20.33 TCP/200 CONNECT [2001:db8::1]:443 cafe"),
        "1795766620.001 12 ‹ip› TCP/200 CONNECT [‹ip›]:443 cafe"
    );
    let chatgpt = f.services.iter().find(|s| s.service == "chatgpt").unwrap();
    assert_eq!((chatgpt.queries, chatgpt.clients), (4, 3), "dnsmasq 2, unbound 1, bind 1");
}

#[test]
fn dns_lines_forwarded_over_syslog_are_read_with_their_host() {
    let catalog = Catalog::shipped().unwrap();
    let mut d = Discovery::new(&catalog, Format::Auto, 2026);
    d.feed(b"<30>Nov 27 09:12:01 gw dnsmasq[812]: query[A] us05web.zoom.us from 192.168.1.23");
    d.feed(b"Nov 27 09:12:02 gw dnsmasq[812]: query[AAAA] www.deepl.com from 192.168.1.24");
    d.feed(b"<999999>garbage");
    let f = d.finish();
    assert_eq!((f.queries, f.malformed), (2, 1));
    assert_eq!(f.services.iter().map(|s| s.service.as_str()).collect::<Vec<_>>(), ["deepl", "zoom"]);
}

#[test]
fn the_catalog_has_150_services_and_its_rules_hold() {
    let c = Catalog::shipped().unwrap();
    assert!(c.services().len() >= 150, "{}", c.services().len());
    assert_eq!(c.lookup("us05web.zoom.us").and_then(|i| c.get(i)).map(|s| s.id.as_str()), Some("zoom"));
    assert_eq!(c.lookup("zoom.us.example.net"), None);
    assert_eq!(c.lookup("notzoom.us"), None);
    assert_eq!(c.lookup("us"), None);
    let one = |extra: &str| {
        format!(
            "[[service]]\nid = \"a\"\nname = \"A\"\nvendor = \"V\"\nwebsite = \"https://a.nl\"\ncountry = \"NL\"\nfunctions = [\"chat\"]\ndomains = [\"a.nl\"]\n{extra}"
        )
    };
    assert!(Catalog::parse(&one("")).is_ok());
    let twice = format!("{}{}", one(""), one("").replace("id = \"a\"", "id = \"b\""));
    assert_eq!(
        Catalog::parse(&twice).unwrap_err(),
        CatalogError::Duplicate { domain: "a.nl".into(), first: "a".into(), second: "b".into() }
    );
    let bad = one("").replace("\"chat\"", "\"gossip\"");
    assert!(matches!(Catalog::parse(&bad), Err(CatalogError::Service { why, .. }) if why.contains("gossip")));
    let sub = one("").replace("\"a.nl\"]", "\"www.a.nl\"]");
    assert!(matches!(Catalog::parse(&sub), Err(CatalogError::Service { why, .. }) if why.contains("registrable")));
    assert!(matches!(Catalog::parse("[[service]]\nid = 1"), Err(CatalogError::Toml(_))));
}

#[test]
fn the_risk_score_explains_itself() {
    use veilig_cloud::assess::{Answers, DataKinds, Location, Revenue, parse_day, score};
    let today = parse_day("2026-11-27").unwrap();
    let show = |r: &veilig_cloud::assess::Risk| {
        let mut s = format!("{} {}", r.score, r.level);
        for x in &r.reasons {
            s.push_str(&format!("\n{} +{} {}", x.code, x.points, x.en));
        }
        if !r.expired.is_empty() {
            s.push_str(&format!("\nexpired: {}", r.expired.join(", ")));
        }
        s
    };
    // nothing known yet, personal data: high
    expect![[r#"
        94 high
        location.unknown +20 Unknown where the data is kept
        dpa.missing +25 Personal data without a signed data-processing agreement
        assurance.none +15 No valid ISO 27001 certificate or recent SOC 2 Type II report
        mfa.unknown +10 Unknown whether two-factor sign-in is enforced
        sharing.public_links +3 Public links not switched off
        sharing.expiry +3 Links do not expire
        sharing.password +3 Links without a password
        terms.unreviewed +10 Terms not reviewed in the last year
        exit.none +5 No exit plan"#]]
    .assert_eq(&show(&score(&Answers::default(), DataKinds { personal: true, special: false }, today)));
    // a well-assessed EU service
    let good = Answers {
        data_location: Some(Location::Eu),
        iso27001_expires: Some("2027-03-01".into()),
        dpa_signed: Some(true),
        mfa_enforced: Some(true),
        public_links_off: Some(true),
        link_expiry: Some(true),
        link_password: Some(true),
        revenue: Some(Revenue::Paid),
        terms_reviewed: Some("2026-06-01".into()),
        exit_plan: Some("export to ODF".into()),
        ..Answers::default()
    };
    expect![[r#"0 low"#]].assert_eq(&show(&score(&good, DataKinds { personal: true, special: false }, today)));
    // the certificate lapses, health data, free tier with AI training
    let worse =
        Answers { iso27001_expires: Some("2026-10-01".into()), revenue: Some(Revenue::Freemium), ai_training: Some(true), ..good.clone() };
    expect![[r#"
        50 high
        data.special +10 Special categories of personal data or the BSN
        assurance.none +15 No valid ISO 27001 certificate or recent SOC 2 Type II report
        iso27001.expired +5 The ISO 27001 certificate has expired
        revenue.freemium +5 Free tier
        terms.ai_training +15 The terms allow training AI on our data
        expired: iso27001"#]]
    .assert_eq(&show(&score(&worse, DataKinds { personal: true, special: true }, today)));
    let soon = Answers { iso27001_expires: Some("2026-12-15".into()), ..good.clone() };
    let r = score(&soon, DataKinds::default(), today);
    assert_eq!((r.expiring.clone(), r.expired.len()), (vec!["iso27001"], 0), "flagged before it lapses");
    assert_eq!(parse_day("2026-13-01"), None);
    assert_eq!(parse_day("27-11-2026"), None);
}
