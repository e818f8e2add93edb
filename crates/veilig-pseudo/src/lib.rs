//! Veilig's pseudonymiser: finds the personal data in Dutch and English text, replaces every
//! value with a pseudonym (the same one for every mention of the same person or value), keeps
//! the key in a [`Mapping`] that [`vault`] encrypts, and puts the real values back into an answer
//! with [`restore`].
//!
//! Pure: no I/O, no clock, no randomness of its own (the vault takes its salt and nonce from the
//! caller). The name lists are compiled in (see `data/SOURCES.md`).

mod fake;
mod lexicon;
mod mapping;
mod names;
mod patterns;
mod scan;

pub mod csv;
pub mod email;
pub mod eval;
pub mod office;
pub mod restore;
pub mod vault;

pub use mapping::Mapping;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of personal data the engine finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Label {
    Person,
    Address,
    Postcode,
    City,
    Phone,
    Email,
    Bsn,
    Iban,
    DateOfBirth,
    Plate,
    Kvk,
    IdNumber,
    Ip,
    Url,
    CaseId,
    Term,
}

impl Label {
    pub const ALL: [Label; 16] = [
        Label::Person,
        Label::Address,
        Label::Postcode,
        Label::City,
        Label::Phone,
        Label::Email,
        Label::Bsn,
        Label::Iban,
        Label::DateOfBirth,
        Label::Plate,
        Label::Kvk,
        Label::IdNumber,
        Label::Ip,
        Label::Url,
        Label::CaseId,
        Label::Term,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Person => "PERSON",
            Label::Address => "ADDRESS",
            Label::Postcode => "POSTCODE",
            Label::City => "CITY",
            Label::Phone => "PHONE",
            Label::Email => "EMAIL",
            Label::Bsn => "BSN",
            Label::Iban => "IBAN",
            Label::DateOfBirth => "DATE_OF_BIRTH",
            Label::Plate => "PLATE",
            Label::Kvk => "KVK",
            Label::IdNumber => "ID_NUMBER",
            Label::Ip => "IP",
            Label::Url => "URL",
            Label::CaseId => "CASE_ID",
            Label::Term => "TERM",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        let up = s.trim().to_ascii_uppercase().replace(['-', ' '], "_");
        Label::ALL.into_iter().find(|l| l.as_str() == up)
    }

    /// The word inside a bracket token: `[TELEFOON-1]`, `[PHONE-1]`.
    pub(crate) fn token_word(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Label::Person, Lang::Nl) => "PERSOON",
            (Label::Person, Lang::En) => "PERSON",
            (Label::Address, Lang::Nl) => "ADRES",
            (Label::Address, Lang::En) => "ADDRESS",
            (Label::Postcode, _) => "POSTCODE",
            (Label::City, Lang::Nl) => "PLAATS",
            (Label::City, Lang::En) => "CITY",
            (Label::Phone, Lang::Nl) => "TELEFOON",
            (Label::Phone, Lang::En) => "PHONE",
            (Label::Email, Lang::Nl) => "E-MAIL",
            (Label::Email, Lang::En) => "EMAIL",
            (Label::Bsn, _) => "BSN",
            (Label::Iban, _) => "IBAN",
            (Label::DateOfBirth, Lang::Nl) => "GEBOORTEDATUM",
            (Label::DateOfBirth, Lang::En) => "DATE-OF-BIRTH",
            (Label::Plate, Lang::Nl) => "KENTEKEN",
            (Label::Plate, Lang::En) => "PLATE",
            (Label::Kvk, _) => "KVK",
            (Label::IdNumber, Lang::Nl) => "ID-NUMMER",
            (Label::IdNumber, Lang::En) => "ID-NUMBER",
            (Label::Ip, _) => "IP",
            (Label::Url, _) => "URL",
            (Label::CaseId, Lang::Nl) => "DOSSIER",
            (Label::CaseId, Lang::En) => "CASE",
            (Label::Term, Lang::Nl) => "TERM",
            (Label::Term, Lang::En) => "TERM",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The language of the replacements (and of the text, for detection hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" | "nederlands" | "dutch" => Some(Lang::Nl),
            "en" | "english" | "engels" => Some(Lang::En),
            _ => None,
        }
    }

    /// Guesses Dutch or English from the most frequent function words.
    pub fn detect(text: &str) -> Lang {
        let head = match text.char_indices().nth(8192) {
            Some((i, _)) => &text[..i],
            None => text,
        };
        let (mut nl, mut en) = (0, 0);
        for w in head.split(|c: char| !c.is_alphabetic()) {
            match w.to_ascii_lowercase().as_str() {
                "de" | "het" | "een" | "en" | "van" | "ik" | "je" | "niet" | "is" | "op" | "met" | "voor" | "dat" | "zijn" | "wij"
                | "u" => nl += 1,
                "the" | "and" | "of" | "to" | "a" | "i" | "you" | "not" | "on" | "with" | "for" | "that" | "are" | "we" | "was" => en += 1,
                _ => {}
            }
        }
        if en > nl { Lang::En } else { Lang::Nl }
    }
}

/// One value found in the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// Unicode scalar values from the start of the input.
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub label: Label,
    /// What the value became; `None` for a value that is only flagged for review ("check?").
    pub replacement: Option<String>,
    pub confidence: f32,
    /// `rule:…`, `list:…` or `context:…`: why the engine thinks this is personal.
    pub reason: String,
}

/// Pseudonymised text and what was replaced.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub text: String,
    pub spans: Vec<Span>,
}

/// A candidate before overlaps are resolved.
#[derive(Debug, Clone)]
pub(crate) struct Cand {
    pub start: usize,
    pub end: usize,
    pub label: Label,
    pub conf: f32,
    pub reason: &'static str,
    /// Only a "check?" hint, never replaced.
    pub flag: bool,
    /// Introduced as cliënt / patiënt: the pseudonym says "Cliënt".
    pub client: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TermError {
    #[error("line {line}: unknown label {label:?} (use one of PERSON, CITY, CASE_ID, … or leave it empty)")]
    UnknownLabel { line: usize, label: String },
    #[error("the term list has more than {max} entries")]
    TooMany { max: usize },
}

/// One case-insensitive automaton over all terms, longest match first.
fn matcher(entries: &[(String, Label)]) -> Option<aho_corasick::AhoCorasick> {
    if entries.is_empty() {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(entries.iter().map(|e| e.0.as_str()))
        .ok()
}

/// The organisation's own list of values to hide: client names, project code names.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    entries: Vec<(String, Label)>,
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Terms {
    pub const MAX: usize = 100_000;

    /// Reads `value[,label]` lines (a CSV with or without a header `value,label`).
    pub fn from_csv(text: &str) -> Result<Terms, TermError> {
        let mut entries = Vec::new();
        for (n, row) in csv::parse(text).into_iter().enumerate() {
            let Some(value) = row.first().map(|v| v.trim()) else { continue };
            if value.is_empty() || (n == 0 && value.eq_ignore_ascii_case("value")) {
                continue;
            }
            let label = match row.get(1).map(|l| l.trim()).filter(|l| !l.is_empty()) {
                None => Label::Term,
                Some(l) => Label::parse(l).ok_or_else(|| TermError::UnknownLabel { line: n + 1, label: l.to_string() })?,
            };
            if value.chars().count() >= 2 {
                entries.push((value.to_string(), label));
            }
            if entries.len() > Terms::MAX {
                return Err(TermError::TooMany { max: Terms::MAX });
            }
        }
        let matcher = matcher(&entries);
        Ok(Terms { entries, matcher })
    }

    /// Adds values to hide (as `TERM`), as they are: no CSV quoting to get wrong.
    pub fn with_values<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, values: I) -> Terms {
        for v in values {
            let v = v.as_ref().trim();
            if v.chars().count() >= 2 && self.entries.len() < Terms::MAX {
                self.entries.push((v.to_string(), Label::Term));
            }
        }
        self.matcher = matcher(&self.entries);
        self
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, text: &str, out: &mut Vec<Cand>) {
        let Some(m) = &self.matcher else { return };
        let b = text.as_bytes();
        for hit in m.find_iter(text) {
            let (s, e) = (hit.start(), hit.end());
            let before_ok = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] >= 0x80);
            let after_ok = e >= b.len() || !(b[e].is_ascii_alphanumeric() || b[e] >= 0x80) || text[e..].starts_with("'s");
            if before_ok && after_ok {
                let label = self.entries[hit.pattern().as_usize()].1;
                out.push(Cand { start: s, end: e, label, conf: 1.0, reason: "list:organisation-terms", flag: false, client: false });
            }
        }
    }
}

/// The engine with its settings. Cheap to create; the word lists load once per process.
#[derive(Debug, Clone, Default)]
pub struct Pseudonymiser {
    terms: Terms,
    /// Values the user chose to leave as they are (lower case).
    keep: Vec<String>,
}

/// Priority when two candidates overlap: the more certain kind wins.
fn priority(l: Label) -> u8 {
    match l {
        Label::Term => 0,
        Label::Email => 1,
        Label::Url => 2,
        Label::Iban => 3,
        Label::Ip => 4,
        Label::Bsn => 5,
        Label::IdNumber => 6,
        Label::Phone => 7,
        Label::Kvk => 8,
        Label::CaseId => 9,
        Label::DateOfBirth => 10,
        Label::Postcode => 11,
        Label::Plate => 12,
        Label::Address => 13,
        Label::Person => 14,
        Label::City => 15,
    }
}

impl Pseudonymiser {
    pub fn new() -> Pseudonymiser {
        Pseudonymiser::default()
    }

    pub fn with_terms(mut self, terms: Terms) -> Pseudonymiser {
        self.terms = terms;
        self
    }

    /// Leaves these values as they are wherever they appear (a reviewer's "undo").
    pub fn keeping<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, values: I) -> Pseudonymiser {
        self.keep = values.into_iter().map(|v| v.as_ref().trim().to_lowercase()).filter(|v| !v.is_empty()).collect();
        self
    }

    /// Loads the word lists now instead of at the first text (for servers and benchmarks).
    pub fn warm_up() {
        let _ = lexicon::Lexicon::get();
    }

    /// Finds the personal values in `text`. `mapping` holds the names of earlier documents
    /// (from a vault) so that their mentions are found here too.
    pub(crate) fn candidates(&self, text: &str, mapping: &Mapping) -> Vec<Cand> {
        let t = patterns::Text::new(text);
        let mut c = Vec::new();
        self.terms.find(text, &mut c);
        patterns::emails(&t, &mut c);
        patterns::urls(&t, &mut c);
        patterns::ibans(&t, &mut c);
        patterns::ips(&t, &mut c);
        patterns::bsns(&t, &mut c);
        patterns::id_numbers(&t, &mut c);
        patterns::phones(&t, &mut c);
        patterns::kvks(&t, &mut c);
        patterns::case_ids(&t, &mut c);
        patterns::births(&t, &mut c);
        patterns::postcodes(&t, &mut c);
        patterns::plates(&t, &mut c);
        let words = names::Words::new(&t, scan::tokens(text));
        words.addresses(&mut c);
        let mut fixed = resolve(c);
        let mut people = Vec::new();
        words.persons(&mut people);
        words.cities(&fixed, &mut people);
        words.residence_places(&mut people);
        words.speakers(&mut people);
        fixed.extend(people);
        let mut fixed = resolve(fixed);
        let mut more = Vec::new();
        words.mentions(&fixed, mapping, &mut more);
        fixed.extend(more);
        let mut out = resolve(fixed);
        if !self.keep.is_empty() {
            out.retain(|c| !self.keep.contains(&text[c.start..c.end].trim().to_lowercase()));
        }
        out
    }

    /// Finds the values without replacing them (spans with `replacement: None`).
    pub fn detect(&self, text: &str) -> Vec<Span> {
        let mapping = Mapping::new(Lang::Nl);
        let cands = self.candidates(text, &mapping);
        to_spans(text, &cands, |_| None)
    }

    /// Replaces every personal value in `text`, recording the pseudonyms in `mapping` (which
    /// may already hold those of earlier documents).
    pub fn pseudonymise(&self, text: &str, mapping: &mut Mapping) -> Output {
        let cands = self.candidates(text, mapping);
        self.replace(text, cands, mapping)
    }
}

/// The input formats that are read differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Plain text, Markdown, an e-mail message: read as text.
    #[default]
    Text,
    /// CSV: columns whose header names personal data are replaced whole.
    Csv,
}

impl Pseudonymiser {
    /// Like [`Pseudonymiser::pseudonymise`], reading `text` as `format`.
    pub fn pseudonymise_as(&self, format: Format, text: &str, mapping: &mut Mapping) -> Output {
        match format {
            Format::Text => self.pseudonymise(text, mapping),
            Format::Csv => self.pseudonymise_csv(text, mapping),
        }
    }

    fn pseudonymise_csv(&self, text: &str, mapping: &mut Mapping) -> Output {
        let rows = csv::cells(text);
        let labels: Vec<Option<Label>> = rows.first().map(|h| h.iter().map(|c| csv::column_label(&c.value)).collect()).unwrap_or_default();
        let mut hinted = Vec::new();
        for row in rows.iter().skip(1) {
            for (k, cell) in row.iter().enumerate() {
                let Some(Some(label)) = labels.get(k) else { continue };
                let v = cell.value.trim();
                if v.is_empty()
                    || v == "-"
                    || cell.escaped
                    || v.chars().all(|c| !c.is_alphanumeric())
                    || self.keep.contains(&v.to_lowercase())
                {
                    continue;
                }
                let lead = cell.value.len() - cell.value.trim_start().len();
                let (s, e) = (cell.start + lead, cell.start + lead + v.len());
                let mut c = Cand { start: s, end: e, label: *label, conf: 0.95, reason: "context:csv-column", flag: false, client: false };
                if *label == Label::Bsn {
                    let d: Vec<u8> = v.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
                    if !patterns::bsn_valid(&d) {
                        c.flag = true;
                        c.reason = "check:fails-11-check";
                    }
                }
                if *label == Label::Iban {
                    let chars: Vec<u8> = v.bytes().filter(u8::is_ascii_alphanumeric).collect();
                    if !patterns::iban_valid(&chars) {
                        c.flag = true;
                        c.reason = "check:fails-mod-97";
                    }
                }
                hinted.push(c);
            }
        }
        let found = self.candidates(text, mapping);
        let mut all: Vec<Cand> = found.into_iter().filter(|f| !hinted.iter().any(|h| h.start < f.end && f.start < h.end)).collect();
        all.extend(hinted);
        all.sort_by_key(|c| c.start);
        self.replace(text, all, mapping)
    }

    fn replace(&self, text: &str, cands: Vec<Cand>, mapping: &mut Mapping) -> Output {
        let mut repl: Vec<Option<String>> = Vec::with_capacity(cands.len());
        for c in &cands {
            repl.push(if c.flag { None } else { Some(mapping.pseudonym(c.label, &text[c.start..c.end], c.client)) });
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (c, r) in cands.iter().zip(&repl) {
            if let Some(r) = r {
                out.push_str(&text[last..c.start]);
                out.push_str(r);
                last = c.end;
            }
        }
        out.push_str(&text[last..]);
        let mut k = 0;
        let spans = to_spans(text, &cands, |_| {
            k += 1;
            repl[k - 1].clone()
        });
        Output { text: out, spans }
    }
}

/// Keeps the best candidate where candidates overlap: higher priority, then longer, then
/// earlier. A flag never displaces a replacement.
fn resolve(mut c: Vec<Cand>) -> Vec<Cand> {
    c.sort_by(|a, b| {
        (a.flag, priority(a.label), std::cmp::Reverse(a.end - a.start), a.start).cmp(&(
            b.flag,
            priority(b.label),
            std::cmp::Reverse(b.end - b.start),
            b.start,
        ))
    });
    // kept intervals by start; they never overlap, so one neighbour on each side decides
    let mut taken: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    let mut kept: Vec<Cand> = Vec::with_capacity(c.len());
    for x in c {
        if x.end <= x.start {
            continue;
        }
        let before = taken.range(..x.end).next_back().is_some_and(|(_, &e)| e > x.start);
        if before {
            continue;
        }
        taken.insert(x.start, x.end);
        kept.push(x);
    }
    kept.sort_by_key(|k| k.start);
    kept
}

fn to_spans(text: &str, cands: &[Cand], mut repl: impl FnMut(&Cand) -> Option<String>) -> Vec<Span> {
    let mut spans = Vec::with_capacity(cands.len());
    let mut chars = 0;
    let mut pos = 0;
    for c in cands {
        chars += text[pos..c.start].chars().count();
        let start = chars;
        chars += text[c.start..c.end].chars().count();
        pos = c.end;
        spans.push(Span {
            start,
            end: chars,
            byte_start: c.start,
            byte_end: c.end,
            label: c.label,
            replacement: repl(c),
            confidence: c.conf,
            reason: c.reason.to_string(),
        });
    }
    spans
}
