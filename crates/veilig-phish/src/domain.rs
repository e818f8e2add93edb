//! Domain names: the registrable part (public suffix list), the Unicode form of punycode, and
//! whether one name imitates another (UTS #39 confusable skeletons, small edit distances,
//! hyphens added, a brand name worn as a subdomain).

use unicode_security::{MixedScript, skeleton};

/// A host name in its forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Lower-case ASCII (punycode) form.
    pub ascii: String,
    /// The registrable domain, e.g. `example.co.uk` for `www.example.co.uk`.
    pub registrable: String,
    /// The registrable domain without its public suffix: `example`.
    pub label: String,
    /// The labels in front of the registrable domain, e.g. `["www"]`.
    pub sub: Vec<String>,
    /// `label` in Unicode, its confusable skeleton and its letters without hyphens.
    ulabel: String,
    skel: String,
    compact: String,
    /// Every label split at dots and hyphens, for quick "does this name appear" checks.
    pub tokens: Vec<String>,
}

impl Host {
    /// Reads a host name; `None` when it is empty, an IP literal or not a name.
    pub fn parse(name: &str) -> Option<Host> {
        let trimmed = name.trim().trim_end_matches('.');
        if trimmed.is_empty() || trimmed.len() > 253 || trimmed.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let (ascii, _) = idna_ascii(trimmed)?;
        if !ascii.contains('.') || ascii.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return None;
        }
        let registrable = psl::domain_str(&ascii).unwrap_or(&ascii).to_string();
        let suffix = psl::suffix_str(&registrable).unwrap_or("");
        let label = registrable.strip_suffix(suffix).unwrap_or(&registrable).trim_end_matches('.').to_string();
        let sub = ascii
            .strip_suffix(registrable.as_str())
            .unwrap_or("")
            .trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let ulabel = unicode(&label);
        let skel = skeleton_lower(&ulabel);
        let compact = ulabel.replace('-', "");
        let tokens = ascii.split(['.', '-']).filter(|t| !t.is_empty()).map(str::to_string).collect();
        Some(Host { ascii, registrable, label, sub, ulabel, skel, compact, tokens })
    }

    /// True when this host is `domain` or lies under it.
    pub fn within(&self, domain: &str) -> bool {
        self.ascii == domain || self.ascii.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
    }

    /// True when a label is punycode whose Unicode form mixes scripts or imitates Latin letters.
    pub fn deceptive_punycode(&self) -> bool {
        self.ascii.split('.').filter(|l| l.starts_with("xn--")).any(|l| {
            let u = unicode(l);
            // A label in one non-Latin script (a real Greek or Cyrillic name) is not deceptive in
            // itself; one that mixes scripts, or whose skeleton is plain ASCII, is.
            !u.is_single_script() || is_ascii_skeleton(&u)
        })
    }

    /// True when any label is punycode.
    pub fn has_punycode(&self) -> bool {
        self.ascii.split('.').any(|l| l.starts_with("xn--"))
    }

    /// The host in Unicode, for showing to people next to its ASCII form.
    pub fn display(&self) -> String {
        if self.has_punycode() { format!("{} ({})", unicode(&self.ascii), self.ascii) } else { self.ascii.clone() }
    }
}

fn idna_ascii(name: &str) -> Option<(String, bool)> {
    let lower = name.to_lowercase();
    if lower.is_ascii() {
        let ok = lower.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        return ok.then_some((lower, false));
    }
    idna::domain_to_ascii(&lower).ok().map(|a| (a, true))
}

fn unicode(ascii: &str) -> String {
    idna::domain_to_unicode(ascii).0
}

fn is_ascii_skeleton(s: &str) -> bool {
    !s.is_ascii() && skeleton(s).all(|c| c.is_ascii())
}

/// The confusable skeleton in lower case: `rnicrosoft` and `microsoft` share one.
pub fn skeleton_lower(s: &str) -> String {
    skeleton(s).flat_map(char::to_lowercase).collect()
}

/// Optimal string alignment distance (Levenshtein with adjacent swaps), giving up above `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut prev2 = vec![0usize; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut cur = vec![0usize; width];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// A domain that others may imitate: one of the organisation's own, or a brand's.
#[derive(Debug, Clone)]
pub struct Target {
    /// The registrable domain, e.g. `zorggroephorizon.nl`.
    pub domain: String,
    /// Its label without suffix: `zorggroephorizon`.
    pub label: String,
    skeleton: String,
    compact: String,
}

impl Target {
    pub fn new(domain: &str) -> Option<Target> {
        let host = Host::parse(domain)?;
        let label = host.label.clone();
        Some(Target { domain: host.registrable, skeleton: skeleton_lower(&label), compact: label.replace('-', ""), label })
    }

    /// How `host` imitates this domain, if it does; `None` for the domain itself.
    pub fn imitated_by(&self, host: &Host) -> Option<Imitation> {
        if host.registrable == self.domain {
            return None;
        }
        let label = &host.ulabel;
        if *label == self.label {
            return Some(Imitation::OtherSuffix);
        }
        if host.skel == self.skeleton {
            return Some(Imitation::Confusable);
        }
        if host.compact == self.compact {
            return Some(Imitation::Hyphenated);
        }
        // Short names differ from real names by one letter too often to call that an imitation
        // (lindows / windows, heanet / hetnet); their look-alike letters are caught above.
        let allowed = match self.label.chars().count() {
            0..=7 => 0,
            8..=11 => 1,
            _ => 2,
        };
        if allowed > 0 && label.is_ascii() && edit_distance(label, &self.label, allowed).is_some() {
            return Some(Imitation::Typo);
        }
        None
    }
}

/// The way a domain imitates another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imitation {
    /// Same name under another suffix (`zorggroephorizon.com`).
    OtherSuffix,
    /// Letters that look alike (`rn` for `m`, Cyrillic `а` for `a`, `0` for `o`).
    Confusable,
    /// Hyphens added (`zorggroep-horizon.nl`).
    Hyphenated,
    /// One or two letters changed, added, dropped or swapped.
    Typo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_and_sub() {
        let h = Host::parse("Login.Microsoftonline.com.verify-account.co.uk").unwrap();
        assert_eq!(h.registrable, "verify-account.co.uk");
        assert_eq!(h.label, "verify-account");
        assert_eq!(h.sub, vec!["login", "microsoftonline", "com"]);
        assert!(Host::parse("185.23.11.7").is_none());
        assert!(Host::parse("localhost").is_none());
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("zorggroephoriz0n", "zorggroephorizon", 2), Some(1));
        assert_eq!(edit_distance("rabobnak", "rabobank", 1), Some(1));
        assert_eq!(edit_distance("abc", "xyz", 1), None);
    }
}
