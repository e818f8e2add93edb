//! Phishing analysis, pure: an e-mail's bytes in, a verdict (*phishing*, *suspicious*, *clean*)
//! with a score and explained reasons out. No I/O, no clock: the report mailbox, the command line
//! and the benchmarks all call [`analyse`] with a [`Context`] that says who the organisation is.
//!
//! The score adds the weights of distinct signals (see [`Code`]) and is capped at 100. Words alone
//! never make a verdict: without a signal from the sender, the links or the attachments, language
//! counts for at most 25 points, below the threshold of *suspicious* (30); *phishing* starts at 60.
//! A message that could not be read completely is at least *suspicious*.

mod attach;
mod auth;
mod brands;
mod domain;
mod html;
mod qr;
mod reasons;
mod report;
mod text;

use std::collections::BTreeSet;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

pub use brands::{Brand, Brands};
pub use domain::Host;
pub use qr::png_codes as qr_codes_in_png;
pub use reasons::{Code, Kind, Lang, Reason};
pub use report::{Form, Reported, reported_message};

use crate::auth::{Outcome, Results};
use crate::domain::Target;
use crate::text::{Category, Phrases};

/// Errors in building a [`Context`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("shipped data is broken: {0}")]
    Data(String),
    #[error("not a domain name: {0}")]
    Domain(String),
}

/// The score at which a message is *suspicious*.
pub const SUSPICIOUS_AT: u32 = 30;
/// The score at which a message is *phishing*.
pub const PHISHING_AT: u32 = 60;
/// Language without other evidence counts for at most this many points.
const LANGUAGE_ALONE_CAP: u32 = 25;
/// Messages larger than this are analysed up to this size and called incomplete.
pub const MAX_MESSAGE_BYTES: usize = 50 * 1024 * 1024;
/// More MIME parts than this and the rest is not looked at.
const MAX_PARTS: usize = 2_000;
/// Text looked at for phrases, per message.
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Messages inside messages deeper than this are not looked into.
const MAX_NESTING: usize = 3;
/// Links looked at, per message.
const MAX_LINKS: usize = 300;

/// What the engine knows about the organisation it protects, and its shipped lists.
#[derive(Debug, Clone)]
pub struct Context {
    org_domains: Vec<String>,
    org_targets: Vec<Target>,
    people: Vec<Vec<String>>,
    authserv_ids: Vec<String>,
    brands: Brands,
    phrases: Phrases,
}

impl Context {
    /// A context with the shipped brand list and no organisation yet.
    pub fn new() -> Result<Context, Error> {
        Ok(Context {
            org_domains: Vec::new(),
            org_targets: Vec::new(),
            people: Vec::new(),
            authserv_ids: Vec::new(),
            brands: Brands::shipped()?,
            phrases: Phrases::new().map_err(|e| Error::Data(format!("phrases: {e}")))?,
        })
    }

    /// Adds one of the organisation's own mail domains.
    pub fn org_domain(mut self, domain: &str) -> Result<Context, Error> {
        let host = Host::parse(domain).ok_or_else(|| Error::Domain(domain.to_string()))?;
        let target = Target::new(&host.ascii).ok_or_else(|| Error::Domain(domain.to_string()))?;
        self.org_domains.push(host.ascii);
        self.org_targets.push(target);
        Ok(self)
    }

    /// Adds a person of the organisation whose name a forger may borrow ("Sanne Bakker").
    pub fn person(mut self, name: &str) -> Context {
        let w = brands::words(name);
        if w.len() >= 2 {
            self.people.push(w);
        }
        self
    }

    /// Trusts `Authentication-Results` only from this server (the organisation's own MX).
    /// Without any, the topmost header is read.
    pub fn authserv_id(mut self, id: &str) -> Context {
        self.authserv_ids.push(id.trim().to_ascii_lowercase());
        self
    }

    fn is_org(&self, host: &Host) -> bool {
        self.org_domains.iter().any(|d| host.within(d))
    }

    /// The organisation's registrable domain labels, for names in display names.
    fn org_labels(&self) -> impl Iterator<Item = &str> {
        self.org_targets.iter().map(|t| t.label.as_str()).filter(|l| l.len() >= 5)
    }
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Phishing,
    Suspicious,
    Clean,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Phishing => "phishing",
            Verdict::Suspicious => "suspicious",
            Verdict::Clean => "clean",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "phishing" => Some(Verdict::Phishing),
            "suspicious" => Some(Verdict::Suspicious),
            "clean" => Some(Verdict::Clean),
            _ => None,
        }
    }
}

/// What makes reports of one campaign alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// The From address, lower case.
    pub from: Option<String>,
    /// The subject without `Re:`/`Fwd:`, lower case, digits as `#`.
    pub subject: String,
    /// Link targets outside the organisation, as `host/path` (no query), sorted.
    pub urls: Vec<String>,
    /// SHA-256 of every attachment, sorted.
    pub attachments: Vec<String>,
}

/// The result of [`analyse`].
#[derive(Debug, Clone)]
pub struct Analysis {
    pub verdict: Verdict,
    /// 0–100.
    pub score: u32,
    /// Distinct signals, strongest first.
    pub reasons: Vec<Reason>,
    pub subject: Option<String>,
    pub fingerprint: Fingerprint,
}

/// Signals found so far, one per code (the first detail wins).
#[derive(Default)]
struct Found {
    reasons: Vec<Reason>,
    incomplete: Vec<&'static str>,
}

impl Found {
    fn add(&mut self, code: Code, detail: impl Into<String>) {
        if !self.reasons.iter().any(|r| r.code == code) {
            self.reasons.push(Reason::new(code, detail));
        }
    }

    fn has(&self, code: Code) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    fn incomplete(&mut self, why: &'static str) {
        if !self.incomplete.contains(&why) {
            self.incomplete.push(why);
        }
    }
}

/// What the caller verified itself, with network access the engine does not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// Every DKIM signature checked against its key in DNS: (passed, `d=` domain).
    pub dkim: Vec<(bool, String)>,
}

/// Analyses one message.
pub fn analyse(raw: &[u8], ctx: &Context) -> Analysis {
    analyse_verified(raw, ctx, &Verified::default())
}

/// Analyses one message together with the caller's own DKIM verification: a signature that
/// verifies, aligned with the From domain, authenticates the sender even where the receiving
/// server left no `Authentication-Results`; one that fails counts as `auth.dkim_fail`.
pub fn analyse_verified(raw: &[u8], ctx: &Context, verified: &Verified) -> Analysis {
    let mut found = Found::default();
    let raw = if raw.len() > MAX_MESSAGE_BYTES {
        found.incomplete("larger than 50 MB");
        &raw[..MAX_MESSAGE_BYTES]
    } else {
        raw
    };
    let parsed = if raw.iter().take(4096).any(|b| *b == b':') { MessageParser::new().parse(raw) } else { None };
    let Some(message) = parsed else {
        found.incomplete("not an e-mail message");
        return finish(found, None, Fingerprint::default());
    };

    // Sender.
    let from = message.from().and_then(|a| a.first());
    let from_address = from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()).filter(|a| a.contains('@'));
    let from_name = from.and_then(|a| a.name()).unwrap_or("").trim().to_string();
    let from_host = from_address.as_deref().and_then(|a| a.rsplit_once('@')).and_then(|(_, d)| Host::parse(d));
    if from_address.is_none() {
        found.add(Code::NoFrom, "");
        found.incomplete("no sender");
    }
    let mut results = auth_results(&message, ctx);
    if !verified.dkim.is_empty() {
        let r = results.get_or_insert_with(Results::default);
        // Our own verification replaces what a server said about DKIM.
        r.dkim =
            verified.dkim.iter().map(|(pass, d)| (if *pass { Outcome::Pass } else { Outcome::Fail }, d.to_ascii_lowercase())).collect();
    }
    let trusted = sender_checks(&mut found, ctx, results.as_ref(), from_host.as_ref(), &from_name, &message);
    let org_sender = from_host.as_ref().is_some_and(|h| ctx.is_org(h));
    // The organisation or a brand writing for itself: not a free mail account at a brand such as Google.
    let real_sender =
        trusted && (org_sender || from_host.as_ref().is_some_and(|h| !brands::is_freemail(h) && ctx.brands.owner(h).is_some()));

    // Structure.
    if message.parts.len() > MAX_PARTS {
        found.incomplete("too many parts");
    }
    for part in message.parts.iter().take(MAX_PARTS) {
        if part.is_encoding_problem {
            found.incomplete("broken encoding");
        }
        if let PartType::Multipart(_) = part.body
            && let Some(boundary) = part.content_type().and_then(|c| c.attribute("boundary"))
        {
            let closing = format!("--{boundary}--");
            if memchr::memmem::find(raw, closing.as_bytes()).is_none() {
                found.incomplete("truncated");
            }
        }
        let is_message_type = part
            .content_type()
            .is_some_and(|c| c.ctype().eq_ignore_ascii_case("message") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822")));
        if is_message_type && !matches!(part.body, PartType::Message(_)) {
            found.incomplete("nested too deeply");
        }
    }
    if nesting(&message, 0) > MAX_NESTING {
        found.incomplete("nested too deeply");
    }

    // Bodies: text for phrases, HTML for links.
    let mut text = String::new();
    if let Some(s) = message.subject() {
        text.push_str(s);
        text.push('\n');
    }
    let mut links: Vec<(String, String)> = Vec::new(); // (href, shown text)
    let mut forms: Vec<String> = Vec::new(); // actions of forms that ask for a password
    let mut body_ids: BTreeSet<u32> = BTreeSet::new();
    body_ids.extend(message.text_body.iter().copied());
    body_ids.extend(message.html_body.iter().copied());
    for id in body_ids {
        let Some(part) = message.parts.get(id as usize) else { continue };
        match &part.body {
            PartType::Text(t) => {
                push_limited(&mut text, t);
                for url in text_urls(t) {
                    links.push((url, String::new()));
                }
            }
            PartType::Html(h) => {
                let scan = html::scan(h);
                links.extend(scan.anchors.into_iter().map(|a| (a.href, a.text)));
                // A search box or a subscribe form is normal in a newsletter; a password field is not.
                if scan.password_field {
                    forms.extend(scan.forms);
                }
                if message.text_body.iter().all(|t| message.parts.get(*t as usize).is_some_and(|p| matches!(p.body, PartType::Html(_)))) {
                    push_limited(&mut text, &mail_parser::decoders::html::html_to_text(h));
                }
            }
            _ => {}
        }
    }
    let (normalised, hidden) = text::normalise(&text);

    // Links.
    for action in &forms {
        let host = url::Url::parse(action).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "?".into());
        found.add(Code::FormInBody, host);
    }
    let mut state = LinkState::default();
    let mut seen = BTreeSet::new();
    for (href, shown) in links.iter().take(MAX_LINKS) {
        if seen.insert((href.as_str(), shown.as_str())) {
            link_checks(&mut found, ctx, href, shown, from_host.as_ref(), trusted, &mut state, 0);
        }
    }

    // Attachments.
    let mut findings = attach::Findings::default();
    let mut hashes = BTreeSet::new();
    let mut attachment_links: Vec<String> = Vec::new();
    let mut qr_links: Vec<String> = Vec::new();
    for part in message.attachments().take(MAX_PARTS) {
        let bytes = part.contents();
        attachment_links.extend(embedded_urls(part, bytes));
        if qr_links.len() < 8 {
            qr_links.extend(qr::png_codes(bytes).into_iter().map(|t| t.trim().to_string()).filter(|t| {
                let l = t.to_ascii_lowercase();
                l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www.")
            }));
        }
        hashes.insert(hex::encode(Sha256::digest(bytes)));
        let content_type =
            part.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))).unwrap_or_default().to_ascii_lowercase();
        let a = attach::Attachment { name: part.attachment_name().unwrap_or(""), content_type: &content_type, bytes };
        attach::check(&a, &mut findings);
    }
    for r in findings.reasons {
        found.add(r.code, r.detail);
    }
    for url in attachment_links.iter().take(MAX_LINKS) {
        link_checks(&mut found, ctx, url, "", from_host.as_ref(), trusted, &mut state, 0);
    }
    // A QR code that leads to a web page, from anyone but the organisation or a brand writing
    // for itself (an MFA roll-out, a ticket), is a link nobody's computer checks.
    for url in &qr_links {
        let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        if !real_sender {
            found.add(Code::QrLink, host);
        }
        link_checks(&mut found, ctx, url, "", from_host.as_ref(), trusted, &mut state, 0);
    }
    if !findings.unreadable.is_empty() {
        found.incomplete("an attachment could not be read");
    }
    if let Some(name) = findings.encrypted.first() {
        let code = if attach::password_in(&normalised) { Code::EncryptedArchivePassword } else { Code::EncryptedArchive };
        found.add(code, name.clone());
    }

    // Language, unless the real organisation or brand is writing.
    if !real_sender {
        let inline_images = html_has_images(&message);
        for (category, phrase) in ctx.phrases.find(&normalised) {
            match category {
                Category::Credentials => found.add(Code::Credentials, phrase),
                Category::Urgency => found.add(Code::Urgency, phrase),
                Category::Payment => found.add(Code::Payment, phrase),
                Category::Lure(theme) => found.add(Code::Lure, theme),
                Category::Qr => {}
            }
        }
        // A QR code is only a lure when the message also asks for credentials or pushes: event
        // tickets carry QR codes too.
        let qr = ctx.phrases.find(&normalised).iter().any(|(c, _)| *c == Category::Qr);
        if qr && (findings.images > 0 || inline_images) && (found.has(Code::Credentials) || found.has(Code::Urgency)) {
            found.add(Code::QrCode, "");
        }
        if hidden {
            found.add(Code::HiddenCharacters, "");
        }
        let freemail = from_host.as_ref().is_some_and(brands::is_freemail);
        if freemail && (found.has(Code::Payment) || found.has(Code::Credentials)) {
            found.add(Code::FreemailRequest, from_host.as_ref().map(|h| h.registrable.clone()).unwrap_or_default());
        }
    }

    let fingerprint = Fingerprint {
        from: from_address,
        subject: subject_pattern(message.subject().unwrap_or("")),
        urls: state.urls.into_iter().take(20).collect(),
        attachments: hashes.into_iter().collect(),
    };
    finish(found, message.subject().map(str::to_string), fingerprint)
}

fn finish(mut found: Found, subject: Option<String>, fingerprint: Fingerprint) -> Analysis {
    if !found.incomplete.is_empty() {
        let why = found.incomplete.join(", ");
        found.reasons.push(Reason::new(Code::Incomplete, why));
    }
    let (mut evidence, mut language) = (0u32, 0u32);
    for r in &found.reasons {
        match r.code.kind() {
            Kind::Language => language += r.code.weight(),
            _ => evidence += r.code.weight(),
        }
    }
    let evidence_without_analysis: u32 =
        found.reasons.iter().filter(|r| !matches!(r.code.kind(), Kind::Language | Kind::Analysis)).map(|r| r.code.weight()).sum();
    if evidence_without_analysis == 0 {
        language = language.min(LANGUAGE_ALONE_CAP);
    }
    let mut score = (evidence + language).min(100);
    if !found.incomplete.is_empty() {
        score = score.max(SUSPICIOUS_AT);
    }
    let verdict = if score >= PHISHING_AT {
        Verdict::Phishing
    } else if score >= SUSPICIOUS_AT {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    };
    found.reasons.sort_by_key(|r| std::cmp::Reverse(r.code.weight()));
    Analysis { verdict, score, reasons: found.reasons, subject, fingerprint }
}

fn push_limited(text: &mut String, add: &str) {
    let room = MAX_TEXT_BYTES.saturating_sub(text.len());
    let mut end = add.len().min(room);
    while end > 0 && !add.is_char_boundary(end) {
        end -= 1;
    }
    text.push_str(&add[..end]);
    text.push('\n');
}

/// The `Authentication-Results` to believe: from a trusted server, or else the topmost.
fn auth_results(message: &mail_parser::Message<'_>, ctx: &Context) -> Option<Results> {
    let mut spf = None;
    for (name, value) in message.headers_raw() {
        if name.eq_ignore_ascii_case("Authentication-Results") {
            if let Some(r) = Results::parse(value)
                && (ctx.authserv_ids.is_empty() || ctx.authserv_ids.contains(&r.authserv_id))
            {
                return Some(r);
            }
        } else if name.eq_ignore_ascii_case("Received-SPF") && spf.is_none() {
            spf = Results::parse_received_spf(value);
        }
    }
    spf
}

/// Checks the sender; returns whether the From domain is authenticated.
fn sender_checks(
    found: &mut Found,
    ctx: &Context,
    results: Option<&Results>,
    from_host: Option<&Host>,
    from_name: &str,
    message: &mail_parser::Message<'_>,
) -> bool {
    let from_reg = from_host.map(|h| h.registrable.as_str()).unwrap_or("");
    let aligned = |d: &str| Host::parse(d).is_some_and(|h| h.registrable == from_reg);
    let mut trusted = false;
    // A mailing list changes the messages it passes on, which breaks the author's DKIM; with a
    // DMARC policy of `none` the author's domain asks nobody to act on that, so it says nothing.
    let via_list = !message.list_id().is_empty();
    if let Some(r) = results {
        let shown = |d: &str| if d.is_empty() { from_reg.to_string() } else { d.to_string() };
        let list_excused = via_list && r.dmarc_policy.as_deref() == Some("none");
        match &r.dmarc {
            Some((Outcome::Fail, _)) if list_excused => {}
            Some((Outcome::Fail, d)) => found.add(Code::DmarcFail, shown(d)),
            Some((Outcome::Pass, _)) => trusted = true,
            _ => {}
        }
        match &r.spf {
            Some((Outcome::Fail, d)) => found.add(Code::SpfFail, shown(d)),
            Some((Outcome::SoftFail, d)) => found.add(Code::SpfSoftfail, shown(d)),
            Some((Outcome::Pass, d)) if aligned(d) => trusted = true,
            _ => {}
        }
        let dkim_pass = r.dkim.iter().any(|(o, _)| *o == Outcome::Pass);
        if r.dkim.iter().any(|(o, d)| *o == Outcome::Pass && aligned(d)) {
            trusted = true;
        }
        if !dkim_pass
            && !list_excused
            && let Some((_, d)) = r.dkim.iter().find(|(o, _)| *o == Outcome::Fail)
        {
            found.add(Code::DkimFail, shown(d));
        }
        if found.has(Code::DmarcFail) {
            trusted = false;
        }
    }
    let Some(host) = from_host else { return false };
    let org_sender = ctx.is_org(host);
    let freemail = brands::is_freemail(host);
    let reply_host = message
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|r| r.rsplit_once('@'))
        .and_then(|(_, d)| Host::parse(d));
    // An authenticated service writing for a colleague: "Sanne Bakker via SharePoint Online"
    // with the answer going to Sanne, or the organisation's own tenant (`zorggroephorizon.topdesk.net`).
    let on_behalf = trusted
        && (reply_host.as_ref().is_some_and(|r| ctx.is_org(r))
            || (!freemail && ctx.brands.owner(host).is_some())
            || host.sub.iter().any(|l| ctx.org_targets.iter().any(|t| t.label == *l)));

    // Display names.
    if !from_name.is_empty() && !org_sender {
        let words = brands::words(from_name);
        let original = brands::split_words(from_name);
        let compact: String = from_name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        let person = ctx.people.iter().any(|p| p.len() <= words.len() && words.windows(p.len()).any(|w| w == p.as_slice()));
        let org_named = ctx.org_labels().any(|l| compact.contains(l));
        if person || org_named {
            if !on_behalf {
                found.add(Code::DisplayNameOrg, from_name);
            }
        } else if let Some(brand) = ctx.brands.list.iter().find(|b| b.named_in(&words, &original) && (!b.owns(host) || freemail)) {
            found.add(Code::DisplayNameBrand, brand.name.clone());
        }
    }

    // The domain itself.
    if !org_sender && !freemail {
        if ctx.org_targets.iter().any(|t| t.imitated_by(host).is_some()) {
            found.add(Code::LookalikeOrg, host.display());
        } else if ctx.brands.owner(host).is_none() && ctx.brands.list.iter().any(|b| b.worn_by(host).is_some()) {
            found.add(Code::LookalikeBrand, host.display());
        }
    }
    if host.deceptive_punycode() {
        found.add(Code::SenderPunycode, host.display());
    }

    // Reply-To.
    // Mail from a list or a bulk sender answers to the list or a service address by design.
    let has_list_id = !message.list_id().is_empty()
        || !message.list_post().is_empty()
        || message.headers_raw().any(|(name, value)| {
            name.eq_ignore_ascii_case("Mailing-List")
                || (name.eq_ignore_ascii_case("Precedence") && matches!(value.trim().to_ascii_lowercase().as_str(), "list" | "bulk"))
        });
    if let Some(reply) = message.reply_to().and_then(|a| a.first()).and_then(|a| a.address())
        && !has_list_id
        && let Some(reply_host) = reply.rsplit_once('@').and_then(|(_, d)| Host::parse(d))
        && reply_host.registrable != host.registrable
        && !ctx.is_org(&reply_host)
    {
        if brands::is_freemail(&reply_host) && !freemail {
            found.add(Code::ReplyToFreemail, reply.to_lowercase());
        } else {
            found.add(Code::ReplyToDiffers, reply.to_lowercase());
        }
    }
    trusted
}

/// Words in a link's path that mark a login or account page.
/// Not "account", "update", "secure", "auth" or "confirm": newsletters link to such pages
/// everywhere.
const LOGIN_WORDS: &[&str] = &[
    "login",
    "log-in",
    "signin",
    "sign-in",
    "logon",
    "inloggen",
    "aanmelden",
    "verify",
    "verif",
    "wachtwoord",
    "password",
    "webmail",
    "owa/",
    "wp-admin",
    "bevestig",
    "unlock",
    "validate",
    "sso",
    "mfa",
];

/// What one message's links have shown so far: newsletters repeat hosts many times, and a
/// host's own checks (lookalikes against every brand, punycode) need running once.
#[derive(Default)]
struct LinkState {
    urls: BTreeSet<String>,
    hosts: std::collections::HashMap<String, Option<Host>>,
    checked: std::collections::HashSet<String>,
}

#[allow(clippy::too_many_arguments)]
fn link_checks(
    found: &mut Found,
    ctx: &Context,
    href: &str,
    shown: &str,
    from_host: Option<&Host>,
    trusted: bool,
    state: &mut LinkState,
    depth: u8,
) {
    let href = href.trim();
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("data:") || lower.starts_with("javascript:") || lower.starts_with("vbscript:") {
        found.add(Code::LinkDataUri, "");
        return;
    }
    if !(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.")) {
        return;
    }
    let with_scheme = if lower.starts_with("www.") { format!("http://{href}") } else { href.to_string() };
    let Ok(url) = url::Url::parse(&with_scheme) else { return };
    // `https://www.rabobank.nl@evil.example/`: the part before @ is decoration.
    if !url.username().is_empty() && lower.split('/').nth(2).is_some_and(|authority| authority.contains('@')) {
        found.add(Code::LinkUserinfo, url.username().to_string());
    }
    // A redirect that carries its destination (`google.com/url?q=…`, a tracker's `?url=…`):
    // the destination is a link too.
    if depth == 0 {
        for (_, value) in url.query_pairs() {
            let v = value.trim();
            if v.len() > 10 && (v.starts_with("http://") || v.starts_with("https://")) {
                link_checks(found, ctx, v, "", from_host, trusted, state, depth + 1);
            }
        }
    }
    let target = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            found.add(Code::LinkIpHost, ip.to_string());
            return;
        }
        Some(url::Host::Ipv6(ip)) => {
            found.add(Code::LinkIpHost, ip.to_string());
            return;
        }
        Some(url::Host::Domain(d)) => {
            let parsed = state.hosts.entry(d.to_string()).or_insert_with(|| Host::parse(d));
            match parsed {
                Some(h) => h.clone(),
                None => return,
            }
        }
        None => return,
    };
    let org = ctx.is_org(&target);
    if !org && state.urls.len() < MAX_LINKS {
        state.urls.insert(format!("{}{}", target.ascii, url.path()));
    }
    let sender_own = from_host.is_some_and(|f| f.registrable == target.registrable);
    let brand_owner = ctx.brands.owner(&target);
    if !sender_own && let Some(service) = brands::free_hosting(&target, url.path()) {
        found.add(Code::LinkFreeHosting, service);
    }
    let first_time = state.checked.insert(target.ascii.clone());
    if first_time && brands::is_shortener(&target) {
        found.add(Code::LinkShortener, target.ascii.clone());
    }
    if first_time && !org && !sender_own && brand_owner.is_none() {
        if ctx.org_targets.iter().any(|t| t.imitated_by(&target).is_some()) {
            found.add(Code::LinkLookalike, target.display());
        } else if let Some(wearing) = ctx.brands.list.iter().find_map(|b| b.worn_by(&target)) {
            match wearing {
                brands::Wearing::Lookalike => found.add(Code::LinkLookalike, target.display()),
                brands::Wearing::InHost => found.add(Code::LinkBrandInHost, target.display()),
            }
        }
    }
    if first_time && target.deceptive_punycode() {
        found.add(Code::LinkPunycode, target.display());
    }
    if let Some(shown_host) = shown_host(shown)
        && shown_host.registrable != target.registrable
    {
        // An authenticated sender's own domain behind a click-tracking redirect is normal in
        // newsletters; another brand domain of the same brand is too.
        let tracking = trusted && from_host.is_some_and(|f| f.registrable == shown_host.registrable);
        let same_brand = matches!((ctx.brands.owner(&shown_host), brand_owner), (Some(a), Some(b)) if a.name == b.name);
        let both_org = org && ctx.is_org(&shown_host);
        if !tracking && !same_brand && !both_org {
            found.add(Code::LinkTextMismatch, shown_host.display());
        }
    }
    if !org && !sender_own && brand_owner.is_none() {
        let path = format!(
            "{}{}",
            target.sub.join("."),
            &lower[lower.find(&target.ascii).map_or(0, |i| i + target.ascii.len()).min(lower.len())..]
        );
        if LOGIN_WORDS.iter().any(|w| path.contains(w)) {
            found.add(Code::LinkLoginUnrelated, target.ascii.clone());
        }
    }
}

/// The host a link's visible text names, when the text is an address.
fn shown_host(shown: &str) -> Option<Host> {
    let t = shown.trim().trim_end_matches(['/', '.', ',', ')']).trim_start_matches(['(', '<']);
    if t.is_empty() || t.contains(char::is_whitespace) || t.contains('@') {
        return None;
    }
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .or_else(|| t.strip_prefix("HTTPS://"))
        .or_else(|| t.strip_prefix("HTTP://"));
    let host_part = rest.unwrap_or(t).split(['/', '?', '#', ':']).next()?;
    // Without a scheme, only take text that looks like a web address (www.…, or a name with a dot and a known suffix).
    let host = Host::parse(host_part)?;
    if rest.is_none() && !host.ascii.starts_with("www.") && psl::suffix(host.ascii.as_bytes()).is_none_or(|s| !s.is_known()) {
        return None;
    }
    Some(host)
}

/// URLs written out in plain text.
fn text_urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while out.len() < MAX_LINKS {
        let next = ["http://", "https://", "www."].iter().filter_map(|p| lower[from..].find(p).map(|i| i + from)).min();
        let Some(start) = next else { break };
        if start > 0 && lower.as_bytes().get(start - 1).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'/' || *b == b'.') {
            from = start + 4;
            continue;
        }
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ']' | '['))
            .map_or(text.len(), |e| e + start);
        let url = text[start..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if url.len() > 7 {
            out.push(url.to_string());
        }
        from = end.max(start + 4);
    }
    out
}

/// Links inside attachments that mail programs open: calendar invitations (`.ics`) and PDF
/// link annotations (`/URI (…)` in uncompressed objects).
fn embedded_urls(part: &mail_parser::MessagePart<'_>, bytes: &[u8]) -> Vec<String> {
    let name = part.attachment_name().unwrap_or("").to_ascii_lowercase();
    let ctype =
        part.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))).unwrap_or_default().to_ascii_lowercase();
    if ctype == "text/calendar" || name.ends_with(".ics") {
        // Unfold continuation lines first (RFC 5545).
        let text = String::from_utf8_lossy(bytes).replace("\r\n ", "").replace("\n ", "").replace("\\n", " ");
        return text_urls(&text);
    }
    if ctype == "application/pdf" || name.ends_with(".pdf") || bytes.starts_with(b"%PDF") {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&bytes[from..], b"/URI") {
            let start = from + i + 4;
            let rest = &bytes[start..bytes.len().min(start + 2048)];
            if let Some(open) = rest.iter().position(|b| *b == b'(').filter(|p| *p < 4)
                && let Some(close) = rest[open + 1..].iter().position(|b| *b == b')')
            {
                out.push(String::from_utf8_lossy(&rest[open + 1..open + 1 + close]).into_owned());
            }
            from = start;
            if out.len() >= MAX_LINKS {
                break;
            }
        }
        return out;
    }
    Vec::new()
}

/// How deep messages are nested in `m`, counted up to one past `MAX_NESTING`.
fn nesting(m: &mail_parser::Message<'_>, depth: usize) -> usize {
    if depth > MAX_NESTING {
        return depth;
    }
    m.parts
        .iter()
        .filter_map(|p| match &p.body {
            PartType::Message(inner) => Some(nesting(inner, depth + 1)),
            _ => None,
        })
        .max()
        .unwrap_or(depth)
}

fn html_has_images(message: &mail_parser::Message<'_>) -> bool {
    message.html_bodies().any(|p| p.text_contents().is_some_and(|h| h.to_ascii_lowercase().contains("<img")))
}

/// The subject as a pattern: no reply or forward prefixes, lower case, digits as `#`.
pub fn subject_pattern(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(p) = ["re:", "fw:", "fwd:", "tr:", "wg:", "antw:", "doorst:", "aw:", "[extern]", "[external]", "extern:"]
            .iter()
            .find(|p| lower.starts_with(*p))
        else {
            break;
        };
        s = s[p.len()..].trim_start();
    }
    let pattern: String = s.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).flat_map(char::to_lowercase).collect();
    pattern.split_whitespace().collect::<Vec<_>>().join(" ")
}
