//! The shipped brand list (`data/brands.toml`) and the other small lists of facts the engine
//! knows: free mail providers and URL shorteners.

use serde::Deserialize;

use crate::Error;
use crate::domain::{Host, Imitation, Target, skeleton_lower};

const BRANDS: &str = include_str!("../data/brands.toml");

/// Free mail providers: an address there can belong to anyone.
pub const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.nl",
    "live.com",
    "live.nl",
    "msn.com",
    "yahoo.com",
    "yahoo.nl",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "mail.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "ziggo.nl",
    "kpnmail.nl",
    "planet.nl",
    "hetnet.nl",
    "home.nl",
    "xs4all.nl",
    "telfort.nl",
    "online.nl",
    "chello.nl",
    "quicknet.nl",
    "upcmail.nl",
    "caiway.nl",
    "kpnplanet.nl",
    "telenet.be",
    "skynet.be",
];

/// URL shorteners: the link hides where it leads.
pub const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "t.co",
    "is.gd",
    "v.gd",
    "rb.gy",
    "goo.gl",
    "ow.ly",
    "buff.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "rebrand.ly",
    "s.id",
    "t.ly",
    "bl.ink",
    "short.io",
    "tiny.one",
    "shorturl.com",
    "clck.ru",
    "qrco.de",
    "linktr.ee",
    "surl.li",
    "urlz.fr",
    "1url.cz",
    "u.to",
    "shorturl.gg",
    "gg.gg",
    "x.co",
];

/// Free hosting and page-building services where anyone can put up a page in a minute (and
/// phishers do, to borrow the service's good name).
pub const FREE_HOSTING: &[&str] = &[
    "pages.dev",
    "workers.dev",
    "r2.dev",
    "webflow.io",
    "netlify.app",
    "vercel.app",
    "glitch.me",
    "firebaseapp.com",
    "web.app",
    "firebasestorage.googleapis.com",
    "storage.googleapis.com",
    "blob.core.windows.net",
    "web.core.windows.net",
    "azurewebsites.net",
    "herokuapp.com",
    "onrender.com",
    "repl.co",
    "replit.app",
    "surge.sh",
    "000webhostapp.com",
    "weebly.com",
    "wixsite.com",
    "square.site",
    "godaddysites.com",
    "framer.app",
    "ipfs.io",
    "dweb.link",
    "cloudflare-ipfs.com",
    "fleek.co",
    "s3.amazonaws.com",
    "amplifyapp.com",
    "ngrok-free.app",
    "ngrok.io",
    "trycloudflare.com",
    "sites.google.com",
    "forms.gle",
    "docs.google.com/forms",
    "jotform.com",
    "typedream.app",
    "notion.site",
    "canva.site",
    "blogspot.com",
    "github.io",
];

/// True when `host` (with `path`) is on a free hosting service.
pub fn free_hosting(host: &Host, path: &str) -> Option<&'static str> {
    FREE_HOSTING.iter().copied().find(|f| match f.split_once('/') {
        Some((h, p)) => host.within(h) && path.trim_start_matches('/').starts_with(p),
        None => host.within(f),
    })
}

/// True when `host` is a free mail provider's own (`user@ziggo.nl`, not `news@mail.ziggo.nl`,
/// which is the company writing).
pub fn is_freemail(host: &Host) -> bool {
    host.sub.is_empty() && FREEMAIL.contains(&host.registrable.as_str())
}

/// True when `host` is a URL shortener's.
pub fn is_shortener(host: &Host) -> bool {
    SHORTENERS.iter().any(|s| host.within(s))
}

#[derive(Deserialize)]
struct File {
    brand: Vec<BrandEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BrandEntry {
    name: String,
    aliases: Vec<String>,
    domains: Vec<String>,
    tokens: Vec<String>,
}

/// A brand that phishing imitates.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    aliases: Vec<Vec<String>>,
    pub domains: Vec<String>,
    targets: Vec<Target>,
    tokens: Vec<String>,
    /// The confusable skeletons of the longer tokens (`rnicrosoft` wears `microsoft`).
    token_skeletons: Vec<String>,
}

impl Brand {
    /// True when `host` belongs to the brand.
    pub fn owns(&self, host: &Host) -> bool {
        self.domains.iter().any(|d| host.within(d))
    }

    /// True when the display name uses one of the brand's names as whole words.
    pub fn named_in(&self, words: &[String], original: &[&str]) -> bool {
        self.aliases.iter().any(|alias| {
            alias.len() <= words.len()
                && (0..=words.len() - alias.len()).any(|start| {
                    alias.iter().enumerate().all(|(k, w)| {
                        let (word, orig) = (&words[start + k], original[start + k]);
                        // Short names (ING, NS, AH) only in capitals, so "ing." or "ns" in a
                        // sentence is no match.
                        word == w && (w.chars().count() > 3 || orig.chars().all(|c| !c.is_lowercase()))
                    })
                })
        })
    }

    /// How `host` wears this brand without belonging to it, if it does.
    pub fn worn_by(&self, host: &Host) -> Option<Wearing> {
        if self.owns(host) {
            return None;
        }
        // The same name under another suffix is only an imitation for longer names: `zoom.nl`
        // or `ing.org` may well be someone else's.
        if self.targets.iter().any(|t| t.imitated_by(host).is_some_and(|i| i != Imitation::OtherSuffix || t.label.len() >= 6)) {
            return Some(Wearing::Lookalike);
        }
        let wears = |l: &str| self.tokens.iter().any(|t| t == l) || (l.len() >= 5 && self.token_skeletons.contains(&skeleton_lower(l)));
        let in_sub = host.sub.iter().flat_map(|l| l.split('-')).any(wears) || host.sub.iter().any(|l| wears(l));
        // A brand's whole domain inside a longer host: `login.microsoftonline.com.evil.example`.
        let domain_inside = self.domains.iter().any(|d| {
            // Cheap first: the domain's first label must be one of the host's.
            let first = d.split('.').next().unwrap_or("");
            host.tokens.iter().any(|t| t == first)
                && host.ascii.match_indices(d.as_str()).any(|(i, _)| {
                    let before_ok = i == 0 || host.ascii.as_bytes().get(i - 1) == Some(&b'.');
                    let after = host.ascii.as_bytes().get(i + d.len());
                    before_ok && matches!(after, Some(b'.') | Some(b'-'))
                })
        });
        let in_label = host.label.contains('-') && host.label.split('-').any(wears);
        (in_sub || domain_inside || in_label).then_some(Wearing::InHost)
    }
}

/// How a host wears a brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wearing {
    /// The registrable domain imitates one of the brand's (typo, confusable letters).
    Lookalike,
    /// The brand's name or domain is a part of someone else's host name.
    InHost,
}

/// The shipped brands.
#[derive(Debug, Clone)]
pub struct Brands {
    pub list: Vec<Brand>,
}

impl Brands {
    pub fn shipped() -> Result<Brands, Error> {
        let file: File = toml::from_str(BRANDS).map_err(|e| Error::Data(format!("brands.toml: {e}")))?;
        let list = file
            .brand
            .into_iter()
            .map(|b| Brand {
                targets: b.domains.iter().filter_map(|d| Target::new(d)).collect(),
                aliases: b.aliases.iter().map(|a| words(a)).filter(|w| !w.is_empty()).collect(),
                name: b.name,
                domains: b.domains,
                token_skeletons: b.tokens.iter().filter(|t| t.len() >= 5).map(|t| skeleton_lower(t)).collect(),
                tokens: b.tokens,
            })
            .collect();
        Ok(Brands { list })
    }

    /// The brand that owns `host`, if one does.
    pub fn owner(&self, host: &Host) -> Option<&Brand> {
        self.list.iter().find(|b| b.owns(host))
    }
}

/// A display name as lower-case words (letters and digits; `bol.com` stays one word).
pub fn words(s: &str) -> Vec<String> {
    split_words(s).into_iter().map(str::to_lowercase).collect()
}

/// The words of `s` as they are written.
pub fn split_words(s: &str) -> Vec<&str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '&')).map(|w| w.trim_matches('.')).filter(|w| !w.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_reads_and_every_domain_parses() {
        let brands = Brands::shipped().unwrap();
        assert!(brands.list.len() >= 50);
        for b in &brands.list {
            assert_eq!(b.targets.len(), b.domains.len(), "{}", b.name);
        }
    }

    #[test]
    fn short_aliases_need_capitals() {
        let brands = Brands::shipped().unwrap();
        let ing = brands.list.iter().find(|b| b.name == "ING").unwrap();
        let check = |s: &str| ing.named_in(&words(s), &split_words(s));
        assert!(check("ING Bank"));
        assert!(check("Klantenservice ING"));
        assert!(!check("ing. J. de Vries"));
        assert!(!check("Marketing team"));
    }
}
