//! The vault round trip and restoring answers that came back rewritten.

use veilig_pseudo::restore::restore;
use veilig_pseudo::vault::{Key, VaultError, open, seal};
use veilig_pseudo::{Lang, Mapping, Pseudonymiser};

fn letter() -> (String, Mapping) {
    let mut m = Mapping::new(Lang::Nl);
    let text = "Beste mevrouw De Vries,\n\nUw zoon Daan de Vries (BSN 111222333) woont op Kerkstraat 12a in Zwolle; bel 06-12345678.\n\
                Met vriendelijke groet,\nPiet Bakker";
    let out = Pseudonymiser::new().pseudonymise(text, &mut m);
    (out.text, m)
}

#[test]
fn seal_and_open_with_a_passphrase_and_a_key_file() {
    let (_, m) = letter();
    let sealed = seal(&m, &Key::Passphrase("correct horse battery"), [7; 16], [9; 12]).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("Vries"), "the names are not readable in the file");
    assert_eq!(open(&sealed, &Key::Passphrase("correct horse battery")).unwrap(), m);
    assert_eq!(open(&sealed, &Key::Passphrase("wrong")).unwrap_err(), VaultError::WrongKey);
    assert_eq!(open(&sealed, &Key::File([1; 32])).unwrap_err(), VaultError::NeedsPassphrase);

    let key = Key::parse_file(b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n").unwrap();
    let sealed = seal(&m, &Key::File(key), [0; 16], [1; 12]).unwrap();
    assert_eq!(open(&sealed, &Key::File(key)).unwrap(), m);
    assert_eq!(Key::parse_file(b"too short").unwrap_err(), VaultError::BadKeyFile);

    // any changed byte is refused
    for at in [0, 14, sealed.len() / 2, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[at] ^= 1;
        assert!(open(&bad, &Key::File(key)).is_err(), "byte {at}");
    }
    assert_eq!(open(b"", &Key::File(key)).unwrap_err(), VaultError::NotAVault);
    assert_eq!(seal(&m, &Key::Passphrase(""), [0; 16], [0; 12]).unwrap_err(), VaultError::EmptyPassphrase);
}

#[test]
fn restore_after_a_translation_like_rewrite() {
    let (pseudo, m) = letter();
    assert_eq!(
        pseudo,
        "Beste mevrouw Persoon A,\n\nUw zoon Persoon B (BSN [BSN-1]) woont op [ADRES-1] in Plaats A; bel [TELEFOON-1].\nMet vriendelijke groet,\nPersoon C"
    );
    // what a translator or chat service might send back: English, other case and spacing
    let answer = "Dear Mrs Person A,\n\nYour son PERSON B (citizen number [ bsn - 1 ]) lives at [ADRES-1] in City A; call [PHONE-1]. \
                  Person B's school agrees.\nKind regards,\nPerson C";
    let r = restore(answer, &m);
    assert_eq!(
        r.text,
        "Dear Mrs De Vries,\n\nYour son Daan de Vries (citizen number 111222333) lives at Kerkstraat 12a in Zwolle; call 06-12345678. \
         Daan de Vries's school agrees.\nKind regards,\nPiet Bakker"
    );
    assert_eq!(r.restored, 8);
    assert!(r.unmatched.is_empty());

    // tokens the key does not hold are reported, not guessed
    let r = restore("Persoon Q belde over [IBAN-7] en [TELEFOON-1].", &m);
    assert_eq!(r.text, "Persoon Q belde over [IBAN-7] en 06-12345678.");
    assert_eq!(r.unmatched, vec!["Persoon Q".to_string(), "[IBAN-7]".to_string()]);
}

#[test]
fn fake_values_read_naturally_fail_their_checks_and_restore() {
    let mut m = Mapping::new(Lang::Nl);
    m.fake = true;
    let text = "Mevrouw Fatima El Amrani (BSN 111222333, IBAN NL91ABNA0417164300) belt vanaf 06-12345678.";
    let out = Pseudonymiser::new().pseudonymise(text, &mut m);
    assert_eq!(out.text, "Mevrouw Lotte Brouwer (BSN 100007919, IBAN NL06ABNA0100000001) belt vanaf 06-01000001.");
    let answer = "Mrs Lotte Brouwer (citizen number 100007919) will be called on 06-01000001.";
    let r = restore(answer, &m);
    assert_eq!(r.text, "Mrs Fatima El Amrani (citizen number 111222333) will be called on 06-12345678.");
    // one pass: a restored value that happens to look like another fake is not replaced again
    let mut two = Mapping::new(Lang::Nl);
    two.fake = true;
    // two people whose real names are each other's fakes
    let text = "Daan van Lier belde over mevrouw Lotte Brouwer.";
    let out = Pseudonymiser::new().pseudonymise(text, &mut two);
    assert_eq!(out.text, "Lotte Brouwer belde over mevrouw Daan van Lier.");
    assert_eq!(restore(&out.text, &two).text, text);
    // the fakes are not valid numbers: the engine does not take them for real ones
    let again = Pseudonymiser::new().detect(&out.text);
    assert!(!again.iter().any(|s| s.label == veilig_pseudo::Label::Bsn && s.replacement.is_some()), "{again:?}");
}
