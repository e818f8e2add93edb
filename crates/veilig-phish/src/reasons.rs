//! Every signal the engine can report: a stable code, the weight it adds to the score, and the
//! explanation in Dutch and English that an employee reads. `{}` in a text is replaced by the
//! reason's detail (a domain, a file name, a theme).

use serde::Serialize;

/// The language of an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

/// What kind of evidence a signal is: language alone never makes a verdict (see `verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sender authentication, sender address and names.
    Sender,
    /// Links in the body.
    Link,
    /// Attachments.
    Attachment,
    /// Words and phrases.
    Language,
    /// The message could not be read completely.
    Analysis,
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $kind:ident, $weight:literal, $nl:literal, $en:literal;)*) => {
        /// A signal's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// All codes, in the order of this table (the documentation lists them from here).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it appears in JSON and in the documentation.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// Points this signal adds to the score (0–100 in all, capped).
            pub fn weight(self) -> u32 {
                match self { $(Code::$variant => $weight,)* }
            }

            /// The kind of evidence.
            pub fn kind(self) -> Kind {
                match self { $(Code::$variant => Kind::$kind,)* }
            }

            fn template(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Code::$variant, Lang::Nl) => $nl, (Code::$variant, Lang::En) => $en,)*
                }
            }
        }
    };
}

codes! {
    DmarcFail = "auth.dmarc_fail", Sender, 35,
        "Het afzenderdomein {} heeft deze mail niet goedgekeurd (DMARC mislukt): de afzender is waarschijnlijk vervalst.",
        "The sender's domain {} did not approve this message (DMARC failed): the sender is probably forged.";
    SpfFail = "auth.spf_fail", Sender, 15,
        "De mail kwam van een server die niet namens {} mag versturen (SPF mislukt).",
        "The message came from a server that may not send for {} (SPF failed).";
    SpfSoftfail = "auth.spf_softfail", Sender, 8,
        "De verzendende server staat niet op de lijst van {} (SPF softfail).",
        "The sending server is not on the list of {} (SPF softfail).";
    DkimFail = "auth.dkim_fail", Sender, 10,
        "De digitale handtekening (DKIM) van {} klopt niet: de mail is onderweg veranderd of vervalst.",
        "The digital signature (DKIM) of {} does not verify: the message was changed on the way or forged.";
    DisplayNameOrg = "sender.display_name_org", Sender, 45,
        "De afzender noemt zich \"{}\", maar schrijft niet vanaf een adres van de eigen organisatie.",
        "The sender calls themselves \"{}\" but does not write from an address of your own organisation.";
    DisplayNameBrand = "sender.display_name_brand", Sender, 45,
        "De afzender noemt zich {}, maar het adres hoort niet bij dat bedrijf.",
        "The sender calls themselves {} but the address does not belong to that company.";
    ReplyToDiffers = "sender.reply_to_differs", Sender, 15,
        "Een antwoord gaat niet naar de afzender maar naar {}.",
        "A reply does not go to the sender but to {}.";
    ReplyToFreemail = "sender.reply_to_freemail", Sender, 25,
        "Een antwoord gaat naar een gratis mailadres ({}), niet naar de afzender.",
        "A reply goes to a free mail address ({}), not to the sender.";
    LookalikeOrg = "sender.lookalike_org", Sender, 60,
        "Het afzenderdomein {} lijkt op het domein van de eigen organisatie, maar is het niet.",
        "The sender's domain {} looks like your organisation's domain but is not.";
    LookalikeBrand = "sender.lookalike_brand", Sender, 50,
        "Het afzenderdomein {} doet zich voor als een bekend merk.",
        "The sender's domain {} poses as a well-known brand.";
    SenderPunycode = "sender.punycode", Sender, 25,
        "Het afzenderdomein {} gebruikt tekens uit verschillende schriften die op gewone letters lijken.",
        "The sender's domain {} mixes characters of different scripts that look like ordinary letters.";
    FreemailRequest = "sender.freemail_request", Sender, 25,
        "De afzender schrijft vanaf een gratis mailadres ({}) en vraagt om geld of gegevens.",
        "The sender writes from a free mail address ({}) and asks for money or details.";
    NoFrom = "sender.missing", Sender, 20,
        "De mail heeft geen afzender (geen From-regel).",
        "The message has no sender (no From line).";
    LinkTextMismatch = "link.text_mismatch", Link, 40,
        "Een link toont {}, maar gaat ergens anders heen.",
        "A link shows {} but goes somewhere else.";
    LinkShortener = "link.shortener", Link, 15,
        "Een link gaat via een verkorte URL ({}): u ziet niet waar hij heen gaat.",
        "A link goes through a URL shortener ({}): you cannot see where it leads.";
    LinkIpHost = "link.ip_host", Link, 35,
        "Een link gaat naar een kaal IP-adres ({}) in plaats van een website-naam.",
        "A link goes to a bare IP address ({}) instead of a website name.";
    LinkDataUri = "link.data_uri", Link, 40,
        "Een link bevat een verborgen pagina (data:-URI) in plaats van een adres.",
        "A link carries a hidden page (data: URI) instead of an address.";
    LinkLoginUnrelated = "link.login_unrelated", Link, 25,
        "Een link naar een inlogpagina staat op {}, een domein dat niets met de afzender te maken heeft.",
        "A link to a login page is on {}, a domain unrelated to the sender.";
    LinkLookalike = "link.lookalike", Link, 50,
        "Een link gaat naar {}, dat lijkt op een bekend of eigen domein maar het niet is.",
        "A link goes to {}, which looks like a well-known or own domain but is not.";
    LinkBrandInHost = "link.brand_in_host", Link, 45,
        "Een link gaat naar {}: de merknaam staat in het adres, maar de site hoort niet bij dat merk.",
        "A link goes to {}: the brand name is in the address, but the site does not belong to that brand.";
    LinkPunycode = "link.punycode", Link, 25,
        "Een link gaat naar {}, een adres met tekens die op gewone letters lijken.",
        "A link goes to {}, an address with characters that look like ordinary letters.";
    LinkUserinfo = "link.userinfo", Link, 45,
        "Een link begint met {} gevolgd door @: wat ervoor staat is versiering, de link gaat naar de naam erachter.",
        "A link starts with {} followed by @: what comes before it is decoration, the link goes to the name after it.";
    LinkFreeHosting = "link.free_hosting", Link, 20,
        "Een link gaat naar {}, een gratis hosting- of deeldienst waar iedereen in een minuut een pagina neerzet.",
        "A link goes to {}, a free hosting or sharing service where anyone can put up a page in a minute.";
    FormInBody = "link.form", Link, 35,
        "De mail bevat zelf een formulier dat om een wachtwoord vraagt en het naar {} stuurt.",
        "The message itself contains a form that asks for a password and sends it to {}.";
    HtmlForm = "attachment.html_form", Attachment, 60,
        "De bijlage {} is een webpagina met een invulformulier voor een wachtwoord.",
        "The attachment {} is a web page with a form asking for a password.";
    HtmlScript = "attachment.html_script", Attachment, 50,
        "De bijlage {} is een webpagina die zichzelf uit versleutelde tekst opbouwt, zoals phishingpagina's doen om scanners te ontlopen.",
        "The attachment {} is a web page that builds itself from encoded text, as phishing pages do to escape scanners.";
    HtmlAttachment = "attachment.html", Attachment, 25,
        "De bijlage {} is een webpagina; die opent in de browser en kan u naar een valse site sturen.",
        "The attachment {} is a web page; it opens in the browser and can send you to a fake site.";
    DiskImage = "attachment.disk_image", Attachment, 50,
        "De bijlage {} is een schijfkopie (ISO/IMG/VHD): zo omzeilen aanvallers beveiliging.",
        "The attachment {} is a disk image (ISO/IMG/VHD): attackers use these to get past protection.";
    Shortcut = "attachment.shortcut", Attachment, 60,
        "De bijlage {} is een snelkoppeling die een programma start.",
        "The attachment {} is a shortcut that starts a program.";
    Executable = "attachment.executable", Attachment, 60,
        "De bijlage {} is een programma of script dat uw computer kan besmetten.",
        "The attachment {} is a program or script that can infect your computer.";
    Macro = "attachment.macro", Attachment, 45,
        "De bijlage {} bevat macro's: zet ze nooit aan.",
        "The attachment {} contains macros: never enable them.";
    EncryptedArchivePassword = "attachment.encrypted_archive_password", Attachment, 55,
        "De bijlage {} is een versleuteld archief en het wachtwoord staat in de mail: zo ontwijkt malware de virusscanner.",
        "The attachment {} is an encrypted archive with its password in the message: malware hides from scanners this way.";
    EncryptedArchive = "attachment.encrypted_archive", Attachment, 25,
        "De bijlage {} is een versleuteld archief dat niet gecontroleerd kan worden.",
        "The attachment {} is an encrypted archive that cannot be checked.";
    ArchiveExecutable = "attachment.archive_executable", Attachment, 55,
        "Het archief bevat een programma of script: {}.",
        "The archive contains a program or script: {}.";
    DoubleExtension = "attachment.double_extension", Attachment, 65,
        "De bijlage {} heeft een dubbele extensie: het lijkt een document, maar is het niet.",
        "The attachment {} has a double extension: it looks like a document but is not.";
    Credentials = "text.credentials", Language, 20,
        "De mail vraagt om inloggegevens, een wachtwoord of bankgegevens ({}).",
        "The message asks for login details, a password or bank details ({}).";
    Urgency = "text.urgency", Language, 15,
        "De mail zet u onder tijdsdruk of dreigt met gevolgen ({}).",
        "The message puts you under time pressure or threatens consequences ({}).";
    Lure = "text.lure", Language, 10,
        "De mail gebruikt een bekend lokmiddel: {}.",
        "The message uses a known lure: {}.";
    Payment = "text.payment", Language, 20,
        "De mail vraagt om een betaling of overboeking ({}).",
        "The message asks for a payment or bank transfer ({}).";
    QrCode = "text.qr_code", Language, 30,
        "De mail vraagt een QR-code te scannen: zo omzeilt een link de controle op uw computer.",
        "The message asks you to scan a QR code: a link hidden this way escapes the checks on your computer.";
    QrLink = "link.qr_code", Link, 30,
        "Een plaatje in de mail is een QR-code die naar {} leidt: zo ontloopt een link de controle op uw computer.",
        "A picture in the message is a QR code that leads to {}: a link hidden this way escapes the checks on your computer.";
    HiddenCharacters = "text.hidden_characters", Language, 15,
        "De tekst bevat onzichtbare tekens midden in woorden, een truc om filters te omzeilen.",
        "The text hides invisible characters inside words, a trick to get past filters.";
    Incomplete = "analysis.incomplete", Analysis, 30,
        "De mail kon niet volledig worden onderzocht ({}): wees voorzichtig.",
        "The message could not be analysed fully ({}): be careful.";
}

impl Code {
    /// The explanation for a reader in `lang`, with the detail filled in.
    pub fn message(self, lang: Lang, detail: &str) -> String {
        self.template(lang).replacen("{}", detail, 1)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One signal found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: Code,
    /// What the signal is about: a domain, a file name, a phrase. Empty when there is nothing to name.
    pub detail: String,
}

impl Reason {
    pub fn new(code: Code, detail: impl Into<String>) -> Reason {
        Reason { code, detail: detail.into() }
    }

    /// The explanation in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        self.code.message(lang, &self.detail)
    }
}
