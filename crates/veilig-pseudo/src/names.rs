//! People, streets and places: found by grammar and context over the word tokens, with the name
//! lists as evidence, then every further mention of a person or place that was found.

use crate::lexicon::*;
use crate::patterns::Text;
use crate::scan::{Kind, Token};
use crate::{Cand, Label};

pub(crate) struct Words<'a> {
    pub t: &'a Text<'a>,
    pub toks: Vec<Token>,
    pub flags: Vec<u32>,
    /// Lower-case forms of the words that are not lower case already.
    lows: Vec<Option<Box<str>>>,
}

pub(crate) const STRONG_TITLES: &[&str] = &[
    "mevrouw",
    "mevr",
    "mw",
    "mvr",
    "meneer",
    "mijnheer",
    "mnr",
    "dhr",
    "heer",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "drs",
    "prof",
    "ir",
    "ing",
    "ds",
    "juffrouw",
    "juf",
    "jhr",
    "jonkheer",
    "sir",
    "lady",
    "lord",
    "mister",
    "zuster",
    "broeder",
    "wijlen",
    "dominee",
    "pastoor",
    "professor",
    "doctor",
    "mevrouwe",
    "meester",
    "dokter",
    "huisarts",
];
/// Titles that are only titles with their dot: "ir." (not "ir"), "ing." (not ING).
const DOTTED_TITLES: &[&str] = &["ir", "ing", "ds", "drs", "jhr", "mw", "mevr", "mvr", "mnr", "prof", "dr"];
pub(crate) const KEYS: &[&str] = &[
    "naam",
    "name",
    "cliënt",
    "client",
    "patiënt",
    "patient",
    "contactpersoon",
    "contact",
    "ouder",
    "ouders",
    "moeder",
    "vader",
    "werknemer",
    "medewerker",
    "employee",
    "aanvrager",
    "applicant",
    "behandelaar",
    "mentor",
    "huurder",
    "tenant",
    "verhuurder",
    "landlord",
    "koper",
    "verkoper",
    "buyer",
    "seller",
    "erflater",
    "getuige",
    "witness",
    "melder",
    "aangever",
    "verdachte",
    "betrokkene",
    "leerling",
    "student",
    "kandidaat",
    "candidate",
    "deelnemer",
    "participant",
    "lid",
    "member",
    "partner",
    "gezinsvoogd",
    "casemanager",
    "bewindvoerder",
    "from",
    "to",
    "cc",
    "bcc",
    "van",
    "aan",
    "afzender",
    "sender",
    "ontvanger",
    "recipient",
    "reply-to",
    "beantwoorden",
    "door",
    "by",
    "auteur",
    "author",
    "opgesteld",
    "gebruiker",
    "user",
    "aanwezig",
    "present",
    "attendees",
    "afwezig",
    "absent",
    "notulist",
    "voorzitter",
    "chair",
    "docent",
    "teacher",
    "arts",
    "doctor",
    "verpleegkundige",
    "nurse",
    "coördinator",
    "coordinator",
    "consulent",
    "adviseur",
    "advisor",
    "manager",
    "leidinggevende",
    "werkgever",
    "kind",
    "child",
    "zoon",
    "dochter",
    "echtgenoot",
    "echtgenote",
    "spouse",
    "vertegenwoordiger",
    "gemachtigde",
    "voornaam",
    "voornamen",
    "achternaam",
    "surname",
    "initialen",
    "roepnaam",
    "geboortenaam",
    "eigenaar",
    "owner",
    "bestuurder",
    "driver",
    "beller",
    "caller",
    "aangemeld",
    "behandeld",
    "uitgevoerd",
    "assigned",
    "toegewezen",
    "reporter",
    "begeleider",
    "contactpersonen",
    "voorletters",
    "gezinsleden",
    "kinderen",
    "children",
    "huisgenoten",
    "ouder/verzorger",
    "verzorger",
    "guardian",
];
pub(crate) const CLOSINGS: &[&str] = &[
    "met",
    "vriendelijke",
    "hartelijke",
    "vriendelijk",
    "hartelijk",
    "groet",
    "groeten",
    "groetjes",
    "mvg",
    "m.v.g",
    "gr",
    "vr.gr",
    "kind",
    "best",
    "warm",
    "warmest",
    "regards",
    "sincerely",
    "yours",
    "faithfully",
    "truly",
    "cheers",
    "thanks",
    "thank",
    "you",
    "dank",
    "bedankt",
    "alvast",
    "liefs",
    "hoogachtend",
    "with",
    "many",
    "en",
    "tot",
    "snel",
    "spreek",
    "je",
    "gauw",
    "fijne",
    "dag",
    "namens",
    "collegiale",
    "vr",
    "kindest",
    "all",
    "the",
    "wishes",
    "love",
    "xx",
    "x",
];
pub(crate) const RESIDENCE: &[&str] = &[
    "wonend",
    "wonende",
    "woonachtig",
    "woont",
    "woonde",
    "wonen",
    "verhuisd",
    "verhuist",
    "verhuizen",
    "geboren",
    "born",
    "lives",
    "living",
    "lived",
    "resides",
    "residing",
    "resident",
    "moved",
    "afkomstig",
    "komt",
    "kwam",
    "opgegroeid",
    "grew",
    "woonplaats",
    "geboorteplaats",
    "birthplace",
];
pub(crate) const RESIDENCE_KEYS: &[&str] =
    &["woonplaats", "geboorteplaats", "plaats", "city", "town", "residence", "stad", "gemeente van inschrijving"];

fn is_cap(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}
fn is_all_caps(s: &str) -> bool {
    s.chars().count() >= 2 && s.chars().all(|c| !c.is_lowercase())
}
fn lower(s: &str) -> String {
    s.to_lowercase()
}

impl<'a> Words<'a> {
    pub(crate) fn new(t: &'a Text<'a>, toks: Vec<Token>) -> Words<'a> {
        let lex = Lexicon::get();
        let mut buf = String::new();
        let flags = toks
            .iter()
            .map(|k| {
                if k.kind != Kind::Word {
                    return 0;
                }
                let w = k.text(t.s);
                let mut f = lex.flags(w, &mut buf);
                if f & (FIRST | SURNAME) == 0 {
                    // possessives: Jansens, Peter's, Anna’s
                    let base = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).or_else(|| w.strip_suffix('s'));
                    if let Some(base) = base
                        && base.chars().count() >= 3
                    {
                        let g = lex.flags(base, &mut buf);
                        if f & WORD == 0 || w.contains(['\'', '’']) {
                            f |= g & (FIRST | SURNAME);
                        }
                    }
                }
                f
            })
            .collect();
        let lows = toks
            .iter()
            .map(|k| {
                let w = k.text(t.s);
                (k.kind == Kind::Word && w.chars().any(char::is_uppercase)).then(|| w.to_lowercase().into_boxed_str())
            })
            .collect();
        Words { t, toks, flags, lows }
    }

    /// The first token starting at or after byte `at`.
    fn tok_at(&self, at: usize) -> Option<usize> {
        let k = self.toks.partition_point(|t| t.start < at);
        (k < self.toks.len()).then_some(k)
    }

    fn text(&self, i: usize) -> &'a str {
        self.toks[i].text(self.t.s)
    }
    fn word(&self, i: usize) -> bool {
        i < self.toks.len() && self.toks[i].kind == Kind::Word
    }
    fn punct(&self, i: usize, c: char) -> bool {
        i < self.toks.len() && self.toks[i].kind == Kind::Punct(c)
    }
    fn has(&self, i: usize, f: u32) -> bool {
        i < self.toks.len() && self.flags[i] & f != 0
    }
    fn newline_before(&self, i: usize) -> bool {
        i == 0 || i < self.toks.len() && self.toks[i].newlines > 0
    }

    /// The first word of a sentence, a line, a list item or a quote.
    fn sentence_start(&self, i: usize) -> bool {
        let mut j = i;
        loop {
            if self.newline_before(j) {
                return true;
            }
            let p = self.toks[j - 1];
            match p.kind {
                Kind::Punct('"' | '\'' | '“' | '(' | '‘' | '*' | '•' | '>' | '-' | '[') => j -= 1,
                Kind::Punct('.' | '!' | '?' | ':' | ';' | ']') => return true,
                _ => return false,
            }
        }
    }

    fn lex(&self, i: usize) -> &str {
        self.lows[i].as_deref().unwrap_or_else(|| self.text(i))
    }

    /// A word that can be part of a name: capitalised (or all caps), not a function word or an
    /// organisation word, and either known as a name or not an ordinary word.
    fn namey(&self, i: usize, loose: bool) -> bool {
        if !self.word(i) {
            return false;
        }
        let w = self.text(i);
        let f = self.flags[i];
        if !(is_cap(w)) || f & (STOP | ORG | GREETING | TITLE) != 0 {
            return false;
        }
        if w.chars().count() < 2 {
            return false;
        }
        if f & (FIRST | SURNAME) == 0 {
            let lw = lower(w);
            if ORG_SUFFIXES.iter().any(|s| lw.len() > s.len() + 2 && lw.ends_with(s)) {
                return false;
            }
        }
        loose || f & (FIRST | SURNAME) != 0 || f & WORD == 0
    }

    /// Capitalised organisation word: "Groep", "Practice", "Zorggroep".
    fn org_word(&self, j: usize) -> bool {
        if !self.word(j) || !is_cap(self.text(j)) {
            return false;
        }
        if self.has(j, ORG) {
            return true;
        }
        let lw = self.lex(j);
        ORG_SUFFIXES.iter().any(|s| lw.len() > s.len() + 2 && lw.ends_with(s))
    }

    /// B.V., N.V., BV, Ltd right after a name.
    fn legal_form(&self, k: usize) -> bool {
        if !self.word(k) || self.newline_before(k) {
            return false;
        }
        let w = self.text(k);
        (["B", "N"].contains(&w) && self.punct(k + 1, '.') && self.word(k + 2) && self.text(k + 2) == "V")
            || ["BV", "NV", "VOF", "Ltd", "GmbH", "Inc", "LLC", "CV"].contains(&w)
    }

    fn initial(&self, i: usize) -> bool {
        if !self.word(i) || !self.punct(i + 1, '.') {
            return false;
        }
        let w = self.text(i);
        let n = w.chars().count();
        (n == 1 && is_cap(w))
            || (n <= 4 && is_cap(w) && ["Th", "Chr", "Ph", "Joh", "Wm", "Jac", "Corn", "Ch", "Hendr", "Gerh"].contains(&w))
    }

    fn particle(&self, i: usize) -> bool {
        self.word(i) && self.flags[i] & PARTICLE != 0 && !is_all_caps(self.text(i))
    }

    /// Parses a name from token `i`: initials, given names, particles, surname, a second surname
    /// after a hyphen. `loose` accepts capitalised ordinary words (after a title). Returns the
    /// token index after the name and whether a word in it is a known name.
    fn phrase(&self, i: usize, loose: bool) -> Option<(usize, bool, usize)> {
        let mut j = i;
        let mut names = 0;
        let mut known = false;
        let mut initials = 0;
        while self.initial(j) && (j == i || !self.newline_before(j)) {
            j += 2;
            initials += 1;
            // A.B. written without spaces is A . B .
        }
        loop {
            if j >= self.toks.len() || (j > i && self.newline_before(j)) || names >= 6 {
                break;
            }
            // particles followed by a name word: van der Berg, in 't Veld, De Jong
            let mut k = j;
            while self.particle(k) && k - j < 3 && !self.newline_before(k + 1) {
                k += 1;
            }
            if k > j && self.namey(k, true) && (!self.has(k, PLACE) || self.has(k, SURNAME) || names > 0 || initials > 0 || loose) {
                known |= self.has(k, FIRST | SURNAME);
                j = k + 1;
                names += 1;
                continue;
            }
            if self.namey(j, loose || names > 0 || initials > 0) {
                known |= self.has(j, FIRST | SURNAME);
                j += 1;
                names += 1;
                continue;
            }
            // Jansen-de Vries: a hyphen without spaces joins two surnames
            if names > 0 && self.punct(j, '-') && !self.toks[j].space && j + 1 < self.toks.len() && !self.toks[j + 1].space {
                let mut k = j + 1;
                while self.particle(k) {
                    k += 1;
                }
                // Tjon-A-Fat: one capital between hyphens
                let single = self.word(k)
                    && self.text(k).chars().count() == 1
                    && is_cap(self.text(k))
                    && self.punct(k + 1, '-')
                    && !self.toks[k + 1].space;
                if self.namey(k, true) || single {
                    j = k + 1;
                    names += 1;
                    continue;
                }
            }
            break;
        }
        // Parnassia Groep, Riverside Medical Practice: an organisation, not a person
        if names > 0 && self.org_word(j) && !self.newline_before(j) {
            return None;
        }
        (names > 0).then_some((j, known, initials))
    }

    /// "Visser, Marieke" and "Hoekstra, J.": a given name or initials after a surname and a comma
    /// at the end of a line or before a bracket.
    fn surname_first(&self, e: usize) -> usize {
        if !self.punct(e, ',') || self.newline_before(e + 1) {
            return e;
        }
        let mut k = e + 1;
        let mut any = false;
        while self.initial(k) {
            k += 2;
            any = true;
        }
        if !any && self.word(k) && is_cap(self.text(k)) && self.has(k, FIRST) {
            k += 1;
            any = true;
        }
        let end_ok =
            k >= self.toks.len() || self.newline_before(k) || matches!(self.toks[k].kind, Kind::Punct('(' | ')' | ';' | '|' | '<' | '['));
        if any && end_ok { k } else { e }
    }

    fn span(&self, from: usize, to_excl: usize) -> (usize, usize) {
        (self.toks[from].start, self.toks[to_excl - 1].end)
    }

    fn push(&self, out: &mut Vec<Cand>, from: usize, to: usize, conf: f32, reason: &'static str, client: bool) {
        // Zorggroep Rivierenland, Antonius Zorggroep, Photonix B.V.: organisations
        let strong = reason == "context:title" || reason == "context:client" || reason == "context:field";
        let org_before = from > 0 && !self.newline_before(from) && self.org_word(from - 1);
        if !strong
            && ((from..to).any(|k| self.org_word(k))
                || (self.org_word(to) && !self.newline_before(to))
                || self.legal_form(to)
                || org_before)
        {
            return;
        }
        let to = self.surname_first(to);
        // El Amrani, De Vries, Van Dam: a capitalised particle in front belongs to the name
        let mut from = from;
        while from > 0
            && !self.newline_before(from)
            && self.word(from - 1)
            && is_cap(self.text(from - 1))
            && ["de", "van", "der", "den", "el", "al", "ter", "ten", "'t", "le", "la", "da", "di", "du", "von", "ben", "bin", "ibn", "abu"]
                .contains(&self.lex(from - 1))
        {
            from -= 1;
        }
        // leading particles in lower case stay outside: "de heer van Dam" keeps "van Dam" whole,
        // but "bij de Jong" does not start at "bij".
        let (s, e) = self.span(from, to);
        out.push(Cand { start: s, end: e, label: Label::Person, conf, reason, flag: false, client });
    }

    pub(crate) fn persons(&self, out: &mut Vec<Cand>) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            if !self.word(i) {
                i += 1;
                continue;
            }
            let f = self.flags[i];
            let w = self.text(i);
            let lw = self.lex(i);
            let line_start = self.newline_before(i);

            // key: value lines ("Naam: A. Jansen", "Van: Anna de Vries <anna@…>")
            if (line_start || self.sentence_start(i)) && self.punct(i + 1, ':') && self.has(i, KEY) {
                let mut j = i + 2;
                let mut any = false;
                loop {
                    while j < n && (self.punct(j, '"') || self.punct(j, '\'') || self.punct(j, '“')) && !self.newline_before(j) {
                        j += 1;
                    }
                    while self.word(j) && self.has(j, STRONG) && !self.newline_before(j) {
                        j += 1 + usize::from(self.punct(j + 1, '.'));
                    }
                    if j < n
                        && !self.newline_before(j)
                        && let Some((e, _, _)) = self.phrase(j, true)
                    {
                        self.push(out, j, e, 0.9, "context:field", lw.starts_with("cli") || lw.starts_with("pati"));
                        any = true;
                        j = e;
                        // skip an address in angle brackets and a list separator
                        while j < n && !self.newline_before(j) && !self.punct(j, ',') && !self.punct(j, ';') {
                            j += 1;
                        }
                        if j < n && !self.newline_before(j) && (self.punct(j, ',') || self.punct(j, ';')) {
                            j += 1;
                            continue;
                        }
                    }
                    break;
                }
                if any {
                    i = j;
                    continue;
                }
            }

            // chat and mail headers "Bakker, dr. H. 09:12", "Visser, M. (Wijkteam)": surname, initials
            if line_start && is_cap(w) && self.punct(i + 1, ',') && !self.newline_before(i + 2) {
                let mut k = i + 2;
                while self.word(k) && self.has(k, STRONG) {
                    k += 1 + usize::from(self.punct(k + 1, '.'));
                }
                let mut inits = 0;
                while self.initial(k) && !self.newline_before(k) {
                    k += 2;
                    inits += 1;
                }
                let end_ok = k >= n || self.newline_before(k) || self.toks[k].kind == Kind::Number || self.punct(k, '(');
                if inits > 0 && end_ok && f & (STOP | ORG) == 0 {
                    let (s0, _) = self.span(i, i + 1);
                    out.push(Cand {
                        start: s0,
                        end: self.toks[i].end,
                        label: Label::Person,
                        conf: 0.8,
                        reason: "context:header",
                        flag: false,
                        client: false,
                    });
                    let first_init = (i + 2..k).find(|&x| self.initial(x)).unwrap_or(k);
                    let (a, b) = self.span(first_init, k);
                    out.push(Cand {
                        start: a,
                        end: b,
                        label: Label::Person,
                        conf: 0.8,
                        reason: "context:header",
                        flag: false,
                        client: false,
                    });
                    i = k;
                    continue;
                }
            }

            // titles: mevrouw Jansen, dhr. A. de Vries, Mr Smith, cliënt Yilmaz
            if f & TITLE != 0 {
                let strong = f & STRONG != 0;
                let dotted = DOTTED_TITLES.contains(&lw);
                let mut j = i + 1;
                if self.punct(j, '.') {
                    j += 1;
                } else if dotted && !(lw == "dr" || lw == "prof" || lw == "mw") {
                    i += 1;
                    continue;
                }
                // more titles: mevrouw dr. Jansen, de heer mr. A. Smit
                while self.word(j) && self.has(j, STRONG) && !self.newline_before(j) {
                    j += 1;
                    if self.punct(j, '.') {
                        j += 1;
                    }
                }
                if j < n
                    && !self.newline_before(j)
                    && (self.word(j) && (is_cap(self.text(j)) || self.particle(j)))
                    && let Some((e, known, initials)) = self.phrase(j, strong)
                    && (strong || known || initials > 0 || self.flags[e - 1] & WORD == 0)
                {
                    let client = f & CLIENT != 0;
                    self.push(out, j, e, if strong { 0.95 } else { 0.85 }, if client { "context:client" } else { "context:title" }, client);
                    i = e;
                    continue;
                }
            }

            // greetings: Beste Anna, Dear Mr Smith, hoi jan; and "genaamd Sanne"
            if f & GREETING != 0 && (self.sentence_start(i) || ["genaamd", "named", "called", "heet", "namens"].contains(&lw)) {
                let mut j = i + 1;
                if self.punct(j, ',') {
                    j += 1;
                }
                while self.word(j) && self.has(j, TITLE) && self.has(j, STRONG) {
                    j += 1;
                    if self.punct(j, '.') {
                        j += 1;
                    }
                }
                if j < n && !self.newline_before(j) {
                    if let Some((e, known, _)) = self.phrase(j, false)
                        && (known || self.flags[j] & WORD == 0)
                    {
                        self.push(out, j, e, 0.9, "context:greeting", false);
                        i = e;
                        continue;
                    }
                    let lw2 = self.lex(j);
                    if self.chat_name(j)
                        || (self.has(j, FIRST_NL) && !self.has(j, WORD | STOP | PARTICLE | PLACE) && lw2.chars().count() >= 3)
                    {
                        self.push(out, j, j + 1, 0.8, "context:greeting", false);
                        i = j + 1;
                        continue;
                    }
                }
            }

            // relations: "haar dochter Sanne", "zijn broer Ahmed"
            let rel_at = i + 1 + usize::from(self.punct(i + 1, ',') || self.punct(i + 1, '('));
            if f & RELATION != 0
                && !is_cap(w)
                && self.word(rel_at)
                && let Some((e, known, _)) = self.phrase(rel_at, false)
                && (known || self.flags[rel_at] & WORD == 0)
            {
                self.push(out, rel_at, e, 0.85, "context:relation", false);
                i = e;
                continue;
            }
            // "Rick, wil jij …": a given name called at the start of a sentence
            if is_cap(w)
                && f & FIRST != 0
                && f & (STOP | ORG | GREETING | TITLE) == 0
                && self.sentence_start(i)
                && self.punct(i + 1, ',')
                && self.word(i + 2)
                && !is_cap(self.text(i + 2))
            {
                self.push(out, i, i + 1, 0.7, "list:first-name-vocative", false);
                i += 1;
                continue;
            }
            // two capitalised words no dictionary or list knows: Femi Adebayo
            if is_cap(w)
                && !is_all_caps(w)
                && f & (WORD | PLACE | ORG | STOP | TITLE | GREETING) == 0
                && self.word(i + 1)
                && !self.newline_before(i + 1)
                && is_cap(self.text(i + 1))
                && !is_all_caps(self.text(i + 1))
                && self.flags[i + 1] & (WORD | PLACE | ORG | STOP | TITLE) == 0
                && w.chars().count() >= 2
                && self.text(i + 1).chars().count() >= 2
                && !self.org_word(i)
                && !self.org_word(i + 1)
                && !self.org_word(i + 2)
            {
                self.push(out, i, i + 2, 0.6, "rule:unknown-capitalised-pair", false);
                i += 2;
                continue;
            }

            // initials: A. Jansen, J.P. de Vries
            if self.initial(i)
                && !self.has(i, ABBREV)
                && let Some((e, _, initials)) = self.phrase(i, true)
                && initials > 0
                && e > i + 2 * initials
            {
                self.push(out, i, e, 0.9, "rule:initials", false);
                i = e;
                continue;
            }

            // a known given name: Anna de Vries, Mohamed El Amrani, Roos alone mid-sentence
            if is_cap(w) && f & FIRST != 0 && f & (STOP | ORG) == 0 && !self.org_word(i + 1) {
                let start = self.sentence_start(i);
                if let Some((e, _, _)) = self.phrase(i, false)
                    && e > i + 1
                {
                    let second_known = self.flags[i + 1..e].iter().any(|g| g & (SURNAME | FIRST) != 0 || g & WORD == 0);
                    if !(start && f & WORD != 0) || second_known {
                        self.push(out, i, e, 0.9, "list:first-name+surname", false);
                        i = e;
                        continue;
                    }
                }
                let place_only = f & PLACE != 0 && f & FIRST_NL == 0;
                if !place_only && (f & WORD == 0 || !start && !is_all_caps(w)) {
                    self.push(out, i, i + 1, if f & WORD == 0 { 0.8 } else { 0.6 }, "list:first-name", false);
                    i += 1;
                    continue;
                }
            }

            // de Jong, van der Berg: particles and a known surname, mid-sentence
            if self.particle(i) && !is_cap(w) {
                let mut k = i;
                while self.particle(k) && k - i < 3 {
                    k += 1;
                }
                let word_then_cap = self.has(k, WORD) && self.word(k + 1) && is_cap(self.text(k + 1)) && !self.newline_before(k + 1);
                if k > i
                    && self.word(k)
                    && is_cap(self.text(k))
                    && self.has(k, SURNAME)
                    && !self.has(k, PLACE | STOP | ORG)
                    && !word_then_cap
                    && self.interfix_ok(i, k)
                {
                    let e = self.phrase(k, true).map(|p| p.0).unwrap_or(k + 1);
                    self.push(out, i, e, 0.75, "list:surname+interfix", false);
                    i = e;
                    continue;
                }
            }

            // a surname no dictionary knows as a word: Yilmaz, Jansen
            if is_cap(w) && f & SURNAME != 0 && f & (WORD | PLACE | STOP | ORG) == 0 {
                let e = self.phrase(i, false).map(|p| p.0).unwrap_or(i + 1);
                self.push(out, i, e, 0.7, "list:surname", false);
                i = e;
                continue;
            }

            // lower-case given names in chats: "heb je jan al gebeld"
            if !is_cap(w) && self.chat_name(i) {
                self.push(out, i, i + 1, 0.6, "list:first-name-lowercase", false);
                i += 1;
                continue;
            }
            i += 1;
        }
        self.signatures(out);
    }

    fn chat_name(&self, i: usize) -> bool {
        if !self.word(i) {
            return false;
        }
        let f = self.flags[i];
        let w = self.text(i);
        w.chars().count() >= 3
            && (f & CHAT_NAME != 0 || f & FIRST_NL != 0 && f & (WORD | STOP | PARTICLE | PLACE | TITLE | GREETING | ORG) == 0)
    }

    /// "van der", "de", "ten": the particle sequences that Dutch surnames use.
    fn interfix_ok(&self, from: usize, to: usize) -> bool {
        let p: Vec<&str> = (from..to).map(|k| self.lex(k)).collect();
        matches!(
            p.as_slice(),
            ["van"]
                | ["de"]
                | ["van", "der" | "den" | "de" | "'t" | "het"]
                | ["ter" | "ten" | "te" | "in" | "op" | "uit" | "el" | "al" | "da" | "di" | "le" | "la" | "von" | "du" | "ben" | "bin"]
                | ["in" | "op" | "uit", "'t" | "de" | "den" | "der" | "het"]
                | ["van", "de", "la"]
                | ["de", "la" | "los"]
        )
    }

    /// The name under a closing: "Met vriendelijke groet,\nAnna de Vries\nConsulent".
    fn signatures(&self, out: &mut Vec<Cand>) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            if !self.newline_before(i) || !self.word(i) {
                i += 1;
                continue;
            }
            // a line made of closing words (and commas)
            let mut j = i;
            let mut words = 0;
            let mut all_closing = true;
            while j < n && (j == i || !self.newline_before(j)) {
                if self.word(j) {
                    words += 1;
                    if !self.has(j, CLOSING) {
                        all_closing = false;
                    }
                } else if !(self.punct(j, ',') || self.punct(j, '.') || self.punct(j, '!') || self.punct(j, '-')) {
                    all_closing = false;
                }
                j += 1;
            }
            let has_core = (i..j).any(|k| {
                [
                    "groet",
                    "groeten",
                    "groetjes",
                    "regards",
                    "sincerely",
                    "faithfully",
                    "mvg",
                    "cheers",
                    "liefs",
                    "hoogachtend",
                    "thanks",
                    "bedankt",
                    "gr",
                    "m.v.g",
                    "wishes",
                ]
                .contains(&self.lex(k))
            });
            if all_closing && words > 0 && words <= 5 && has_core && j < n && self.toks[j].newlines <= 2 {
                // the next line: a name, maybe after a title
                let mut k = j;
                while self.word(k) && self.has(k, STRONG) {
                    k += 1;
                    if self.punct(k, '.') {
                        k += 1;
                    }
                }
                if let Some((e, known, initials)) = self.phrase(k, true)
                    && (known || initials > 0 || (k..e).any(|x| self.word(x) && self.flags[x] & WORD == 0))
                    && !self.has(k, ORG)
                    && (e >= n || self.newline_before(e) || self.punct(e, ',') || self.punct(e, '|') || self.punct(e, '-'))
                {
                    self.push(out, k, e, 0.9, "context:signature", false);
                }
            }
            i = j.max(i + 1);
        }
    }

    // ------------------------------------------------------------ addresses

    pub(crate) fn addresses(&self, out: &mut Vec<Cand>) {
        let n = self.toks.len();
        let postcodes: Vec<usize> = out.iter().filter(|c| c.label == Label::Postcode).map(|c| c.start).collect();
        let postcodes = postcodes.as_slice();
        for i in 0..n {
            if self.toks[i].kind != Kind::Number || self.toks[i].end - self.toks[i].start > 5 {
                continue;
            }
            // Dutch order: street words before the number
            let mut s = i;
            let mut words = 0;
            while s > 0 && !self.newline_before(s) && words < 6 {
                let p = s - 1;
                if self.word(p) {
                    let pw = self.text(p);
                    if is_cap(pw) || self.particle(p) || self.has(p, STREET_WORD) || (words > 0 && pw.chars().count() <= 3) {
                        s = p;
                        words += 1;
                        continue;
                    }
                    break;
                }
                if (self.punct(p, '.') && p > 0 && self.word(p - 1) && is_cap(self.text(p - 1)))
                    || (self.punct(p, '-') && !self.toks[p].space)
                    || self.punct(p, '\'')
                {
                    s = p;
                    continue;
                }
                break;
            }
            // the street starts at its first capitalised word
            while s < i && !(self.word(s) && (is_cap(self.text(s)) || self.text(s).starts_with('\''))) {
                s += 1;
            }
            let postcode_follows = || {
                let e = self.house_number_end(i);
                let Some(next) = self.toks.get(e + usize::from(self.punct(e, ','))) else { return false };
                next.newlines <= 1 && found_postcode_at(postcodes, next.start)
            };
            let address_context = || {
                self.t.context(self.toks[s].start, 24).contains("adres")
                    || self.t.context(self.toks[s].start, 24).contains("address")
                    || self.t.context(self.toks[s].start, 16).contains(" aan de ")
                    || self.t.context(self.toks[s].start, 16).contains(" aan ")
            };
            let postbus = s < i && ["postbus", "box", "antwoordnummer", "bus"].contains(&self.lex(i - 1));
            if s < i
                && !postbus
                && (self.is_street(s, i) || (s + 3 >= i && is_cap(self.text(s)) && (postcode_follows() || address_context())))
            {
                let e = self.house_number_end(i);
                let (bs, be) = (self.toks[s].start, self.toks[e - 1].end);
                out.push(Cand {
                    start: bs,
                    end: be,
                    label: Label::Address,
                    conf: 0.9,
                    reason: "rule:street+number",
                    flag: false,
                    client: false,
                });
                continue;
            }
            // English order: 12 Baker Street, 221B Baker Street
            let mut j = i + 1;
            if self.word(j) && !self.toks[j].space && self.text(j).chars().count() == 1 {
                j += 1;
            }
            let mut k = j;
            let mut cap_words = 0;
            while self.word(k) && is_cap(self.text(k)) && !self.newline_before(k) && cap_words < 4 {
                cap_words += 1;
                k += 1;
            }
            if cap_words >= 2 && self.has(k - 1, STREET_WORD) && self.number_start_ok(i) {
                let (bs, be) = (self.toks[i].start, self.toks[k - 1].end);
                out.push(Cand {
                    start: bs,
                    end: be,
                    label: Label::Address,
                    conf: 0.85,
                    reason: "rule:number+street",
                    flag: false,
                    client: false,
                });
            }
        }
    }

    fn number_start_ok(&self, i: usize) -> bool {
        i == 0 || self.newline_before(i) || !matches!(self.toks[i - 1].kind, Kind::Number | Kind::Punct('.' | '-' | '/' | '€' | '$' | '£'))
    }

    fn is_street(&self, s: usize, num: usize) -> bool {
        let words: Vec<usize> = (s..num).filter(|&k| self.word(k)).collect();
        let Some(&last) = words.last() else { return false };
        let first = words[0];
        let ll = self.lex(last);
        if Lexicon::street_suffix(ll) && is_cap(self.text(first)) {
            return true;
        }
        // Laan van Meerdervoort, Rue de la Loi, Avenue Louise, Plein 1944
        let fl = self.lex(first);
        if words.len() >= 2
            && ["laan", "plein", "kade", "rue", "avenue", "boulevard", "dreef", "hof", "singel", "weg", "straat", "chaussée"].contains(&fl)
        {
            return true;
        }
        // Baker Street 12 is unusual but 'Hauptstraße 5' and 'Kerkstr. 4' are not
        if ll.ends_with("str") && self.punct(last + 1, '.') {
            return true;
        }
        words.len() >= 2 && self.has(last, STREET_WORD) && is_cap(self.text(last)) && !["dr", "st", "pl"].contains(&ll)
    }

    /// The token index after a house number with its addition: 12a, 12-II, 12 hs, 8 bis, 5 bus 3.
    fn house_number_end(&self, i: usize) -> usize {
        let mut e = i + 1;
        // 12a, 12A
        if self.word(e) && !self.toks[e].space && self.text(e).chars().count() <= 2 {
            e += 1;
        }
        // -II, -2, -hs, /3
        if (self.punct(e, '-') || self.punct(e, '/')) && !self.toks[e].space && e + 1 < self.toks.len() && !self.toks[e + 1].space {
            let t = self.toks[e + 1];
            let ok = t.kind == Kind::Number && t.end - t.start <= 3
                || t.kind == Kind::Word && {
                    let w = self.lex(e + 1);
                    ["i", "ii", "iii", "iv", "hs", "bis", "h", "a", "b", "c", "d", "bg", "huis", "boven", "rd", "zw", "1", "2", "3"]
                        .contains(&w)
                };
            if ok {
                e += 2;
            }
        }
        // 12 hs, 8 bis, 12 II, 12 a, bus 3
        if self.word(e) && !self.newline_before(e) {
            let w = self.lex(e);
            if ["hs", "bis", "huis", "bg", "i", "ii", "iii", "iv", "boven", "beneden", "rd", "zw", "hg"].contains(&w)
                || (w.chars().count() == 1 && self.text(e).chars().all(char::is_alphabetic) && !self.word(e + 1))
            {
                e += 1;
            } else if (w == "bus" || w == "box") && self.toks.get(e + 1).is_some_and(|t| t.kind == Kind::Number) {
                e += 2;
            }
        }
        e
    }

    // ------------------------------------------------------------ places

    pub(crate) fn cities(&self, found: &[Cand], out: &mut Vec<Cand>) {
        let n = self.toks.len();
        // after a postcode on the same line: 1234 AB Zwolle, 1234AB  'S-GRAVENHAGE
        for c in found.iter().filter(|c| c.label == Label::Postcode) {
            let Some(k) = self.tok_at(c.end) else { continue };
            if self.newline_before(k) {
                // 6411 HK\nHEERLEN: a line holding only the place
                if self.toks[k].newlines == 1
                    && let Some(e) = self.place_phrase(k)
                    && (e >= n || self.newline_before(e))
                {
                    self.push_city(out, k, e, 0.9, "context:after-postcode");
                }
                continue;
            }
            if let Some(e) = self.place_phrase(k) {
                self.push_city(out, k, e, 0.95, "context:after-postcode");
            }
            // Sheffield S3 8NQ: the place comes first in British addresses
        }
        for c in found.iter().filter(|c| c.label == Label::Postcode && c.reason == "rule:postcode-uk") {
            let Some(k) = self.tok_at(c.start) else { continue };
            if k == 0 || self.newline_before(k) {
                continue;
            }
            let mut s = k;
            while s > 0 && self.word(s - 1) && is_cap(self.text(s - 1)) && !self.newline_before(s) && k - s < 3 {
                s -= 1;
            }
            if s < k && (self.newline_before(s) || self.punct(s - 1, ',')) {
                self.push_city(out, s, k, 0.9, "context:before-postcode");
            }
        }
        // after an address on the same line (Kerkstraat 12, Zwolle) or the line below it (English blocks)
        for c in found.iter().filter(|c| c.label == Label::Address) {
            let Some(k) = self.tok_at(c.end) else { continue };
            let k2 = if self.punct(k, ',') && !self.newline_before(k) { k + 1 } else { k };
            if k2 < n
                && (k2 != k || self.newline_before(k))
                && let Some(e) = self.place_phrase(k2)
                && (self.has(k2, PLACE) && (e >= n || self.newline_before(e) || self.punct(e, ','))
                    || k2 != k
                        && (e >= n
                            || self.newline_before(e)
                            || self.punct(e, '(')
                            || self.punct(e, ',')
                                && found
                                    .iter()
                                    .any(|p| p.label == Label::Postcode && self.toks.get(e + 1).is_some_and(|t| t.start == p.start))))
            {
                self.push_city(out, k2, e, 0.85, "context:address-line");
            }
        }
        // after a residence or birth word: wonend te Zwolle, geboren in Paramaribo, lives in Leeds
        for i in 0..n {
            if !self.word(i) {
                continue;
            }
            if self.has(i, RESID_KEY) && self.punct(i + 1, ':') {
                if let Some(e) = self.place_phrase(i + 2) {
                    self.push_city(out, i + 2, e, 0.9, "context:residence");
                }
                continue;
            }
            if !self.has(i, RESID) {
                continue;
            }
            // within the next few words: te / in / uit / naar / to / at / from, then the place
            let mut j = i + 1;
            while j < n && j <= i + 7 && !self.punct(j, '.') && !self.newline_before(j) {
                if self.word(j)
                    && ["te", "in", "uit", "naar", "to", "at", "from", "vanuit"].contains(&self.lex(j))
                    && let Some(e) = self.place_phrase(j + 1)
                {
                    let conf = if self.has(j + 1, PLACE) { 0.9 } else { 0.75 };
                    self.push_city(out, j + 1, e, conf, "context:residence");
                    break;
                }
                j += 1;
            }
        }
    }

    /// Speakers in a chat export or transcript: the name before the colon at the start of a line
    /// ("Sanne: ok", "[09:12] jan: ik bel", "12-03-2024 09:12 - Mama Noor: top"), taken when
    /// the same name speaks on at least two lines.
    pub(crate) fn speakers(&self, out: &mut Vec<Cand>) {
        use std::collections::HashMap;
        let n = self.toks.len();
        let mut found: Vec<(usize, usize, String)> = Vec::new();
        let mut count: HashMap<String, usize> = HashMap::new();
        let mut i = 0;
        while i < n {
            if !self.newline_before(i) && i != 0 {
                i += 1;
                continue;
            }
            // skip a time stamp or date: digits and their punctuation, brackets, a dash
            let mut k = i;
            while k < n
                && !self.newline_before(k + 1)
                && matches!(self.toks[k].kind, Kind::Number | Kind::Punct('[' | ']' | ':' | '-' | '/' | ',' | '.' | '(' | ')' | '–'))
            {
                k += 1;
            }
            if k > i && self.word(k) && (self.text(k).eq_ignore_ascii_case("am") || self.text(k).eq_ignore_ascii_case("pm")) {
                k += 1;
                while k < n && matches!(self.toks[k].kind, Kind::Punct(']' | '-' | '–')) {
                    k += 1;
                }
            }
            // 1 to 4 words, then a colon and more text on the line
            let s = k;
            let mut e = k;
            while e < n && e - s < 4 && self.word(e) && (e == s || !self.newline_before(e)) {
                e += 1;
            }
            if e > s && self.punct(e, ':') && e + 1 < n && !self.newline_before(e + 1) {
                let name: String = (s..e).map(|x| self.lex(x)).collect::<Vec<_>>().join(" ");
                let bad = (s..e).any(|x| self.flags[x] & (STOP | ORG | TITLE | GREETING) != 0 && self.flags[x] & (FIRST | SURNAME) == 0)
                    || KEYS.contains(&name.as_str())
                    || RESIDENCE_KEYS.contains(&name.as_str())
                    || (s..e).all(|x| self.flags[x] & WORD != 0 && self.flags[x] & (FIRST | SURNAME | CHAT_NAME) == 0);
                if !bad {
                    *count.entry(name.clone()).or_default() += 1;
                    found.push((s, e, name));
                }
            }
            i = k.max(i + 1);
        }
        for (s, e, name) in found {
            if count[&name] >= 2 {
                let (a, b) = self.span(s, e);
                out.push(Cand {
                    start: a,
                    end: b,
                    label: Label::Person,
                    conf: 0.8,
                    reason: "context:chat-speaker",
                    flag: false,
                    client: false,
                });
            }
        }
    }

    /// A known place after "in"/"te"/"uit" in a sentence that talks about living somewhere:
    /// "dat je sinds maart in Hattem woont", "hij kan terecht bij een vriend in Nieuwegein".
    pub(crate) fn residence_places(&self, out: &mut Vec<Cand>) {
        const NEAR: &[&str] = &[
            "woont",
            "wonen",
            "woonachtig",
            "wonend",
            "woonde",
            "verhuisd",
            "verhuist",
            "verhuizen",
            "adres",
            "address",
            "ingeschreven",
            "terecht",
            "logeert",
            "logeren",
            "lives",
            "living",
            "moved",
            "staying",
            "registered",
            "inwonend",
            "opgegroeid",
        ];
        let n = self.toks.len();
        for k in 1..n {
            if !self.has(k, PLACE) || !is_cap(self.text(k)) || self.has(k, FIRST | SURNAME) && !self.has(k, PLACE) {
                continue;
            }
            if !(self.word(k - 1) && ["in", "te", "uit", "naar", "to", "from"].contains(&self.lex(k - 1))) {
                continue;
            }
            // the sentence around it
            let mut a = k;
            while a > 0 && k - a < 12 && !self.punct(a - 1, '.') && !self.newline_before(a) {
                a -= 1;
            }
            let mut b = k + 1;
            while b < n && b - k < 8 && !self.punct(b, '.') && !self.newline_before(b) {
                b += 1;
            }
            if (a..b).any(|x| self.word(x) && NEAR.contains(&self.lex(x)))
                && let Some(e) = self.place_phrase(k)
            {
                self.push_city(out, k, e, 0.8, "context:residence");
            }
        }
    }

    /// Capitalised words that can be a place: Zwolle, Den Haag, Alphen aan den Rijn, 's-Hertogenbosch.
    fn place_phrase(&self, k: usize) -> Option<usize> {
        let n = self.toks.len();
        if k >= n {
            return None;
        }
        let mut j = k;
        // 's-Hertogenbosch, 's Gravenhage
        if self.word(j) && self.text(j).starts_with('\'') {
            j += 1;
            if self.punct(j, '-') {
                j += 1;
            }
        }
        let mut words = 0;
        while j < n && words < 5 {
            if j > k && self.newline_before(j) {
                break;
            }
            if self.word(j) && is_cap(self.text(j)) && self.flags[j] & (STOP | ORG | TITLE) == 0 {
                j += 1;
                words += 1;
                continue;
            }
            // aan den, op, bij, in: only inside a name
            if words > 0 && self.word(j) && ["aan", "den", "de", "op", "bij", "in", "ter", "sur", "am", "upon", "on"].contains(&self.lex(j))
            {
                let mut m = j;
                while self.word(m) && !is_cap(self.text(m)) && m - j < 2 {
                    m += 1;
                }
                if self.word(m) && is_cap(self.text(m)) && !self.newline_before(m) {
                    j = m;
                    continue;
                }
            }
            if words > 0 && self.punct(j, '-') && !self.toks[j].space && self.word(j + 1) && is_cap(self.text(j + 1)) {
                j += 1;
                continue;
            }
            break;
        }
        (words > 0).then_some(j)
    }

    fn push_city(&self, out: &mut Vec<Cand>, from: usize, to: usize, conf: f32, reason: &'static str) {
        let (s, e) = self.span(from, to);
        out.push(Cand { start: s, end: e, label: Label::City, conf, reason, flag: false, client: false });
    }

    /// Every further mention of the people and places found: surname alone, all caps, lower case
    /// in a chat, a possessive.
    pub(crate) fn mentions(&self, found: &[Cand], mapping: &crate::Mapping, out: &mut Vec<Cand>) {
        use std::collections::HashMap;
        let mut pieces: HashMap<String, Label> = HashMap::new();
        for (w, label) in mapping.known().filter(|k| k.1 == Label::Person) {
            if w.chars().count() >= 3 {
                pieces.insert(w.to_string(), label);
            }
        }
        for c in found.iter().filter(|c| c.label == Label::Person) {
            let from = self.tok_at(c.start).unwrap_or(self.toks.len());
            for k in from..self.toks.len() {
                let t = self.toks[k];
                if t.start >= c.end {
                    break;
                }
                if t.end > c.end || t.kind != Kind::Word {
                    continue;
                }
                let w = self.text(k);
                if w.chars().count() < 3 || self.flags[k] & (PARTICLE | STOP | TITLE) != 0 {
                    continue;
                }
                pieces.entry(strip_possessive(&lower(w))).or_insert(c.label);
            }
        }
        if pieces.is_empty() {
            return;
        }
        // `found` is sorted by start and does not overlap
        let covered = |s: usize, e: usize| {
            let k = found.partition_point(|c| c.end <= s);
            found.get(k).is_some_and(|c| c.start < e)
        };
        for (k, t) in self.toks.iter().enumerate() {
            if t.kind != Kind::Word || covered(t.start, t.end) {
                continue;
            }
            let w = self.text(k);
            let lw = self.lex(k);
            let key = strip_possessive_str(lw);
            let plain_s = key.strip_suffix('s').filter(|b| b.chars().count() >= 3).unwrap_or("");
            let Some(&label) = pieces.get(key).or_else(|| pieces.get(lw)).or_else(|| pieces.get(plain_s)) else { continue };
            let cap = is_cap(w);
            if !cap && (self.flags[k] & WORD != 0 || label == Label::City) {
                continue;
            }
            // take the particles in front along: "mevrouw De Vries" → "De Vries"
            // "Van 't Hofs": particles in front, the first of them capitalised
            let mut s = k;
            let mut p = k;
            while p > 0
                && k - p < 3
                && self.word(p - 1)
                && self.flags[p - 1] & PARTICLE != 0
                && !self.newline_before(p)
                && label == Label::Person
            {
                p -= 1;
                if is_cap(self.text(p)) || is_all_caps(w) {
                    s = p;
                }
            }
            let (bs, be) = (self.toks[s].start, t.end);
            out.push(Cand { start: bs, end: be, label, conf: 0.85, reason: "context:same-mention", flag: false, client: false });
        }
    }
}

fn found_postcode_at(postcodes: &[usize], at: usize) -> bool {
    postcodes.binary_search(&at).is_ok()
}

pub(crate) fn strip_possessive(w: &str) -> String {
    strip_possessive_str(w).to_string()
}

pub(crate) fn strip_possessive_str(w: &str) -> &str {
    for suf in ["'s", "’s", "'", "’"] {
        if let Some(b) = w.strip_suffix(suf) {
            return b;
        }
    }
    w
}
