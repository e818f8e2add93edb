//! DOCX and ODT: values replaced inside the runs, formatting kept, author fields hidden,
//! damaged documents refused with a clear error.

use veilig_pseudo::office::{self, OfficeError, OfficeKind};
use veilig_pseudo::{Lang, Mapping, Pseudonymiser};

const DOCX_BODY: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Geachte mevrouw </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>Jan</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>sen</w:t></w:r><w:r><w:t>,</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Uw BSN is 111222333 en uw IBAN NL91 ABNA 0417 1643 00. Wij bellen u op 06-12345678 &amp; mailen.</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Kerkstraat 12a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>1234 AB Zwolle</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t>Met vriendelijke groet,</w:t></w:r></w:p><w:p><w:r><w:t>Piet Bakker</w:t></w:r></w:p>
</w:body></w:document>"#;

const CORE: &str = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>Piet Bakker</dc:creator><cp:lastModifiedBy>Anna de Vries</cp:lastModifiedBy></cp:coreProperties>"#;

fn docx() -> Vec<u8> {
    office::build(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", DOCX_BODY.as_bytes()),
        ("word/footer1.xml", br#"<w:ftr xmlns:w="x"><w:p><w:r><w:t>Dossier van mevrouw Jansen</w:t></w:r></w:p></w:ftr>"#),
        ("docProps/core.xml", CORE.as_bytes()),
        ("word/media/image1.png", &[0x89, b'P', b'N', b'G', 1, 2, 3]),
    ])
}

#[test]
fn docx_values_are_replaced_inside_the_runs() {
    let mut m = Mapping::new(Lang::Nl);
    let (out, kind, count) = office::pseudonymise(&docx(), &Pseudonymiser::new(), &mut m).unwrap();
    assert_eq!(kind, OfficeKind::Docx);
    assert!(count >= 9, "{count}");
    let text = office::text(&out).unwrap();
    assert_eq!(
        text,
        "Geachte mevrouw Persoon A,\nUw BSN is [BSN-1] en uw IBAN [IBAN-1]. Wij bellen u op [TELEFOON-1] & mailen.\n[ADRES-1]\n[POSTCODE-1] Plaats A\nMet vriendelijke groet,\nPersoon B\n"
    );
    // nothing personal is left in any part: body, footer, properties
    let parts = unzip_for_test(&out);
    for (name, xml) in &parts {
        for real in ["Jansen", "Jan<", "111222333", "NL91", "06-12345678", "Kerkstraat", "1234 AB", "Zwolle", "Piet", "Bakker", "Anna"] {
            assert!(!xml.contains(real), "{real} left in {name}: {xml}");
        }
    }
}

#[test]
fn docx_keeps_formatting_and_the_same_pseudonym_in_the_footer() {
    let mut m = Mapping::new(Lang::Nl);
    let (out, _, _) = office::pseudonymise(&docx(), &Pseudonymiser::new(), &mut m).unwrap();
    let parts = unzip_for_test(&out);
    let body = &parts["word/document.xml"];
    assert!(body.contains(r#"<w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Persoon A</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"></w:t>"#), "{body}");
    assert!(parts["word/footer1.xml"].contains("Dossier van mevrouw Persoon A"), "{}", parts["word/footer1.xml"]);
    assert!(parts["docProps/core.xml"].contains("<dc:creator>Persoon B</dc:creator>"), "{}", parts["docProps/core.xml"]);
    assert!(!parts["docProps/core.xml"].contains("Anna"), "{}", parts["docProps/core.xml"]);
    assert_eq!(parts["word/media/image1.png"], "\u{fffd}PNG\u{1}\u{2}\u{3}");
}

#[test]
fn odt_paragraphs_spans_and_spaces() {
    let content = r#"<?xml version="1.0"?><office:document-content xmlns:text="t" xmlns:office="o"><office:body><office:text>
<text:h>Verslag</text:h>
<text:p>Gesprek met <text:span text:style-name="T1">dhr. Mohamed</text:span> El Amrani,<text:s/>geboren 3 maart 1985 te Nador.</text:p>
<text:p>Telefoon:<text:tab/>+31 6 12345678</text:p>
</office:text></office:body></office:document-content>"#;
    let odt = office::build(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content.as_bytes()),
        ("meta.xml", br#"<office:document-meta xmlns:meta="m" xmlns:dc="d"><meta:initial-creator>Sanne Visser</meta:initial-creator></office:document-meta>"#),
    ]);
    let (out, kind, _) = office::pseudonymise(&odt, &Pseudonymiser::new(), &mut Mapping::new(Lang::Nl)).unwrap();
    assert_eq!(kind, OfficeKind::Odt);
    assert_eq!(
        office::text(&out).unwrap(),
        "Verslag\nGesprek met dhr. Persoon A, geboren [GEBOORTEDATUM-1] te Plaats A.\nTelefoon:\t[TELEFOON-1]\n"
    );
    let parts = unzip_for_test(&out);
    assert!(parts["meta.xml"].contains("<meta:initial-creator>Persoon B</meta:initial-creator>"), "{}", parts["meta.xml"]);
    assert!(out.starts_with(b"PK\x03\x04") && out[30..].starts_with(b"mimetype"), "ODF's mimetype stays first");
}

#[test]
fn damaged_documents_are_refused() {
    let e = Pseudonymiser::new();
    let mut m = Mapping::new(Lang::Nl);
    assert_eq!(office::pseudonymise(b"", &e, &mut m).unwrap_err(), OfficeError::NotZip);
    assert_eq!(office::pseudonymise(b"Gewoon tekst, geen document", &e, &mut m).unwrap_err(), OfficeError::NotZip);
    let good = docx();
    for cut in [good.len() / 3, good.len() - 30] {
        assert!(office::pseudonymise(&good[..cut], &e, &mut m).is_err(), "cut at {cut}");
    }
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let _ = office::pseudonymise(&flipped, &e, &mut m); // an error or a document, never a panic
    let other = office::build(&[("hello.txt", b"hi")]);
    assert!(matches!(office::pseudonymise(&other, &e, &mut m), Err(OfficeError::Corrupt(_))));
}

fn unzip_for_test(doc: &[u8]) -> std::collections::HashMap<String, String> {
    // read back through the same reader the engine uses: every part as text
    let mut out = std::collections::HashMap::new();
    for name in ["word/document.xml", "word/footer1.xml", "docProps/core.xml", "word/media/image1.png", "content.xml", "meta.xml"] {
        if let Some(data) = office::part(doc, name) {
            out.insert(name.to_string(), String::from_utf8_lossy(&data).into_owned());
        }
    }
    out
}
