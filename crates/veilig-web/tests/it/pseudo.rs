//! The pseudonymiser's API and page: an employee pseudonymises and restores; the key only
//! opens for them; bad input is refused with 422; the audit chain gets counts, not content.

use crate::TestApp;

const LETTER: &str = "Beste mevrouw Jansen,\n\nUw zoon Daan Jansen (BSN 111222333) woont op Kerkstraat 12a, 1234 AB Zwolle. \
Bel ons op 06-12345678.\n\nMet vriendelijke groet,\nSanne de Wit";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out.into_bytes()
}

#[test]
fn api_pseudonymises_restores_and_keeps_the_key_to_its_user() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);

    let r = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": LETTER, "lang": "nl"})));
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let text = j["text"].as_str().unwrap();
    for real in ["Jansen", "Daan", "111222333", "Kerkstraat", "1234 AB", "Zwolle", "06-12345678", "Sanne"] {
        assert!(!text.contains(real), "{real} leaked: {text}");
    }
    assert!(text.starts_with("Beste mevrouw Persoon A,"), "{text}");
    let spans = j["spans"].as_array().unwrap();
    let bsn = spans.iter().find(|s| s["label"] == "BSN").unwrap();
    assert_eq!(bsn["replacement"], "[BSN-1]");
    let (s, e) = (bsn["start"].as_u64().unwrap() as usize, bsn["end"].as_u64().unwrap() as usize);
    assert_eq!(LETTER.chars().skip(s).take(e - s).collect::<String>(), "111222333");
    let vault = j["vault"].as_str().unwrap().to_owned();

    // the answer, translated, comes back with the real values
    let answer = text.replace("Beste mevrouw", "Dear Mrs").replace("Uw zoon", "Your son");
    let r = emp.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": vault})));
    assert_eq!(r.status, 200, "{}", r.body);
    let back = r.json();
    assert!(back["text"].as_str().unwrap().starts_with("Dear Mrs Jansen,\n\nYour son Daan Jansen (BSN 111222333)"), "{}", back["text"]);
    assert_eq!(back["unmatched"], serde_json::json!([]));

    // the same key does not open for another user, and a changed key opens for nobody
    let r = app.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": vault})));
    assert_eq!(r.status, 422, "{}", r.body);
    let mut bad = vault.clone();
    bad.replace_range(10..11, if &vault[10..11] == "A" { "B" } else { "A" });
    let r = emp.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": bad})));
    assert_eq!(r.status, 422);
    assert!(r.body.contains("expired") || r.body.contains("verlopen"), "{}", r.body);

    // a second text with the key keeps the pseudonyms
    let r = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "Daan Jansen belde.", "lang": "nl", "vault": vault})));
    assert_eq!(r.json()["text"], "Persoon B belde.");

    // bad input
    for body in [
        serde_json::json!({"text": "x", "lang": "fr"}),
        serde_json::json!({"text": "x", "format": "docx"}),
        serde_json::json!({"text": "x", "vault": "!!!"}),
    ] {
        let r = emp.api("POST", "/api/v1/pseudo", Some(body));
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let big = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "a".repeat(3 << 20)})));
    assert!(big.status == 413 || big.status == 422, "{} {}", big.status, big.body);
    let r = emp.post_raw("/api/v1/pseudo", "application/json", b"{not json");
    assert!(r.status == 400 || r.status == 403 || r.status == 422, "{} {}", r.status, r.body);
    let anon = app.another_browser().api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "x"})));
    assert_eq!(anon.status, 401);

    // the audit chain says it was used and how much, never what
    let audit = app.get("/api/v1/audit?action=pseudo.used").json();
    let records = audit["records"].as_array().unwrap();
    assert!(records.len() >= 2, "{audit}");
    let all = audit.to_string();
    assert!(!all.contains("Jansen") && !all.contains("111222333"), "{all}");
    let first: serde_json::Value = serde_json::from_str(records.last().unwrap()["details"].as_str().unwrap()).unwrap();
    assert_eq!(first["replaced"]["BSN"], 1, "{first}");
    assert_eq!(first["replaced"]["PERSON"], 3, "{first}");
}

#[test]
fn page_shows_replacements_lets_the_employee_undo_one_and_restores() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);
    let page = emp.get("/pseudo");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Pseudonimiseren"), "{}", page.body);
    crate::assert_security_headers(&page);

    let csrf = emp.csrf.borrow().clone();
    let r = emp.post_raw("/pseudo", "application/x-www-form-urlencoded", &form(&[("csrf", &csrf), ("text", LETTER), ("lang", "nl")]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Beste mevrouw Persoon A,"), "{}", r.body);
    assert!(r.body.contains("<mark class=\"pii pii-bsn\""), "the review marks the BSN");
    assert!(r.body.contains("value=\"Zwolle\""), "an undo button per value");
    let vault = r.body.split("name=\"vault\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(!vault.is_empty());

    // undo: Zwolle stays, the rest keeps its pseudonyms
    let r = emp.post_raw(
        "/pseudo",
        "application/x-www-form-urlencoded",
        &form(&[("csrf", &csrf), ("text", LETTER), ("lang", "nl"), ("vault", &vault), ("undo", "Zwolle")]),
    );
    assert_eq!(r.status, 200);
    let result = r.body.split("id=\"pseudo-result\"").nth(1).unwrap().split("</textarea>").next().unwrap();
    assert!(result.contains("[POSTCODE-1] Zwolle"), "{result}");
    assert!(result.contains("Persoon A"));

    // restore the answer on the same page
    let r = emp.post_raw(
        "/pseudo/restore",
        "application/x-www-form-urlencoded",
        &form(&[("csrf", &csrf), ("vault", &vault), ("answer", "Dear Mrs Person A, call [PHONE-1]. [IBAN-3]")]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Dear Mrs Jansen, call 06-12345678."), "{}", r.body);
    assert!(r.body.contains("<code>[IBAN-3]</code>"), "unmatched tokens are listed");

    // without the CSRF field the form is refused
    let r = emp.post_raw("/pseudo", "application/x-www-form-urlencoded", &form(&[("text", LETTER)]));
    assert_eq!(r.status, 403);
}
