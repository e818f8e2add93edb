//! Any text through the pseudonymiser as text and as CSV, its answer through restore, and any
//! bytes as an e-mail: never a panic; spans sorted, apart, inside the text and on character
//! boundaries; what is not in a span is copied unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_pseudo::{Format, Lang, Mapping, Pseudonymiser};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let engine = Pseudonymiser::new();
    for format in [Format::Text, Format::Csv] {
        let mut m = Mapping::new(Lang::Nl);
        let out = engine.pseudonymise_as(format, &text, &mut m);
        let mut last = 0;
        let mut rebuilt = String::new();
        for s in &out.spans {
            assert!(s.byte_start >= last && s.byte_start < s.byte_end && s.byte_end <= text.len(), "{s:?}");
            assert!(text.is_char_boundary(s.byte_start) && text.is_char_boundary(s.byte_end));
            rebuilt.push_str(&text[last..s.byte_start]);
            rebuilt.push_str(s.replacement.as_deref().unwrap_or(&text[s.byte_start..s.byte_end]));
            last = s.byte_end;
        }
        rebuilt.push_str(&text[last..]);
        assert_eq!(rebuilt, out.text);
        let _ = veilig_pseudo::restore::restore(&out.text, &m);
        let cut = veilig_pseudo::restore::safe_len(&out.text);
        assert!(cut <= out.text.len() && out.text.is_char_boundary(cut));
    }
    let _ = veilig_pseudo::email::to_text(data);
});
