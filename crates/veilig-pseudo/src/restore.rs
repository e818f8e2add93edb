//! Puts the real values back into text that came back from an outside service: translated,
//! rewritten, with changed case or spacing (`[telefoon - 1]`, `Client A` for `Cliënt A`,
//! `Person A's`). A token the key does not hold is reported, never guessed.

use crate::{Label, Lang, Mapping};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Restored {
    pub text: String,
    /// How many tokens were replaced by their real value.
    pub restored: usize,
    /// Tokens that look like pseudonyms but are not in the key, as they appear in the text.
    pub unmatched: Vec<String>,
}

const PERSON_WORDS: &[&str] = &["cliënt", "client", "cliente", "klient", "persoon", "person", "personne", "persona", "patient", "patiënt"];
const CITY_WORDS: &[&str] = &["plaats", "city", "place", "town", "stad", "ville", "ciudad", "stadt"];

fn label_of(word: &str) -> Option<Label> {
    let w: String = word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
    Some(match w.as_str() {
        "PERSOON" | "PERSON" => Label::Person,
        "ADRES" | "ADDRESS" | "ADRESSE" => Label::Address,
        "POSTCODE" | "POSTALCODE" | "ZIP" | "ZIPCODE" => Label::Postcode,
        "PLAATS" | "CITY" | "PLACE" | "TOWN" => Label::City,
        "TELEFOON" | "PHONE" | "TELEPHONE" | "TELEFOONNUMMER" | "TEL" => Label::Phone,
        "EMAIL" | "MAIL" => Label::Email,
        "BSN" => Label::Bsn,
        "IBAN" => Label::Iban,
        "GEBOORTEDATUM" | "DATEOFBIRTH" | "DOB" | "BIRTHDATE" => Label::DateOfBirth,
        "KENTEKEN" | "PLATE" | "LICENSEPLATE" | "LICENCEPLATE" | "NUMBERPLATE" => Label::Plate,
        "KVK" | "KVKNUMMER" => Label::Kvk,
        "IDNUMMER" | "IDNUMBER" | "DOCUMENTNUMMER" | "DOCUMENTNUMBER" => Label::IdNumber,
        "IP" | "IPADRES" | "IPADDRESS" => Label::Ip,
        "URL" | "LINK" => Label::Url,
        "DOSSIER" | "CASE" | "DOSSIERNUMMER" | "CASENUMBER" => Label::CaseId,
        "TERM" => Label::Term,
        _ => return None,
    })
}

/// The index of a letter code: A = 0, Z = 25, AA = 26, … (the inverse of `mapping::letter`).
fn letter_index(l: &str) -> Option<u32> {
    if l.is_empty() || l.len() > 3 || !l.bytes().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let mut n: u32 = 0;
    for c in l.bytes() {
        n = n * 26 + (c - b'A') as u32 + 1;
    }
    Some(n - 1)
}

fn possessive_of(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{name}'s"),
        Lang::Nl => {
            if name.ends_with(['s', 'x', 'z', 'S', 'X', 'Z']) {
                format!("{name}'")
            } else if name.ends_with(['a', 'e', 'i', 'o', 'u', 'y']) {
                format!("{name}'s")
            } else {
                format!("{name}s")
            }
        }
    }
}

/// Restores `text` with the key in `mapping`.
pub fn restore(text: &str, mapping: &Mapping) -> Restored {
    if !mapping.fake {
        return restore_tokens(text, mapping);
    }
    // fake values are found as they are written, all in one pass (longest first), so a value
    // just put back is never read again as another fake; then any tokens
    let fakes = mapping.fakes();
    let matcher =
        aho_corasick::AhoCorasick::builder().match_kind(aho_corasick::MatchKind::LeftmostLongest).build(fakes.iter().map(|(f, _)| *f)).ok();
    let (out, count) = match matcher {
        Some(m) if !fakes.is_empty() => {
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            let mut count = 0;
            for hit in m.find_iter(text) {
                out.push_str(&text[last..hit.start()]);
                out.push_str(fakes[hit.pattern().as_usize()].1);
                last = hit.end();
                count += 1;
            }
            out.push_str(&text[last..]);
            (out, count)
        }
        _ => (text.to_string(), 0),
    };
    let mut r = restore_tokens(&out, mapping);
    r.restored += count;
    r
}

fn restore_tokens(text: &str, mapping: &Mapping) -> Restored {
    let lang = crate::Lang::detect(text);
    let mut out = String::with_capacity(text.len());
    let mut restored = 0;
    let mut unmatched = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        // [LABEL-N]
        if b[i] == b'['
            && let Some(close) = text.as_bytes()[i..].iter().take(42).position(|&c| c == b']').map(|c| i + c)
        {
            let inner = text[i + 1..close].trim();
            let digits_at = inner.char_indices().rev().find(|(_, c)| !c.is_ascii_digit()).map(|(p, c)| p + c.len_utf8()).unwrap_or(0);
            let (word, num) = inner.split_at(digits_at);
            let word = word.trim_end_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
            if !num.is_empty() && !word.is_empty() && word.chars().all(|c| c.is_alphabetic() || c == '-' || c == '_' || c == ' ') {
                let label = label_of(word);
                let n: u32 = num.parse().unwrap_or(0);
                match label.and_then(|l| mapping.lookup_value(l, n)) {
                    Some(v) => {
                        out.push_str(&text[last..i]);
                        out.push_str(v);
                        restored += 1;
                    }
                    None => {
                        unmatched.push(text[i..=close].to_string());
                        out.push_str(&text[last..=close]);
                    }
                }
                i = close + 1;
                last = i;
                continue;
            }
        }
        // Cliënt A, Person B's, Plaats A
        let at_word_start = i == 0 || !text[..i].chars().next_back().is_some_and(char::is_alphanumeric);
        if at_word_start && b[i].is_ascii_alphabetic() {
            let word_end = text[i..].find(|c: char| !c.is_alphabetic()).map(|e| i + e).unwrap_or(text.len());
            let word = text[i..word_end].to_lowercase();
            let is_person = PERSON_WORDS.contains(&word.as_str());
            let is_city = CITY_WORDS.contains(&word.as_str());
            if (is_person || is_city) && text[word_end..].starts_with(' ') {
                let ls = word_end + 1;
                let le = text[ls..].find(|c: char| !c.is_ascii_uppercase()).map(|e| ls + e).unwrap_or(text.len());
                let after = text[le..].chars().next();
                let letters = &text[ls..le];
                let is_token = !letters.is_empty() && letters.len() <= 3 && !after.is_some_and(char::is_alphanumeric);
                if is_token && let Some(idx) = letter_index(letters) {
                    let (poss, end) = if text[le..].starts_with("'s") {
                        (true, le + 2)
                    } else if text[le..].starts_with("’s") {
                        (true, le + "’s".len())
                    } else {
                        (false, le)
                    };
                    let value = if is_person {
                        mapping.lookup_person(letters).map(str::to_string)
                    } else {
                        mapping.lookup_value(Label::City, idx + 1).map(str::to_string)
                    };
                    match value {
                        Some(v) => {
                            out.push_str(&text[last..i]);
                            out.push_str(&if poss { possessive_of(&v, lang) } else { v });
                            restored += 1;
                        }
                        None => {
                            unmatched.push(text[i..end].to_string());
                            out.push_str(&text[last..end]);
                        }
                    }
                    i = end;
                    last = i;
                    continue;
                }
            }
            i = word_end.max(i + 1);
            continue;
        }
        i += text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
    }
    out.push_str(&text[last..]);
    Restored { text: out, restored, unmatched }
}

/// For text that arrives in pieces (a streamed chat answer): how much of `text` can be restored
/// now without cutting a pseudonym in two. The rest waits for the next piece.
pub fn safe_len(text: &str) -> usize {
    let mut from = text.len().saturating_sub(64);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    // an open bracket: [TELEFOON-1 … not closed yet
    if let Some(p) = text[from..].rfind('[')
        && !text[from + p..].contains(']')
    {
        return from + p;
    }
    // Cliënt / Client / Persoon A / Plaats … at the end
    let mut starts: Vec<usize> = Vec::new();
    let mut prev_alpha = false;
    for (i, c) in text[from..].char_indices() {
        let alpha = c.is_alphabetic();
        if alpha && !prev_alpha {
            starts.push(from + i);
        }
        prev_alpha = alpha || c == '\'' || c == '’';
    }
    for p in starts.into_iter().rev().take(3).collect::<Vec<_>>().into_iter().rev() {
        if token_prefix(&text[p..]) {
            return p;
        }
    }
    text.len()
}

/// `rest` without `word` at its start, compared case-insensitively character by character
/// (lower-casing can change byte lengths, so no offsets from a lower-cased copy).
fn strip_word<'a>(rest: &'a str, word: &str) -> Option<&'a str> {
    let mut it = rest.char_indices();
    for w in word.chars() {
        let (_, c) = it.next()?;
        if !c.to_lowercase().eq(w.to_lowercase()) {
            return None;
        }
    }
    Some(it.next().map(|(i, _)| &rest[i..]).unwrap_or(""))
}

fn token_prefix(rest: &str) -> bool {
    PERSON_WORDS.iter().chain(CITY_WORDS).any(|w| {
        // the text so far could still become the word
        if rest.chars().count() <= w.chars().count() && w.chars().zip(rest.chars()).all(|(a, b)| b.to_lowercase().eq(a.to_lowercase())) {
            return true;
        }
        let Some(after_orig) = strip_word(rest, w) else { return false };
        if after_orig.is_empty() {
            return true;
        }
        let Some(a) = after_orig.strip_prefix(' ') else { return false };
        let letters: String = a.chars().take_while(char::is_ascii_uppercase).collect();
        let tail = &a[letters.len()..];
        letters.len() <= 2 && (tail.is_empty() || (!letters.is_empty() && ["'", "’", "'s", "’s"].contains(&tail)))
    })
}

#[cfg(test)]
mod tests {
    use super::safe_len;

    #[test]
    fn pieces_never_cut_a_pseudonym() {
        assert_eq!(safe_len("Dear Pers"), 5);
        assert_eq!(safe_len("Dear Person A"), 5);
        assert_eq!(safe_len("Dear Person A, "), 15);
        assert_eq!(safe_len("call [TELEF"), 5);
        assert_eq!(safe_len("call [PHONE-1] now"), 18);
        assert_eq!(safe_len("from Plaats"), 5);
        assert_eq!(safe_len("Person A'"), 0);
        assert_eq!(safe_len("the personal"), 12);
        assert_eq!(safe_len(""), 0);
        // lower-casing changes byte lengths here (the Kelvin sign): no slicing inside a character
        assert_eq!(safe_len("Dear Person\u{212A}"), "Dear Person\u{212A}".len());
        assert_eq!(safe_len("Dear PERSON A"), 5);
    }
}
