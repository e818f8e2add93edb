//! Any bytes as a DOCX or ODT document and as a vault: never a panic; a document that is
//! accepted comes out as one that reads again; a vault never opens with the wrong key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_pseudo::vault::{Key, open};
use veilig_pseudo::{Lang, Mapping, Pseudonymiser};

fuzz_target!(|data: &[u8]| {
    let engine = Pseudonymiser::new();
    if let Ok((doc, _, _)) = veilig_pseudo::office::pseudonymise(data, &engine, &mut Mapping::new(Lang::Nl)) {
        assert!(veilig_pseudo::office::text(&doc).is_ok(), "an accepted document reads again");
    }
    let _ = veilig_pseudo::office::text(data);
    // as a vault: with a key file, and (for short inputs, Argon2 is slow) a passphrase
    let _ = Key::parse_file(data);
    assert!(open(data, &Key::File([7; 32])).is_err() || data.starts_with(b"VEILIG-VAULT1\x02"));
    if data.len() < 64 {
        let _ = open(data, &Key::Passphrase("x"));
    }
});
