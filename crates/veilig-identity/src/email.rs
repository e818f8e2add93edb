//! E-mail addresses, parsed once: trimmed, NFKC-normalised and lower-cased, so that `Jan@X.nl`,
//! a full-width `Ｊａｎ@x.nl` and `jan@x.nl` are the same account. Invisible and control
//! characters, which make two different-looking strings compare equal to the eye, are refused.

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, String> {
        if input.len() > 512 {
            return Err("the e-mail address is too long".to_owned());
        }
        let normal: String = input.trim().nfkc().collect::<String>().to_lowercase();
        if normal.is_empty() {
            return Err("the e-mail address is empty".to_owned());
        }
        if normal.chars().count() > 254 {
            return Err("the e-mail address is too long".to_owned());
        }
        if normal.chars().any(|c| c.is_control() || c.is_whitespace() || is_invisible(c)) {
            return Err("the e-mail address contains spaces or invisible characters".to_owned());
        }
        let Some((local, domain)) = normal.rsplit_once('@') else {
            return Err("the e-mail address needs an @".to_owned());
        };
        if local.is_empty() || local.chars().count() > 64 || local.contains('@') {
            return Err("the part before the @ is not valid".to_owned());
        }
        if local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local.contains(['"', '(', ')', '<', '>', ',', ';', ':', '[', ']', '\\'])
        {
            return Err("the part before the @ is not valid".to_owned());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err("the domain after the @ is not valid".to_owned());
        }
        Ok(Email(normal))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Format characters (zero-width joiners, direction marks, soft hyphens and the like).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    ) || ('\u{200B}'..='\u{200F}').contains(&c)
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2060}'..='\u{206F}').contains(&c)
        || ('\u{FE00}'..='\u{FE0F}').contains(&c)
        || ('\u{E0000}'..='\u{E007F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_checked() {
        let cases = [
            "Jan.Jansen@Gemeente.NL",
            "  piet@example.nl ",
            "ｊａｎ@example.nl",
            "KELVIN\u{212A}@example.nl",
            "jan\u{200B}@example.nl",
            "jan @example.nl",
            "jan@localhost",
            "@example.nl",
            "jan@@example.nl",
            "jan..x@example.nl",
            "jan@-bad.nl",
            "jan@exa_mple.nl",
            "marie-claire@bücher.de",
            "a\u{202E}lin@example.nl",
            "",
        ];
        let out: Vec<String> = cases
            .iter()
            .map(|c| match Email::parse(c) {
                Ok(e) => format!("{c:?} -> {e}"),
                Err(why) => format!("{c:?} !! {why}"),
            })
            .collect();
        expect_test::expect![[r#"
            "Jan.Jansen@Gemeente.NL" -> jan.jansen@gemeente.nl
            "  piet@example.nl " -> piet@example.nl
            "ｊａｎ@example.nl" -> jan@example.nl
            "KELVINK@example.nl" -> kelvink@example.nl
            "jan\u{200b}@example.nl" !! the e-mail address contains spaces or invisible characters
            "jan @example.nl" !! the e-mail address contains spaces or invisible characters
            "jan@localhost" !! the domain after the @ is not valid
            "@example.nl" !! the part before the @ is not valid
            "jan@@example.nl" !! the part before the @ is not valid
            "jan..x@example.nl" !! the part before the @ is not valid
            "jan@-bad.nl" !! the domain after the @ is not valid
            "jan@exa_mple.nl" !! the domain after the @ is not valid
            "marie-claire@bücher.de" -> marie-claire@bücher.de
            "a\u{202e}lin@example.nl" !! the e-mail address contains spaces or invisible characters
            "" !! the e-mail address is empty"#]]
        .assert_eq(&out.join("\n"));
    }
}
