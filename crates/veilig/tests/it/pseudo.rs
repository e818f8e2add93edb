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
