//! One small, real-looking message per signal, with the whole verdict as a snapshot.

use expect_test::{Expect, expect};
use veilig_phish::{Code, Lang};

use crate::run;

fn check(raw: &str, expect: Expect) {
    expect.assert_eq(&run(raw));
}

const PASS: &str = "Authentication-Results: mx.zorggroephorizon.nl; spf=pass smtp.mailfrom=bounce.ing.nl; dkim=pass header.d=ing.nl; dmarc=pass header.from=ing.nl\n";

#[test]
fn real_bank_notice_is_clean() {
    check(
        &format!(
            "{PASS}From: ING <noreply@ing.nl>\nTo: m.devries@zorggroephorizon.nl\nSubject: Uw nieuwe betaalpas is onderweg\nContent-Type: text/html; charset=utf-8\n\n\
             <p>Uw nieuwe betaalpas is verstuurd. Activeer hem binnen 14 dagen in de app of via <a href=\"https://www.ing.nl/particulier/betalen/pas\">ing.nl</a>.</p>"
        ),
        expect![[r#"
            clean 0
        "#]],
    );
}

#[test]
fn forged_bank_with_failing_dmarc_and_a_lookalike_link() {
    check(
        "Authentication-Results: mx.zorggroephorizon.nl; spf=fail smtp.mailfrom=mailer.example; dkim=none; dmarc=fail (p=reject) header.from=ing.nl\n\
         From: ING Klantenservice <service@ing.nl>\nTo: m.devries@zorggroephorizon.nl\nSubject: Uw rekening wordt geblokkeerd\nContent-Type: text/html\n\n\
         <p>Verifieer uw gegevens binnen 24 uur: <a href=\"https://mijn.ing.nl-veilig.example/login\">https://mijn.ing.nl/login</a></p>",
        expect![[r#"
            phishing 100
            link.brand_in_host mijn.ing.nl-veilig.example
            link.text_mismatch mijn.ing.nl
            auth.dmarc_fail ing.nl
            link.login_unrelated mijn.ing.nl-veilig.example
            text.credentials verifieer uw
            auth.spf_fail mailer.example
            text.urgency wordt geblokkeerd
        "#]],
    );
}

#[test]
fn display_name_of_the_director_from_free_mail_asking_for_a_transfer() {
    check(
        "From: Sanne Bakker <sanne.bakker.directie@gmail.com>\nTo: p.jansen@zorggroephorizon.nl\nSubject: Dringend\n\n\
         Pieter, ben je beschikbaar? Ik zit in een vergadering en er moet vandaag nog een overboeking van 9.850 euro naar een nieuwe leverancier. Ik stuur je zo het IBAN.",
        expect![[r#"
            phishing 100
            sender.display_name_org Sanne Bakker
            sender.freemail_request gmail.com
            text.payment ben je beschikbaar
            text.credentials iban
            text.urgency dringend
        "#]],
    );
}

#[test]
fn lookalike_org_domain_and_reply_to_free_mail() {
    check(
        "From: ICT Servicedesk <servicedesk@zorggroephoriz0n.nl>\nReply-To: ict.zorggroep@outlook.com\nTo: m.devries@zorggroephorizon.nl\nSubject: Wachtwoord verloopt vandaag\n\n\
         Uw wachtwoord verloopt vandaag. Bevestig uw wachtwoord via https://zorggroephoriz0n.nl/owa/login om uw mailbox te behouden.",
        expect![[r#"
            phishing 100
            sender.lookalike_org zorggroephoriz0n.nl
            sender.reply_to_freemail ict.zorggroep@outlook.com
            text.credentials bevestig uw wachtwoord
            text.lure wachtwoord verloopt / password expiry
        "#]],
    );
}

#[test]
fn confusable_punycode_sender_and_link() {
    // "аpple.com" with a Cyrillic а.
    check(
        "From: Apple <id@xn--pple-43d.com>\nTo: m.devries@zorggroephorizon.nl\nSubject: Your Apple ID has been locked\nContent-Type: text/html\n\n\
         <a href=\"https://xn--pple-43d.com/verify\">Unlock your account</a>",
        expect![[r#"
            phishing 100
            sender.lookalike_brand аpple.com (xn--pple-43d.com)
            sender.display_name_brand Apple
            sender.punycode аpple.com (xn--pple-43d.com)
            link.punycode аpple.com (xn--pple-43d.com)
            text.urgency has been locked
        "#]],
    );
}

#[test]
fn shortener_ip_host_and_data_uri() {
    check(
        "From: Pakketdienst <info@track-zending.example>\nTo: m.devries@zorggroephorizon.nl\nSubject: Uw pakket ligt klaar\nContent-Type: text/html\n\n\
         <a href=\"https://bit.ly/3xYz\">Plan bezorging</a> <a href=\"http://185.23.11.7/pakket\">Track</a> <a href=\"data:text/html;base64,PGgxPg==\">Factuur</a>",
        expect![[r#"
            phishing 100
            link.data_uri 
            link.ip_host 185.23.11.7
            link.shortener bit.ly
            text.lure pakket / parcel
        "#]],
    );
}

#[test]
fn newsletter_with_tracking_links_from_an_authenticated_sender_is_clean() {
    check(
        "Authentication-Results: mx.zorggroephorizon.nl; spf=pass smtp.mailfrom=bounces.mailing.example; dkim=pass header.d=bol.com; dmarc=pass header.from=bol.com\n\
         From: bol.com <nieuwsbrief@bol.com>\nList-Unsubscribe: <https://mailing.example/u/1>\nTo: m.devries@zorggroephorizon.nl\nSubject: Deze week 20% korting\nContent-Type: text/html\n\n\
         <a href=\"https://click.mailing.example/ls/click?upn=abc\">https://www.bol.com/nl/aanbiedingen</a> <a href=\"https://click.mailing.example/ls/click?upn=def\">Lees meer</a>",
        expect![[r#"
            clean 0
        "#]],
    );
}

#[test]
fn internal_it_announcement_about_passwords_is_clean() {
    check(
        "Authentication-Results: mx.zorggroephorizon.nl; spf=pass smtp.mailfrom=zorggroephorizon.nl; dkim=pass header.d=zorggroephorizon.nl; dmarc=pass header.from=zorggroephorizon.nl\n\
         From: ICT <ict@zorggroephorizon.nl>\nTo: allen@zorggroephorizon.nl\nSubject: Wijzig uw wachtwoord voor vrijdag\n\n\
         Beste collega's, wijzig uw wachtwoord voor vrijdag via https://portaal.zorggroephorizon.nl/wachtwoord. Dringend: daarna wordt uw account geblokkeerd.",
        expect![[r#"
            clean 0
        "#]],
    );
}

#[test]
fn dangerous_attachments() {
    let mail = |name: &str, ctype: &str, b64: &str| {
        format!(
            "From: Boekhouding <facturen@leverancier.example>\nTo: p.jansen@zorggroephorizon.nl\nSubject: Factuur 2026-118\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nZie bijlage.\n--b1\nContent-Type: {ctype}\n\
             Content-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n{b64}\n--b1--\n"
        )
    };
    check(
        &mail("factuur.pdf.exe", "application/octet-stream", "TVqQAAMAAAAEAAAA"),
        expect![[r#"
            phishing 65
            attachment.double_extension factuur.pdf.exe
        "#]],
    );
    check(
        &mail("Factuur.iso", "application/octet-stream", "AAAA"),
        expect![[r#"
            suspicious 50
            attachment.disk_image Factuur.iso
        "#]],
    );
    check(
        &mail("document.lnk", "application/octet-stream", "TAAAAAEUAgA="),
        expect![[r#"
            phishing 60
            attachment.shortcut document.lnk
        "#]],
    );
    // An HTML page with a password form.
    check(
        &mail("Inloggen.html", "text/html", "PGZvcm0gYWN0aW9uPSJodHRwczovL2MuZXhhbXBsZS9wIj48aW5wdXQgdHlwZT1wYXNzd29yZD48L2Zvcm0+"),
        expect![[r#"
            phishing 60
            attachment.html_form Inloggen.html
        "#]],
    );
}

#[test]
fn qr_code_in_an_image_asking_to_be_scanned() {
    check(
        "From: Microsoft 365 <no-reply@m365-beveiliging.example>\nTo: m.devries@zorggroephorizon.nl\nSubject: Actie vereist: MFA opnieuw instellen\nMIME-Version: 1.0\n\
         Content-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n<p>Scan de QR-code met uw telefoon om uw account te behouden.</p><img src=\"cid:qr\">\n\
         --r\nContent-Type: image/png\nContent-ID: <qr>\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n",
        expect![[r#"
            phishing 90
            sender.display_name_brand Microsoft
            text.qr_code 
            text.urgency actie vereist
        "#]],
    );
}

#[test]
fn explanations_exist_in_both_languages_for_every_code() {
    for code in Code::ALL {
        let nl = code.message(Lang::Nl, "x.example");
        let en = code.message(Lang::En, "x.example");
        assert!(nl.len() > 20 && en.len() > 20 && nl != en, "{}", code.as_str());
        assert!(!nl.contains("{}") && !en.contains("{}"), "{}", code.as_str());
        assert!(code.weight() > 0 && code.weight() <= 65, "{}", code.as_str());
    }
}

/// A PNG of a QR code for `text`, 4 pixels a module with a quiet zone, drawn here.
fn qr_png(text: &str) -> Vec<u8> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).unwrap();
    let (scale, border) = (4usize, 4i32);
    let size = (qr.size() + 2 * border) as usize * scale;
    let mut pixels = vec![255u8; size * size];
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = ((x / scale) as i32 - border, (y / scale) as i32 - border);
            if qr.get_module(mx, my) {
                pixels[y * size + x] = 0;
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size as u32, size as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}

#[test]
fn the_link_inside_a_qr_code_image_is_checked() {
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.encode(qr_png("https://m365-herstel.example/login?u=marieke"));
    let mail = format!(
        "From: IT Support <support@helpdesk-portal.example>\nTo: m.devries@zorggroephorizon.nl\nSubject: Nieuwe beveiliging\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nZie de afbeelding.\n--q\nContent-Type: image/png\n\
         Content-Disposition: attachment; filename=\"scan.png\"\nContent-Transfer-Encoding: base64\n\n{png}\n--q--\n"
    );
    check(
        &mail,
        expect![[r#"
            suspicious 55
            link.qr_code m365-herstel.example
            link.login_unrelated m365-herstel.example
        "#]],
    );
    // A QR code with no web address (a ticket number) is no link.
    let ticket = base64::engine::general_purpose::STANDARD.encode(qr_png("TICKET-2026-0042-7781"));
    let a = veilig_phish::analyse(mail.replace(&png, &ticket).as_bytes(), &crate::ctx());
    assert!(a.reasons.iter().all(|r| r.code != Code::QrLink), "{:?}", a.reasons);
}
