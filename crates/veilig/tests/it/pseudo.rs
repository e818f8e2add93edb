//! `veilig pseudo` as an employee or administrator runs it: pseudonymise with a vault, restore
//! an answer, refuse a wrong key without touching the vault, bad input, a large file in pieces.

use crate::BIN;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8], pass: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("VEILIG_VAULT_PASSPHRASE");
    if let Some(p) = pass {
        cmd.env("VEILIG_VAULT_PASSPHRASE", p);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const LETTER: &str = "Geachte mevrouw Bakker,\n\nUw dochter Noor Bakker (geboren 4 mei 2011) is aangemeld bij ons. \
Wij bellen u op 06-12345678. BSN 111222333, IBAN NL91ABNA0417164300.\n\nMet vriendelijke groet,\nRuud van der Linden\n";

#[test]
fn pseudonymise_then_restore_with_a_vault() {
    let dir = tempdir();
    let vault = dir.join("client.vault");
    let v = vault.to_str().unwrap();
    let o = run(&["pseudo", "--vault", v, "--lang", "nl"], LETTER.as_bytes(), Some("een lange zin als sleutel"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pseudo = text(&o);
    for real in ["Bakker", "Noor", "06-12345678", "111222333", "NL91", "Ruud", "Linden", "4 mei 2011"] {
        assert!(!pseudo.contains(real), "{real} leaked: {pseudo}");
    }
    assert!(pseudo.contains("[BSN-1]") && pseudo.contains("[IBAN-1]") && pseudo.contains("[TELEFOON-1]"), "{pseudo}");
    let sealed = std::fs::read(&vault).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("Bakker"));

    // the answer comes back translated; restore puts the names and numbers back
    let answer = pseudo.replace("Geachte mevrouw", "Dear Mrs").replace("Uw dochter", "Your daughter");
    let o = run(&["pseudo", "--restore", "--vault", v, "--json"], answer.as_bytes(), Some("een lange zin als sleutel"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let restored = j["text"].as_str().unwrap();
    assert!(restored.starts_with("Dear Mrs Bakker,"), "{restored}");
    for real in ["Noor Bakker", "06-12345678", "111222333", "NL91ABNA0417164300", "Ruud van der Linden", "4 mei 2011"] {
        assert!(restored.contains(real), "{real} not restored: {restored}");
    }
    assert_eq!(j["unmatched"].as_array().unwrap().len(), 0);

    // a second document with the same vault keeps the pseudonyms
    let o = run(&["pseudo", "--vault", v], b"Noor Bakker belde terug.", Some("een lange zin als sleutel"));
    assert_eq!(
        text(&o).trim(),
        pseudo.lines().find(|l| l.contains("dochter")).unwrap().split(" (").next().unwrap().replace("Uw dochter ", "") + " belde terug."
    );
}

#[test]
fn a_wrong_passphrase_changes_nothing() {
    let dir = tempdir();
    let vault = dir.join("k.vault");
    let v = vault.to_str().unwrap();
    assert!(run(&["pseudo", "--vault", v], LETTER.as_bytes(), Some("goed")).status.success());
    let before = std::fs::read(&vault).unwrap();
    let o = run(&["pseudo", "--vault", v], b"Jan Jansen", Some("fout"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not open this vault"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "nothing is printed with a wrong key");
    assert_eq!(std::fs::read(&vault).unwrap(), before, "the vault is untouched");
    // no key at all
    let o = run(&["pseudo", "--vault", v], b"Jan Jansen", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("VEILIG_VAULT_PASSPHRASE"));
    // restore without a vault
    let o = run(&["pseudo", "--restore"], b"Persoon A", None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let o = run(&["pseudo"], b"Jan \xff\xfe Jansen", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not UTF-8 text (invalid byte at offset 4)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["pseudo", "--json"], b"", None);
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j, serde_json::json!({"text": "", "spans": []}));
    let o = run(&["pseudo", "--lang", "fr"], b"x", None);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["pseudo", "/nonexistent/file.txt"], b"", None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_spans_count_characters_across_pieces() {
    // more than one 1 MiB piece: offsets continue from piece to piece
    let line = "Zoë belde met mevrouw Çelik over 06-12345678.\n";
    let big = line.repeat(30_000);
    let o = run(&["pseudo", "--json", "--lang", "nl"], big.as_bytes(), None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let spans = j["spans"].as_array().unwrap();
    let last = spans.last().unwrap();
    let chars: Vec<char> = big.chars().collect();
    let (s, e) = (last["start"].as_u64().unwrap() as usize, last["end"].as_u64().unwrap() as usize);
    assert_eq!(chars[s..e].iter().collect::<String>(), "06-12345678");
    let (bs, be) = (last["byte_start"].as_u64().unwrap() as usize, last["byte_end"].as_u64().unwrap() as usize);
    assert_eq!(&big[bs..be], "06-12345678");
    assert_eq!(spans.len(), 30_000 * 3);
}

#[test]
fn eval_scores_a_labelled_folder() {
    let dir = tempdir();
    std::fs::write(dir.join("nl-a.txt"), "Beste [[PERSON:Anna]], bel [[PHONE:06-12345678]] over [[KEEP:€ 12,50]].").unwrap();
    let o = run(&["pseudo", "--eval", dir.to_str().unwrap(), "--json"], b"", None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["f1"], 1.0);
    assert_eq!(j["keep_replaced"], 0);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("veilig-pseudo-{}-{}", std::process::id(), veilig_core::random_id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The "done when" of the pseudonymiser: an employee pastes a Dutch client letter in the portal,
/// sees what was replaced, copies the result, pastes a translated answer and gets the names back.
#[test]
fn an_employee_pseudonymises_a_letter_and_restores_the_answer_in_chromium() {
    use veilig_testkit::http;
    let server = crate::start(&[]);
    let (admin, csrf) = crate::admin_agent(&server);
    let r = http::send(
        &admin,
        "POST",
        &server.url("/api/v1/users"),
        &[("x-csrf-token", &csrf)],
        Some(&serde_json::json!({"email": "fatima@gemeente.nl", "name": "Fatima Consulent"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let link = r.json()["enrollment_url"].as_str().unwrap().to_owned();
    let (emp, _) = crate::enrolled_agent(&server, &link, "groene appel naast de kachel");
    let session = crate::session_cookie(&emp);

    let b = veilig_testkit::Browser::start(1280, 1400);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &session);
    b.goto(&server.url("/pseudo?lang=nl"));
    b.wait_for_text("h1", "Pseudonimiseren");
    let letter = "Geachte mevrouw Yılmaz,\n\nNaar aanleiding van ons gesprek op 3 maart bevestig ik dat uw zoon Emre Yılmaz \
(geboren 14-09-2013, BSN 111222333) vanaf 1 april begeleiding krijgt van ons wijkteam. Zijn dossiernummer is WT-2024-0288.\n\n\
U kunt mij bereiken op 06-24418720 of via s.de.wit@wijkteam-noord.nl. Uw adres Merelstraat 17, 3817 SJ Amersfoort \
hebben wij genoteerd.\n\nMet vriendelijke groet,\nSanne de Wit\nWijkcoach";
    b.find("#text");
    b.execute("document.getElementById('text').value = arguments[0];", vec![serde_json::json!(letter)]);
    b.click(&b.find("#pseudo-form button[type=submit]"));
    b.wait_for_text("h2", "Gepseudonimiseerde tekst");
    let result = b.execute("return document.getElementById('pseudo-result').value;", vec![]);
    let result = result.as_str().unwrap().to_owned();
    for real in ["Yılmaz", "Emre", "111222333", "WT-2024-0288", "06-24418720", "Merelstraat", "Amersfoort", "Sanne"] {
        assert!(!result.contains(real), "{real} leaked: {result}");
    }
    assert!(result.starts_with("Geachte mevrouw Persoon A,"), "{result}");
    let marked = b.text(&b.find("#pseudo-marked"));
    assert!(marked.contains("Emre Yılmaz"), "the review shows the original with its highlights");
    b.save_screenshot("pseudo-review-nl.png");

    // the translated answer goes into the restore form on the same page
    let answer = result
        .replace("Geachte mevrouw", "Dear Mrs")
        .replace(
            "Naar aanleiding van ons gesprek op 3 maart bevestig ik dat uw zoon",
            "Following our conversation on 3 March, I confirm that your son",
        )
        .replace("Met vriendelijke groet", "Kind regards");
    b.find("#answer");
    b.execute("document.getElementById('answer').value = arguments[0];", vec![serde_json::json!(answer)]);
    b.click(&b.find("form[action^='/pseudo/restore'] button[type=submit]"));
    b.wait_for_text("#restored-title", "Antwoord met de echte gegevens");
    let restored = b.execute("return document.getElementById('pseudo-restored').value;", vec![]);
    let restored = restored.as_str().unwrap();
    assert!(restored.starts_with("Dear Mrs Yılmaz,"), "{restored}");
    for real in ["Emre Yılmaz", "111222333", "WT-2024-0288", "06-24418720", "Merelstraat 17", "Amersfoort", "Sanne de Wit"] {
        assert!(restored.contains(real), "{real} not restored: {restored}");
    }
    b.save_screenshot("pseudo-restored-nl.png");

    // employees often work on a phone: the page fits without sideways scrolling
    let phone = veilig_testkit::Browser::start(390, 844);
    phone.goto(&server.url("/login"));
    phone.add_cookie("veilig_session", &session);
    phone.goto(&server.url("/pseudo?lang=nl"));
    phone.wait_for_text("h1", "Pseudonimiseren");
    phone.execute("document.getElementById('text').value = arguments[0];", vec![serde_json::json!(letter)]);
    phone.click(&phone.find("#pseudo-form button[type=submit]"));
    phone.wait_for_text("h2", "Gepseudonimiseerde tekst");
    let fits = phone.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]);
    assert_eq!(fits, true, "the pseudonymiser's result scrolls sideways on a phone");
    phone.save_screenshot("pseudo-nl-phone.png");
}

/// A one-page PDF with the given lines in Helvetica, written here (xref offsets computed).
fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 50 780 Td 14 TL\n");
    for l in lines {
        content.push_str(&format!("({}) Tj T*\n", l.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)")));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}

#[test]
fn documents_mail_and_pdf() {
    let dir = tempdir();
    // DOCX: replaced inside the document, written with --out
    let body = r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Geachte heer </w:t></w:r><w:r><w:t>Bakker</w:t></w:r><w:r><w:t>, uw BSN 111222333.</w:t></w:r></w:p></w:body></w:document>"#;
    let docx = veilig_pseudo::office::build(&[("word/document.xml", body.as_bytes())]);
    let input = dir.join("brief.docx");
    std::fs::write(&input, &docx).unwrap();
    let out = dir.join("brief-pseudo.docx");
    let vault = dir.join("doc.vault");
    let o = run(
        &["pseudo", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--vault", vault.to_str().unwrap(), "--json"],
        b"",
        Some("sleutel"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["replaced"], 2);
    let doc_text = veilig_pseudo::office::text(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc_text, "Geachte heer Persoon A, uw BSN [BSN-1].\n");
    let o = run(&["pseudo", input.to_str().unwrap()], b"", None);
    assert_eq!(o.status.code(), Some(2), "a document needs --out");
    std::fs::write(&input, b"PK\x03\x04 kapot").unwrap();
    let o = run(&["pseudo", input.to_str().unwrap(), "--out", out.to_str().unwrap()], b"", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a DOCX or ODT"), "{}", String::from_utf8_lossy(&o.stderr));

    // e-mail: base64 body and an encoded subject are decoded first
    let eml = "From: \"Jansen, Maria\" <maria.jansen@example.nl>\r\nTo: Wijkteam <wijkteam@gemeente.nl>\r\nSubject: =?utf-8?q?Vraag_over_mijn_zoon_Daan?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nQmVzdGUgd2lqa3RlYW0sCgpNaWpuIHpvb24gRGFhbiAoQlNOIDExMTIyMjMzMykgaXMgemllay4KCkdyb2V0LApNYXJpYSBKYW5zZW4K\r\n";
    let input = dir.join("mail.eml");
    std::fs::write(&input, eml).unwrap();
    let o = run(&["pseudo", input.to_str().unwrap(), "--lang", "nl"], b"", None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = text(&o);
    for real in ["Jansen", "Maria", "maria.jansen", "Daan", "111222333"] {
        assert!(!t.contains(real), "{real} leaked: {t}");
    }
    assert!(t.contains("Subject: Vraag over mijn zoon Persoon") && t.contains("[BSN-1]"), "{t}");

    // PDF: the text, pseudonymised
    let input = dir.join("verslag.pdf");
    std::fs::write(&input, pdf(&["Gespreksverslag", "Client: mevrouw A. Yilmaz, geboren 12-03-1985", "Telefoon 06-12345678"])).unwrap();
    let o = run(&["pseudo", input.to_str().unwrap(), "--lang", "nl"], b"", None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = text(&o);
    assert!(t.contains("Gespreksverslag"), "{t}");
    for real in ["Yilmaz", "12-03-1985", "06-12345678"] {
        assert!(!t.contains(real), "{real} leaked: {t}");
    }
    std::fs::write(&input, b"%PDF-1.4 kapot").unwrap();
    let o = run(&["pseudo", input.to_str().unwrap()], b"", None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_broken_organisation_term_list_stops_the_start() {
    let dir = tempdir();
    let csv = dir.join("clients.csv");
    std::fs::write(&csv, "Jansen BV,COLOUR\n").unwrap();
    let o = Command::new(BIN).args(["config", "check"]).env("VEILIG_PSEUDO_TERMS_FILE", &csv).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pseudo.terms_file: line 1: unknown label \"COLOUR\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&csv, "Jansen BV,\n").unwrap();
    let o = Command::new(BIN).args(["config", "check"]).env("VEILIG_PSEUDO_TERMS_FILE", &csv).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
