//! Every string of the interface in Dutch and English. The texts live in `i18n/nl.toml` and
//! `i18n/en.toml`, compiled into the binary; a test checks that both have the same keys and
//! that every key the templates use exists.

use std::collections::HashMap;
use std::sync::OnceLock;

use veilig_core::Lang;

const NL: &str = include_str!("../i18n/nl.toml");
const EN: &str = include_str!("../i18n/en.toml");

/// The texts of one language, by dotted key (`home.title`).
#[derive(Debug, Default)]
pub struct Catalog {
    texts: HashMap<String, String>,
}

impl Catalog {
    /// Parses a catalogue file. Nested tables become dotted keys.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().to_owned())?;
        let mut texts = HashMap::new();
        flatten("", &table, &mut texts)?;
        Ok(Catalog { texts })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.texts.get(key).map(String::as_str)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("{key}: expected text")),
        }
    }
    Ok(())
}

/// The catalogue of `lang`, parsed once.
pub fn catalog(lang: Lang) -> &'static Catalog {
    static CATALOGS: OnceLock<[Catalog; 2]> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| {
        let parse = |text: &str, name: &str| {
            Catalog::parse(text).unwrap_or_else(|e| {
                tracing::error!(catalog = name, error = %e, "interface texts could not be read");
                Catalog::default()
            })
        };
        [parse(NL, "nl"), parse(EN, "en")]
    });
    match lang {
        Lang::Nl => &all[0],
        Lang::En => &all[1],
    }
}

/// What templates use to look up texts: `{{ t.t("home.title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub lang: Lang,
}

impl Texts {
    pub fn new(lang: Lang) -> Self {
        Texts { lang }
    }

    /// The text for `key`; the key itself when missing, so a gap shows rather than breaks.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        catalog(self.lang).get(key).unwrap_or(key)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let nl: BTreeSet<_> = Catalog::parse(NL).unwrap().keys().map(str::to_owned).collect();
        let en: BTreeSet<_> = Catalog::parse(EN).unwrap().keys().map(str::to_owned).collect();
        let only_nl: Vec<_> = nl.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&nl).collect();
        assert!(only_nl.is_empty() && only_en.is_empty(), "only in nl: {only_nl:?}; only in en: {only_en:?}");
        assert!(nl.len() > 20);
    }

    #[test]
    fn every_key_in_templates_and_code_exists() {
        let nl = Catalog::parse(NL).unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        for dir in ["templates", "src", "src/views"] {
            for entry in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("t(\"").skip(1) {
                    let key = piece.split('"').next().unwrap();
                    if key.contains('.') && !key.contains(' ') && nl.get(key).is_none() {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys without a text: {missing:#?}");
    }
}
