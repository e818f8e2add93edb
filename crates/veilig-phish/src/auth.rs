//! Sender authentication as the receiving server recorded it: `Authentication-Results`
//! (RFC 8601) and, where that is missing, `Received-SPF` (RFC 7208).

/// The outcome of one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    None,
    Other,
}

impl Outcome {
    fn parse(s: &str) -> Outcome {
        match s.to_ascii_lowercase().as_str() {
            "pass" => Outcome::Pass,
            "fail" | "hardfail" => Outcome::Fail,
            "softfail" => Outcome::SoftFail,
            "neutral" => Outcome::Neutral,
            "none" => Outcome::None,
            _ => Outcome::Other,
        }
    }
}

/// What one `Authentication-Results` header (or `Received-SPF`) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    /// The server that wrote the results.
    pub authserv_id: String,
    /// SPF and the envelope sender's domain it checked.
    pub spf: Option<(Outcome, String)>,
    /// Every DKIM signature's outcome and its `d=` domain.
    pub dkim: Vec<(Outcome, String)>,
    /// DMARC and the From domain it checked.
    pub dmarc: Option<(Outcome, String)>,
    /// The From domain's published DMARC policy as the server noted it (`none`, `quarantine`,
    /// `reject`), when it did.
    pub dmarc_policy: Option<String>,
}

impl Results {
    /// Reads one `Authentication-Results` value. `None` when it names no authserv-id.
    pub fn parse(value: &str) -> Option<Results> {
        // The policy is only in a comment: `dmarc=fail (p=NONE dis=NONE) header.from=...`.
        let dmarc_policy = value.split(';').find(|s| s.trim_start().to_ascii_lowercase().starts_with("dmarc=")).and_then(|s| {
            let lower = s.to_ascii_lowercase();
            let at = lower.find("p=")?;
            let policy: String = lower[at + 2..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            (!policy.is_empty()).then_some(policy)
        });
        let cleaned = strip_comments(value);
        let mut parts = split_unquoted(&cleaned, ';').into_iter();
        let authserv_id = parts.next()?.split_whitespace().next()?.to_ascii_lowercase();
        let mut results = Results { authserv_id, dmarc_policy, ..Results::default() };
        for part in parts {
            let mut tokens = part.split_whitespace();
            let Some((method, outcome)) = tokens.next().and_then(|t| t.split_once('=')) else {
                continue;
            };
            let outcome = Outcome::parse(outcome);
            let props: Vec<(String, String)> = tokens
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase()))
                .collect();
            let prop =
                |names: &[&str]| props.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| domain_of(v)).unwrap_or_default();
            match method.to_ascii_lowercase().as_str() {
                "spf" => results.spf = Some((outcome, prop(&["smtp.mailfrom", "smtp.helo"]))),
                "dkim" => results.dkim.push((outcome, prop(&["header.d", "header.i"]))),
                "dmarc" => results.dmarc = Some((outcome, prop(&["header.from"]))),
                _ => {}
            }
        }
        Some(results)
    }

    /// Reads a `Received-SPF` value: `fail (reason) client-ip=...; envelope-from=...`.
    pub fn parse_received_spf(value: &str) -> Option<Results> {
        let outcome = Outcome::parse(value.split_whitespace().next()?);
        let envelope = strip_comments(value)
            .split(|c: char| c == ';' || c.is_whitespace())
            .find_map(|t| t.strip_prefix("envelope-from="))
            .map(|v| domain_of(&v.trim_matches('"').to_ascii_lowercase()))
            .unwrap_or_default();
        Some(Results { spf: Some((outcome, envelope)), ..Results::default() })
    }
}

/// The domain of `user@domain` or of a bare domain.
fn domain_of(v: &str) -> String {
    v.rsplit_once('@').map_or(v, |(_, d)| d).trim_end_matches('>').to_string()
}

/// Removes RFC 5322 comments `( ... )`, nested, outside quotes.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(s[start..i].trim());
            start = i + c.len_utf8();
        }
    }
    parts.push(s[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_results_with_comments_and_versions() {
        let r = Results::parse(
            "mx.zorggroephorizon.nl 1; spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=bounce@ing-veilig.example;\r\n \
             dkim=pass (2048-bit key) header.d=ing-veilig.example header.s=s1; dmarc=fail (p=REJECT) header.from=ing.nl",
        )
        .unwrap();
        assert_eq!(r.authserv_id, "mx.zorggroephorizon.nl");
        assert_eq!(r.spf, Some((Outcome::Fail, "ing-veilig.example".into())));
        assert_eq!(r.dkim, vec![(Outcome::Pass, "ing-veilig.example".into())]);
        assert_eq!(r.dmarc, Some((Outcome::Fail, "ing.nl".into())));
        assert_eq!(r.dmarc_policy.as_deref(), Some("reject"));
        let s = Results::parse_received_spf("softfail (domain of x does not designate) envelope-from=\"a@b.example\";").unwrap();
        assert_eq!(s.spf, Some((Outcome::SoftFail, "b.example".into())));
    }
}
