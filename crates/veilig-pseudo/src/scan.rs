//! Splits text into words, numbers and punctuation with their byte offsets, in one pass.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Number,
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// Newlines between the previous token and this one.
    pub newlines: u8,
    /// Whitespace between the previous token and this one.
    pub space: bool,
}

impl Token {
    pub(crate) fn text<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start..self.end]
    }
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic() || ('\u{300}'..='\u{36f}').contains(&c)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut newlines: u8 = 0;
    let mut space = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if b == b'\n' {
                newlines = newlines.saturating_add(1);
                space = true;
                i += 1;
                continue;
            }
            if b.is_ascii_whitespace() {
                space = true;
                i += 1;
                continue;
            }
            if b.is_ascii_digit() {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(Token { start, end: i, kind: Kind::Number, newlines, space });
                newlines = 0;
                space = false;
                continue;
            }
        }
        let Some(c) = text[i..].chars().next() else { break };
        let clen = c.len_utf8();
        if c.is_whitespace() {
            space = true;
            i += clen;
            continue;
        }
        // 't and 's as words of their own ("van 't Hof", "'s-Hertogenbosch")
        let starts_word = is_letter(c)
            || (is_apostrophe(c) && {
                let rest = &text[i + clen..];
                let mut it = rest.chars();
                matches!(it.next(), Some('t' | 's' | 'T' | 'S')) && !it.next().is_some_and(is_letter)
            });
        if starts_word {
            let start = i;
            i += clen;
            while i < bytes.len() {
                let Some(c) = text[i..].chars().next() else { break };
                if is_letter(c) {
                    i += c.len_utf8();
                } else if is_apostrophe(c)
                    && text[i + c.len_utf8()..].chars().next().is_some_and(is_letter)
                    && text[start..i].chars().any(is_letter)
                {
                    // O'Brien, Jansen's; not a closing quote
                    i += c.len_utf8();
                } else {
                    break;
                }
            }
            out.push(Token { start, end: i, kind: Kind::Word, newlines, space });
        } else {
            out.push(Token { start: i, end: i + clen, kind: Kind::Punct(c), newlines, space });
            i += clen;
        }
        newlines = 0;
        space = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_and_apostrophes() {
        let t = "Mw. van 't Hof-O'Brien woont op Kerkstraat 12a.";
        let toks: Vec<&str> = tokens(t).iter().map(|k| k.text(t)).collect();
        assert_eq!(toks, ["Mw", ".", "van", "'t", "Hof", "-", "O'Brien", "woont", "op", "Kerkstraat", "12", "a", "."]);
    }
}
