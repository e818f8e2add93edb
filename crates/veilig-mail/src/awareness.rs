//! Awareness messages: the shipped templates (`awareness/templates.toml`, Dutch and English)
//! and the delivery of a stored message to its recipients by mail, each in their language,
//! with a link to the message in the portal (opening it there is what counts as read; there are
//! no tracking pixels).

use serde::Deserialize;
use veilig_core::{Lang, SharedClock};
use veilig_store::Store;

use crate::Mailer;

const TEMPLATES: &str = include_str!("../awareness/templates.toml");

/// A shipped message to start from.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub key: String,
    pub title_nl: String,
    pub body_nl: String,
    pub title_en: String,
    pub body_en: String,
}

#[derive(Deserialize)]
struct File {
    template: Vec<Template>,
}

/// The shipped templates, with `{report}` and `{organisation}` filled in.
pub fn templates(report_address: &str, organisation: &str) -> Vec<Template> {
    let fill = |s: &str| s.trim().replace("{report}", report_address).replace("{organisation}", organisation);
    match toml::from_str::<File>(TEMPLATES) {
        Ok(f) => f
            .template
            .into_iter()
            .map(|t| Template {
                title_nl: fill(&t.title_nl),
                body_nl: fill(&t.body_nl),
                title_en: fill(&t.title_en),
                body_en: fill(&t.body_en),
                key: t.key,
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "the shipped awareness templates do not parse");
            Vec::new()
        }
    }
}

/// Mails a stored message to every recipient not mailed yet, in their language; records each
/// outcome. Returns (sent, failed).
pub async fn deliver(
    store: &Store,
    mailer: &Mailer,
    clock: &SharedClock,
    id: &str,
    default_lang: Lang,
    public_url: &str,
) -> (usize, usize) {
    let (Ok(Some(m)), Ok(recipients)) = (store.awareness_get(id).await, store.awareness_recipients(id).await) else {
        tracing::warn!(message = id, "awareness message to deliver not found");
        return (0, 0);
    };
    let link = format!("{}/awareness/{id}", public_url.trim_end_matches('/'));
    let (mut sent, mut failed) = (0, 0);
    for r in recipients.iter().filter(|r| r.mailed_ms.is_none()) {
        let lang = r.language.as_deref().and_then(Lang::parse).unwrap_or(default_lang);
        let (title, body, more) = match lang {
            Lang::Nl => (&m.title_nl, &m.body_nl, "Lees dit bericht ook in het portaal:"),
            Lang::En => (&m.title_en, &m.body_en, "Read this message in the portal too:"),
        };
        let text = format!("{body}\n\n{more} {link}\n");
        let result = mailer.send(&r.email, title, &text).await;
        let error = result.as_ref().err().map(|e| e.to_string());
        if error.is_some() {
            failed += 1
        } else {
            sent += 1
        }
        if let Err(e) = store.awareness_mailed(id, &r.user_id, clock.now_ms(), error.as_deref()).await {
            tracing::warn!(error = %e, "could not record an awareness mail");
        }
    }
    (sent, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_parse_and_fill_in() {
        let t = templates("meldpunt@gemeente.nl", "Gemeente Oost");
        assert!(t.len() >= 5);
        for x in &t {
            for text in [&x.title_nl, &x.body_nl, &x.title_en, &x.body_en] {
                assert!(!text.is_empty() && !text.contains('{'), "{}: {text}", x.key);
            }
        }
        assert!(t.iter().any(|x| x.body_nl.contains("meldpunt@gemeente.nl")));
        assert!(t.iter().any(|x| x.body_en.contains("Gemeente Oost")));
    }
}
