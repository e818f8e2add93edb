//! What the engine finds and what it makes of it, as snapshots: a change in behaviour shows up
//! as a diff to review (UPDATE_EXPECT=1 rewrites them).

use expect_test::{Expect, expect};
use veilig_pseudo::{Format, Label, Lang, Mapping, Pseudonymiser, Terms};

fn check(text: &str, lang: Lang, want: Expect) {
    let mut m = Mapping::new(lang);
    let out = Pseudonymiser::new().pseudonymise(text, &mut m);
    let mut s = format!("{}\n--\n", out.text);
    for sp in &out.spans {
        s.push_str(&format!(
            "{} {:?} {:?} {}\n",
            sp.label,
            &text[sp.byte_start..sp.byte_end],
            sp.replacement.as_deref().unwrap_or("check?"),
            sp.reason
        ));
    }
    want.assert_eq(&s);
}

#[test]
fn dutch_client_letter() {
    check(
        "Geachte mevrouw Jansen-de Vries,\n\nNaar aanleiding van ons gesprek met u en uw zoon Daan op 3 maart bevestig ik dat \
         cliënt A.M. van 't Hof (geboren 12-03-1985 te Paramaribo, BSN 1112.22.333) per 1 april een uitkering krijgt op \
         NL91 ABNA 0417 1643 00. Mevrouw Jansen-de Vries kunt u bellen op 06-12345678 of +31 (0)20 123 4567. Van 't Hofs \
         dossiernummer is 2024-0815; het adres blijft Kerkstraat 12a, 1234 AB Zwolle.\n\nMet vriendelijke groet,\nPiet Bakker\nConsulent",
        Lang::Nl,
        expect![[r#"
            Geachte mevrouw Persoon A,

            Naar aanleiding van ons gesprek met u en uw zoon Persoon B op 3 maart bevestig ik dat cliënt Cliënt C (geboren [GEBOORTEDATUM-1] te Plaats A, BSN [BSN-1]) per 1 april een uitkering krijgt op [IBAN-1]. Mevrouw Persoon A kunt u bellen op [TELEFOON-1] of [TELEFOON-2]. Cliënt C's dossiernummer is [DOSSIER-1]; het adres blijft [ADRES-1], [POSTCODE-1] Plaats B.

            Met vriendelijke groet,
            Persoon D
            Consulent
            --
            PERSON "Jansen-de Vries" "Persoon A" context:greeting
            PERSON "Daan" "Persoon B" context:relation
            PERSON "A.M. van 't Hof" "Cliënt C" context:client
            DATE_OF_BIRTH "12-03-1985" "[GEBOORTEDATUM-1]" context:birth
            CITY "Paramaribo" "Plaats A" context:residence
            BSN "1112.22.333" "[BSN-1]" context:bsn+11-check
            IBAN "NL91 ABNA 0417 1643 00" "[IBAN-1]" rule:iban-mod97
            PERSON "Jansen-de Vries" "Persoon A" context:title
            PHONE "06-12345678" "[TELEFOON-1]" rule:phone-national
            PHONE "+31 (0)20 123 4567" "[TELEFOON-2]" rule:phone-international
            PERSON "Van 't Hofs" "Cliënt C's" context:same-mention
            CASE_ID "2024-0815" "[DOSSIER-1]" context:case-number
            ADDRESS "Kerkstraat 12a" "[ADRES-1]" rule:street+number
            POSTCODE "1234 AB" "[POSTCODE-1]" rule:postcode-nl
            CITY "Zwolle" "Plaats B" context:after-postcode
            PERSON "Piet Bakker" "Persoon D" list:first-name+surname
        "#]],
    );
}

#[test]
fn english_mail() {
    check(
        "Dear Mrs O'Brien,\n\nYour son Oliver (date of birth: March 3, 2015) is registered under client number CL-44712. \
         Please call 07700 900418 or mail oliver.obrien@example.org. Mrs O'Brien's address is 12 Baker Street, London NW1 6XE.\n\nKind regards,\nSarah Whitfield",
        Lang::En,
        expect![[r#"
            Dear Mrs Person A,

            Your son Person B (date of birth: [DATE-OF-BIRTH-1]) is registered under client number [CASE-1]. Please call [PHONE-1] or mail [EMAIL-1]. Mrs Person A's address is [ADDRESS-1], City A [POSTCODE-1].

            Kind regards,
            Person C
            --
            PERSON "O'Brien" "Person A" context:greeting
            PERSON "Oliver" "Person B" context:relation
            DATE_OF_BIRTH "March 3, 2015" "[DATE-OF-BIRTH-1]" context:birth
            CASE_ID "CL-44712" "[CASE-1]" context:case-number
            PHONE "07700 900418" "[PHONE-1]" rule:phone-national
            EMAIL "oliver.obrien@example.org" "[EMAIL-1]" rule:email
            PERSON "O'Brien's" "Person A's" context:title
            ADDRESS "12 Baker Street" "[ADDRESS-1]" rule:number+street
            CITY "London" "City A" context:before-postcode
            POSTCODE "NW1 6XE" "[POSTCODE-1]" rule:postcode-uk
            PERSON "Sarah Whitfield" "Person C" rule:unknown-capitalised-pair
        "#]],
    );
}

#[test]
fn numbers_that_are_not_personal_stay() {
    // amounts, invoice numbers, law articles, a 9-digit number failing the 11-check, a date
    let text = "Factuurnummer 2024-00123 van 14 juni: € 1.234,56 op grond van artikel 7:658 BW. Ordernummer 123456789. \
                Het BSN 123456789 klopt niet.";
    let out = Pseudonymiser::new().pseudonymise(text, &mut Mapping::new(Lang::Nl));
    assert_eq!(out.text, text, "nothing is replaced: {:?}", out.spans);
    // the BSN that fails the 11-check is flagged for review, not replaced
    let flags: Vec<_> = out.spans.iter().filter(|s| s.replacement.is_none()).collect();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].label, Label::Bsn);
    assert_eq!(&text[flags[0].byte_start..flags[0].byte_end], "123456789");
}

#[test]
fn offsets_count_unicode_scalars() {
    let text = "Cliënt: Zoë Çelik, e-mail zoë@example.nl";
    let out = Pseudonymiser::new().pseudonymise(text, &mut Mapping::new(Lang::Nl));
    let person = out.spans.iter().find(|s| s.label == Label::Person).unwrap();
    assert_eq!(&text[person.byte_start..person.byte_end], "Zoë Çelik");
    let chars: String = text.chars().skip(person.start).take(person.end - person.start).collect();
    assert_eq!(chars, "Zoë Çelik");
    assert!(person.byte_end - person.byte_start > person.end - person.start);
}

#[test]
fn one_vault_one_pseudonym_across_documents() {
    let e = Pseudonymiser::new();
    let mut m = Mapping::new(Lang::Nl);
    let a = e.pseudonymise("Gesprek met mevrouw Fatima El Amrani over haar schulden.", &mut m);
    assert_eq!(a.text, "Gesprek met mevrouw Persoon A over haar schulden.");
    // a later document mentions her by surname only, in capitals and as a possessive
    let b = e.pseudonymise("DOSSIER EL AMRANI: El Amrani belde. Fatima's aanvraag loopt.", &mut m);
    assert_eq!(b.text, "DOSSIER Persoon A: Persoon A belde. Persoon A's aanvraag loopt.", "{:?}", b.spans);
}

#[test]
fn organisation_terms_from_csv() {
    let terms = Terms::from_csv("value,label\nProject Zeemeeuw,\nStichting De Linde,PERSON\n").unwrap();
    assert_eq!(terms.len(), 2);
    let e = Pseudonymiser::new().with_terms(terms);
    let out = e.pseudonymise("Het project zeemeeuw loopt bij Stichting De Linde.", &mut Mapping::new(Lang::Nl));
    assert_eq!(out.text, "Het [TERM-1] loopt bij Persoon A.");
    assert_eq!(
        Terms::from_csv("x,COLOUR").unwrap_err().to_string(),
        "line 1: unknown label \"COLOUR\" (use one of PERSON, CITY, CASE_ID, … or leave it empty)"
    );
}

#[test]
fn csv_columns_are_replaced_whole() {
    let text =
        "naam;bsn;woonplaats;bedrag;opmerking\nLotte Visser;111222333;Zwolle;45,00;belt Henk terug\nJ. de Boer;123456789;Epe;12,50;\n";
    let out = Pseudonymiser::new().pseudonymise_as(Format::Csv, text, &mut Mapping::new(Lang::Nl));
    assert_eq!(
        out.text,
        "naam;bsn;woonplaats;bedrag;opmerking\nPersoon A;[BSN-1];Plaats A;45,00;belt Persoon B terug\nPersoon C;123456789;Plaats B;12,50;\n"
    );
    // the second BSN fails the 11-check: flagged, kept
    assert!(out.spans.iter().any(|s| s.label == Label::Bsn && s.replacement.is_none()));
    // "undo" works in columns too
    let kept = Pseudonymiser::new().keeping(["Zwolle"]).pseudonymise_as(Format::Csv, text, &mut Mapping::new(Lang::Nl));
    assert!(kept.text.contains(";Zwolle;"), "{}", kept.text);
}

#[test]
fn bad_input_is_harmless() {
    let e = Pseudonymiser::new();
    for text in
        ["", " ", "\n\n\n", "[[", "@", "@@.@", "+", "+31", "06-", "1234 AB", "NL91", "Mevrouw", "Beste ,", "\u{0}\u{1}", "'s-", "- - -"]
    {
        let mut m = Mapping::new(Lang::Nl);
        let out = e.pseudonymise(text, &mut m);
        for s in &out.spans {
            assert!(s.byte_start <= s.byte_end && s.byte_end <= text.len(), "{text:?}: {s:?}");
        }
    }
    // found by the fuzzer (pseudo_text): a bracket around a non-ASCII character before digits
    let m = Mapping::new(Lang::Nl);
    assert_eq!(veilig_pseudo::restore::restore("[\u{fffd}6]", &m).text, "[\u{fffd}6]");
    // many open brackets: restore looks a few bytes ahead, not to the end each time
    let brackets = "[".repeat(200_000);
    assert_eq!(veilig_pseudo::restore::restore(&brackets, &m).text, brackets);
    // a long text without spaces or with only digits stays linear and intact
    let digits = "1".repeat(200_000);
    assert_eq!(e.pseudonymise(&digits, &mut Mapping::new(Lang::Nl)).text, digits);
}
