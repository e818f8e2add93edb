//! Finding the reported message in what an employee forwarded.

use veilig_phish::{Verdict, analyse, reported_message};

use crate::ctx;

const ORIGINAL: &str = "Authentication-Results: mx.zorggroephorizon.nl; spf=fail smtp.mailfrom=ggd-afspraak.example; dmarc=fail header.from=ggd.nl\r\n\
From: GGD <info@ggd.nl>\r\nTo: m.devries@zorggroephorizon.nl\r\nSubject: Uw coronatest uitslag\r\nMessage-ID: <orig-1@ggd-afspraak.example>\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n<p>Bekijk uw uitslag binnen 24 uur via <a href=\"https://ggd-afspraak.example/inloggen\">https://www.ggd.nl/uitslag</a> met DigiD.</p>\r\n";

#[test]
fn attached_original_keeps_its_authentication() {
    let report = format!(
        "From: Marieke de Vries <m.devries@zorggroephorizon.nl>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: Fwd: Uw coronatest uitslag\r\nMessage-ID: <rep-1@zorggroephorizon.nl>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f\"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nIs dit te vertrouwen?\r\n--f\r\n\
         Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"origineel.eml\"\r\n\r\n{ORIGINAL}\r\n--f--\r\n"
    );
    let r = reported_message(report.as_bytes());
    assert_eq!(r.form, veilig_phish::Form::Attached);
    assert_eq!(r.reporter.as_deref(), Some("m.devries@zorggroephorizon.nl"));
    assert_eq!(r.report_id.as_deref(), Some("rep-1@zorggroephorizon.nl"));
    let a = analyse(&r.message, &ctx());
    assert_eq!(a.verdict, Verdict::Phishing);
    assert!(a.reasons.iter().any(|r| r.code.as_str() == "auth.dmarc_fail"), "{:?}", a.reasons);
    assert_eq!(a.fingerprint.from.as_deref(), Some("info@ggd.nl"));
}

#[test]
fn inline_forward_from_outlook_in_english() {
    let report = "From: Pieter Jansen <p.jansen@zorggroephorizon.nl>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: FW: Invoice overdue\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nPlease check.\r\n\r\nFrom: Accounts Team [mailto:accounts@rnicrosoft-billing.example]\r\nSent: Monday, 2 November 2026 09:12\r\n\
        To: Pieter Jansen <p.jansen@zorggroephorizon.nl>\r\nSubject: Invoice overdue\r\n\r\nYour Microsoft 365 subscription will be suspended. Update your payment at https://rnicrosoft-billing.example/login within 24 hours.\r\n";
    let r = reported_message(report.as_bytes());
    assert_eq!(r.form, veilig_phish::Form::Inline);
    let a = analyse(&r.message, &ctx());
    assert_eq!(a.fingerprint.from.as_deref(), Some("accounts@rnicrosoft-billing.example"));
    assert_eq!(a.subject.as_deref(), Some("Invoice overdue"));
    assert_eq!(a.verdict, Verdict::Phishing, "{:?}", a.reasons);
}

#[test]
fn a_message_that_is_no_forward_is_analysed_itself() {
    let r = reported_message(ORIGINAL.as_bytes());
    assert_eq!(r.form, veilig_phish::Form::Direct);
    assert_eq!(r.message, ORIGINAL.as_bytes());
}
