//! The language of phishing, in Dutch and English: requests for credentials, pressure, payment
//! requests, QR codes and the lures of the day. Phrases are matched on lower-cased text with
//! whitespace collapsed, all at once (Aho-Corasick).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a phrase points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Credentials,
    Urgency,
    Payment,
    Qr,
    Lure(&'static str),
}

/// Lures by theme: the theme's name as the explanation shows it (Dutch / English), and phrases.
const LURES: &[(&str, &[&str])] = &[
    (
        "corona / COVID-19",
        &["corona", "covid", "coronatest", "testuitslag", "test result", "sneltest", "quarantaine", "quarantine", "besmetting"],
    ),
    ("vaccinatie / vaccination", &["vaccinatie", "vaccination", "vaccin", "prikafspraak", "booster", "coronabewijs", "vaccine"]),
    ("energietoeslag / energy allowance", &["energietoeslag", "energy allowance", "energiecompensatie", "energy rebate", "energieplafond"]),
    (
        "belastingteruggave / tax refund",
        &["belastingteruggave", "teruggave", "tax refund", "toeslag", "restitutie", "heffingskorting", "refund of"],
    ),
    (
        "pakket / parcel",
        &[
            "pakket",
            "parcel",
            "zending",
            "bezorging",
            "package could not",
            "delivery attempt",
            "verzendkosten",
            "shipping fee",
            "track & trace",
        ],
    ),
    (
        "wachtwoord verloopt / password expiry",
        &[
            "wachtwoord verloopt",
            "wachtwoord is verlopen",
            "password expires",
            "password will expire",
            "password has expired",
            "mailbox is vol",
            "mailbox is full",
            "mailbox quota",
            "opslag is vol",
            "storage is full",
        ],
    ),
    ("DigiD", &["digid"]),
    (
        "bankbeveiliging / bank security",
        &[
            "bankpas",
            "betaalpas",
            "pinpas",
            "nieuwe pas",
            "debit card",
            "bank card",
            "beveiligingsupdate",
            "security update",
            "verdachte transactie",
            "suspicious transaction",
            "unusual sign-in",
            "ongebruikelijke aanmelding",
            "verdachte activiteit",
            "suspicious activity",
            "identificatie",
            "ingescande",
        ],
    ),
];

const CREDENTIALS: &[&str] = &[
    "bevestig uw wachtwoord",
    "bevestig je wachtwoord",
    "voer uw wachtwoord",
    "vul uw wachtwoord",
    "uw inloggegevens",
    "je inloggegevens",
    "inloggegevens te bevestigen",
    "verifieer uw",
    "verifieer je",
    "verifiëren",
    "uw gegevens bevestigen",
    "uw gegevens te bevestigen",
    "gegevens te verifiëren",
    "uw gegevens controleren",
    "gegevens bij te werken",
    "gegevens bijwerken",
    "log in om",
    "log direct in",
    "meld u aan",
    "pincode",
    "tan-code",
    "inlogcode",
    "verificatiecode",
    "bankgegevens",
    "rekeningnummer",
    "iban",
    "kopie van uw id",
    "confirm your password",
    "verify your account",
    "verify your identity",
    "verify your details",
    "confirm your identity",
    "confirm your details",
    "update your details",
    "update your payment",
    "update your billing",
    "validate your",
    "re-enter your",
    "enter your password",
    "login credentials",
    "sign in to confirm",
    "sign in to keep",
    "your credentials",
    "card details",
    "security code",
];

const URGENCY: &[&str] = &[
    "actie vereist",
    "action required",
    "account te behouden",
    "toegang te behouden",
    "keep your account",
    "keep access",
    "retain access",
    "maintain access",
    "binnen 24 uur",
    "binnen 48 uur",
    "binnen 12 uur",
    "vandaag nog",
    "direct actie",
    "onmiddellijk",
    "dringend",
    "spoed",
    "wordt geblokkeerd",
    "wordt uw account",
    "wordt afgesloten",
    "wordt verwijderd",
    "wordt opgeschort",
    "geblokkeerd",
    "laatste herinnering",
    "laatste waarschuwing",
    "incassobureau",
    "deurwaarder",
    "within 24 hours",
    "within 48 hours",
    "immediately",
    "urgent",
    "act now",
    "final notice",
    "final reminder",
    "last warning",
    "will be suspended",
    "will be closed",
    "will be deleted",
    "will be blocked",
    "has been suspended",
    "has been locked",
    "avoid suspension",
    "account is locked",
    "account has been limited",
];

const PAYMENT: &[&str] = &[
    "overboeking",
    "overmaken",
    "maak het bedrag",
    "betaling uitvoeren",
    "spoedbetaling",
    "openstaande factuur",
    "openstaand bedrag",
    "achterstallige betaling",
    "nieuw rekeningnummer",
    "gewijzigde bankgegevens",
    "cadeaukaart",
    "cadeaubon",
    "bank transfer",
    "wire transfer",
    "wire the",
    "make a payment",
    "process a payment",
    "outstanding invoice",
    "overdue invoice",
    "new bank details",
    "changed bank details",
    "gift card",
    "gift cards",
    "ben in een vergadering",
    "zit in een vergadering",
    "in a meeting",
    "are you available",
    "ben je beschikbaar",
    "bent u beschikbaar",
];

const QR: &[&str] = &["qr-code", "qr code", "qrcode", "scan de code", "scan the code"];

/// The phrase matcher, built once per `Context`.
#[derive(Debug, Clone)]
pub struct Phrases {
    matcher: AhoCorasick,
    categories: Vec<(Category, &'static str)>,
}

impl Phrases {
    pub fn new() -> Result<Phrases, aho_corasick::BuildError> {
        let mut categories = Vec::new();
        for (list, cat) in
            [(CREDENTIALS, Category::Credentials), (URGENCY, Category::Urgency), (PAYMENT, Category::Payment), (QR, Category::Qr)]
        {
            categories.extend(list.iter().map(|p| (cat, *p)));
        }
        for (theme, phrases) in LURES {
            categories.extend(phrases.iter().map(|p| (Category::Lure(theme), *p)));
        }
        let matcher = AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(categories.iter().map(|(_, p)| *p))?;
        Ok(Phrases { matcher, categories })
    }

    /// Every category found in `text` (already normalised by `normalise`) with the first
    /// phrase that showed it. Phrases must start and end at word boundaries.
    pub fn find(&self, text: &str) -> Vec<(Category, &'static str)> {
        let mut found: Vec<(Category, &'static str)> = Vec::new();
        let bytes = text.as_bytes();
        for m in self.matcher.find_iter(text) {
            let before_ok = m.start() == 0 || !is_word_byte(bytes[m.start() - 1]);
            let after_ok = m.end() >= bytes.len() || !is_word_byte(bytes[m.end()]);
            let Some(&(cat, phrase)) = self.categories.get(m.pattern().as_usize()) else { continue };
            // Words may carry a Dutch compound after them ("coronatestuitslag"), but a short
            // phrase inside a longer word ("iban" in "Tibane") is no match.
            let after_ok = after_ok || phrase.len() >= 7;
            if before_ok && after_ok && !found.iter().any(|(c, _)| *c == cat) {
                found.push((cat, phrase));
            }
        }
        found
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Lower case, whitespace collapsed, invisible characters removed. Returns the text and whether
/// invisible characters sat inside words (a filter-evasion trick).
pub fn normalise(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut hidden_in_word = false;
    let mut prev_alpha = false;
    let mut pending_hidden = false;
    let mut space = false;
    for c in text.chars() {
        if matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{00ad}' | '\u{034f}') {
            pending_hidden = prev_alpha;
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            prev_alpha = false;
            pending_hidden = false;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if pending_hidden && c.is_alphabetic() {
            hidden_in_word = true;
        }
        pending_hidden = false;
        prev_alpha = c.is_alphabetic();
        out.extend(c.to_lowercase());
    }
    (out, hidden_in_word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_categories_once_on_word_boundaries() {
        let p = Phrases::new().unwrap();
        let (t, hidden) = normalise("Uw account wordt binnen 24 uur GEBLOKKEERD.\nVerifieer uw gegevens via DigiD. Tibane");
        assert!(!hidden);
        assert_eq!(
            p.find(&t),
            vec![(Category::Urgency, "binnen 24 uur"), (Category::Credentials, "verifieer uw"), (Category::Lure("DigiD"), "digid")]
        );
        let (_, hidden) = normalise("pass\u{200b}word");
        assert!(hidden);
    }
}
