//! The key: which pseudonym stands for which real value. One person gets one pseudonym however
//! they are written (full name, surname, initials, all caps, possessive), within a document and
//! across the documents of one vault.

use crate::{Label, Lang};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Person {
    /// Lower-case name words without particles and initials: ["anna", "vries"].
    pub words: Vec<String>,
    /// The longest way the person was written: what restore puts back.
    pub full: String,
    pub pseudonym: String,
    pub client: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Value {
    pub label: Label,
    pub key: String,
    pub value: String,
    pub pseudonym: String,
}

/// What a vault holds. Serialisable; encrypt it with [`crate::vault::seal`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mapping {
    pub lang: Lang,
    pub(crate) persons: Vec<Person>,
    pub(crate) values: Vec<Value>,
    pub(crate) counters: BTreeMap<Label, u32>,
    /// Realistic fake values instead of tokens: names, and numbers that fail their checks.
    #[serde(default)]
    pub fake: bool,
}

const PARTICLES: &[&str] = &[
    "van", "de", "der", "den", "ter", "ten", "te", "het", "'t", "in", "op", "uit", "la", "le", "du", "da", "di", "von", "el", "al", "bin",
    "ibn", "d'", "'s",
];

pub(crate) fn letter(n: u32) -> String {
    // A … Z, AA, AB, …
    let mut n = n;
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).flat_map(char::to_lowercase).collect()
}

/// The name words of a mention, folded: "mevrouw A. de Vries-Jansen's" → ["vries", "jansen"].
pub(crate) fn name_words(surface: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in surface.split(|c: char| c.is_whitespace() || c == '-' || c == ',') {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let w = crate::names::strip_possessive(&fold(w));
        let w = w.trim_matches('\'').to_string();
        if w.is_empty() || raw.ends_with('.') && w.chars().count() <= 4 || PARTICLES.contains(&w.as_str()) {
            continue;
        }
        out.push(w);
    }
    out
}

fn possessive(surface: &str) -> bool {
    let t = surface.trim_end();
    t.ends_with("'s") || t.ends_with("’s")
}

impl Mapping {
    pub fn new(lang: Lang) -> Mapping {
        Mapping { lang, persons: Vec::new(), values: Vec::new(), counters: BTreeMap::new(), fake: false }
    }

    pub fn is_empty(&self) -> bool {
        self.persons.is_empty() && self.values.is_empty()
    }

    /// How many distinct values the key holds.
    pub fn len(&self) -> usize {
        self.persons.len() + self.values.len()
    }

    fn next(&mut self, label: Label) -> u32 {
        let c = self.counters.entry(label).or_insert(0);
        *c += 1;
        *c
    }

    /// Name words and places the key knows, to find their mentions in a new text.
    pub(crate) fn known(&self) -> impl Iterator<Item = (&str, Label)> {
        self.persons
            .iter()
            .flat_map(|p| p.words.iter().map(|w| (w.as_str(), Label::Person)))
            .chain(self.values.iter().filter(|v| v.label == Label::City).map(|v| (v.key.as_str(), Label::City)))
    }

    pub(crate) fn pseudonym(&mut self, label: Label, surface: &str, client: bool) -> String {
        match label {
            Label::Person => self.person(surface, client),
            _ => self.value(label, surface),
        }
    }

    fn person(&mut self, surface: &str, client: bool) -> String {
        let words = name_words(surface);
        let suffix = if possessive(surface) { "'s" } else { "" };
        let words = if words.is_empty() { vec![fold(surface.trim())] } else { words };
        // a possessive without apostrophe: Jansens → jansen, when jansen is known
        let words: Vec<String> = words
            .into_iter()
            .map(|w| {
                if !self.persons.iter().any(|p| p.words.contains(&w))
                    && let Some(b) = w.strip_suffix('s')
                    && self.persons.iter().any(|p| p.words.iter().any(|x| x == b))
                {
                    return b.to_string();
                }
                w
            })
            .collect();
        let stripped_s = !suffix.is_empty() || name_words(surface).last() != words.last();
        let suffix = if stripped_s { "'s" } else { "" };
        let Some(last) = words.last().cloned() else { return String::new() };
        let givens = &words[..words.len() - 1];
        let found = self.persons.iter().position(|p| {
            if !p.words.contains(&last) {
                return false;
            }
            // a different given name is a different person: Piet de Vries is not Anna de Vries
            let p_givens: Vec<&String> = p.words.iter().filter(|w| **w != last).collect();
            // a full name does not join a person known by surname alone: "mevrouw De Vries" and
            // "Daan de Vries" are often mother and son; a later "De Vries" goes to the first
            givens.is_empty() || givens.iter().any(|g| p_givens.contains(&g))
        });
        let idx = match found {
            Some(i) => {
                let p = &mut self.persons[i];
                for w in &words {
                    if !p.words.contains(w) {
                        p.words.insert(0, w.clone());
                    }
                }
                let clean = surface.trim().trim_end_matches("'s").trim_end_matches("’s");
                if clean.chars().count() > p.full.chars().count() && !clean.chars().all(|c| !c.is_lowercase()) {
                    p.full = clean.to_string();
                }
                i
            }
            None => {
                let n = self.next(Label::Person) - 1;
                let pseudonym = if self.fake && n < crate::fake::NAMES {
                    crate::fake::name(n)
                } else {
                    format!("{} {}", person_word(self.lang, client), letter(n))
                };
                let full = surface.trim().trim_end_matches("'s").trim_end_matches("’s").to_string();
                self.persons.push(Person { words, full, pseudonym, client });
                self.persons.len() - 1
            }
        };
        format!("{}{}", self.persons[idx].pseudonym, suffix)
    }

    fn value(&mut self, label: Label, surface: &str) -> String {
        let key = value_key(label, surface);
        if let Some(v) = self.values.iter().find(|v| v.label == label && v.key == key) {
            return v.pseudonym.clone();
        }
        let n = self.next(label);
        let fake = if self.fake { crate::fake::value(label, n) } else { None };
        let pseudonym = match (fake, label) {
            (Some(f), _) => f,
            (None, Label::City) => format!("{} {}", if self.lang == Lang::Nl { "Plaats" } else { "City" }, letter(n - 1)),
            (None, _) => format!("[{}-{}]", label.token_word(self.lang), n),
        };
        self.values.push(Value { label, key, value: surface.to_string(), pseudonym: pseudonym.clone() });
        pseudonym
    }

    /// The real value behind a pseudonym (without a possessive ending).
    pub(crate) fn lookup_person(&self, letter: &str) -> Option<&str> {
        self.persons.iter().find(|p| p.pseudonym.rsplit(' ').next() == Some(letter)).map(|p| p.full.as_str())
    }

    pub(crate) fn lookup_value(&self, label: Label, n: u32) -> Option<&str> {
        let want_city = label == Label::City;
        self.values
            .iter()
            .filter(|v| v.label == label)
            .find(|v| {
                if want_city {
                    v.pseudonym.rsplit(' ').next().map(|l| l.to_string()) == Some(letter(n.saturating_sub(1)))
                } else {
                    v.pseudonym.rsplit('-').next().and_then(|x| x.trim_end_matches(']').parse::<u32>().ok()) == Some(n)
                }
            })
            .map(|v| v.value.as_str())
    }

    /// Every pseudonym that is a fake value (not a token), longest first, with its real value.
    pub(crate) fn fakes(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = self
            .persons
            .iter()
            .map(|p| (p.pseudonym.as_str(), p.full.as_str()))
            .chain(self.values.iter().map(|v| (v.pseudonym.as_str(), v.value.as_str())))
            .filter(|(p, _)| !p.starts_with('[') && !p.contains(" A") || self.fake)
            .collect();
        v.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        v
    }

    /// Every pseudonym with its real value, for a review screen.
    pub fn entries(&self) -> Vec<(String, Label, String)> {
        let mut out: Vec<(String, Label, String)> =
            self.persons.iter().map(|p| (p.pseudonym.clone(), Label::Person, p.full.clone())).collect();
        out.extend(self.values.iter().map(|v| (v.pseudonym.clone(), v.label, v.value.clone())));
        out
    }
}

pub(crate) fn person_word(lang: Lang, client: bool) -> &'static str {
    match (lang, client) {
        (Lang::Nl, true) => "Cliënt",
        (Lang::Nl, false) => "Persoon",
        (Lang::En, true) => "Client",
        (Lang::En, false) => "Person",
    }
}

pub(crate) fn value_key(label: Label, surface: &str) -> String {
    match label {
        Label::Bsn | Label::Iban | Label::Phone | Label::Postcode | Label::Plate | Label::Kvk | Label::IdNumber | Label::CaseId => {
            let k: String = surface.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
            // +31 6 …, 0031 6 … and 06 … are one number
            if label == Label::Phone {
                let k = k.strip_prefix("0031").map(|r| format!("31{r}")).unwrap_or(k);
                if let Some(r) = k.strip_prefix("310") {
                    return format!("0{r}");
                }
                if let Some(r) = k.strip_prefix("31").filter(|_| surface.trim_start().starts_with('+') || surface.starts_with("00")) {
                    return format!("0{r}");
                }
                return k;
            }
            k
        }
        _ => fold(&surface.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }

    #[test]
    fn one_person_one_pseudonym() {
        let mut m = Mapping::new(Lang::Nl);
        let a = m.pseudonym(Label::Person, "Anna de Vries", true);
        assert_eq!(a, "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "De Vries", false), "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "A. de Vries", false), "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "Anna", false), "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "DE VRIES", false), "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "De Vries'", false), "Cliënt A");
        assert_eq!(m.pseudonym(Label::Person, "Piet de Vries", false), "Persoon B");
        assert_eq!(m.pseudonym(Label::Person, "Jansen", false), "Persoon C");
        assert_eq!(m.pseudonym(Label::Person, "Jansens", false), "Persoon C's");
        assert_eq!(m.value_key_phone("+31 6 12345678"), m.value_key_phone("06-12345678"));
    }

    impl Mapping {
        fn value_key_phone(&self, s: &str) -> String {
            value_key(Label::Phone, s)
        }
    }
}
