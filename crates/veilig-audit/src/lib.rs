//! The audit chain: every security-relevant action becomes a record that carries the hash of
//! the record before it, so a record that is changed, removed or moved breaks the chain.
//!
//! This crate only seals and verifies records; storing them is `veilig-store`'s job. It does no
//! I/O, so the rules here are tested on their own.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a capability asks to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Who did it: a user's e-mail, `system`, or `anonymous`.
    pub actor: String,
    /// What was done, as `capability.verb`, for example `identity.login_failed`.
    pub action: String,
    /// What it was done to, for example a user, a device or a setting.
    pub target: String,
    /// The client address, when the action came over the network.
    pub ip: String,
    /// `success`, `failure` or `denied`.
    pub outcome: Outcome,
    /// More facts as JSON; never secrets.
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

impl Entry {
    pub fn new(actor: impl Into<String>, action: impl Into<String>, target: impl Into<String>) -> Self {
        Entry {
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            ip: String::new(),
            outcome: Outcome::Success,
            details: serde_json::Value::Null,
        }
    }

    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = ip.into();
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A sealed record as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub outcome: String,
    /// The details as compact JSON text, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The head of the chain: the last record's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// Seals `entry` as the record after `prev` (or as the first record when `prev` is `None`).
pub fn seal(prev: Option<&Head>, at_ms: i64, entry: &Entry) -> Record {
    let (seq, prev_hash) = match prev {
        Some(head) => (head.seq + 1, head.hash.clone()),
        None => (1, GENESIS.to_owned()),
    };
    let details = if entry.details.is_null() { String::new() } else { entry.details.to_string() };
    let mut record = Record {
        seq,
        at_ms,
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        ip: entry.ip.clone(),
        outcome: entry.outcome.as_str().to_owned(),
        details,
        prev_hash,
        hash: String::new(),
    };
    record.hash = hash_of(&record);
    record
}

/// The hash of a record's content and its predecessor's hash. Every field is length-prefixed,
/// so no two different records can serialise to the same bytes.
pub fn hash_of(r: &Record) -> String {
    let mut h = Sha256::new();
    h.update(b"veilig-audit-v1\0");
    h.update(r.seq.to_be_bytes());
    h.update(r.at_ms.to_be_bytes());
    for field in [&r.actor, &r.action, &r.target, &r.ip, &r.outcome, &r.details, &r.prev_hash] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why the chain is broken at a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error("record {seq}: its content does not match its hash (changed)")]
    Changed { seq: i64 },
    #[error("record {seq}: expected sequence number {expected} (a record was removed or reordered)")]
    Gap { seq: i64, expected: i64 },
    #[error("record {seq}: does not follow the record before it (removed, inserted or reordered)")]
    Unlinked { seq: i64 },
}

impl Break {
    pub fn seq(&self) -> i64 {
        match self {
            Break::Changed { seq } | Break::Gap { seq, .. } | Break::Unlinked { seq } => *seq,
        }
    }
}

/// Checks records fed in the order they are stored, one at a time, so a chain of any length is
/// verified in constant memory.
#[derive(Debug, Default)]
pub struct Verifier {
    head: Option<Head>,
    checked: u64,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next record. The first error is the first bad record.
    pub fn push(&mut self, r: &Record) -> Result<(), Break> {
        let (expected_seq, expected_prev) = match &self.head {
            Some(h) => (h.seq + 1, h.hash.as_str()),
            None => (1, GENESIS),
        };
        if r.seq != expected_seq {
            return Err(Break::Gap { seq: r.seq, expected: expected_seq });
        }
        if hash_of(r) != r.hash {
            return Err(Break::Changed { seq: r.seq });
        }
        if r.prev_hash != expected_prev {
            return Err(Break::Unlinked { seq: r.seq });
        }
        self.head = Some(Head { seq: r.seq, hash: r.hash.clone() });
        self.checked += 1;
        Ok(())
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }
}

/// Verifies a whole chain held in memory.
pub fn verify<'a>(records: impl IntoIterator<Item = &'a Record>) -> Result<u64, Break> {
    let mut v = Verifier::new();
    for r in records {
        v.push(r)?;
    }
    Ok(v.checked())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|r| Head { seq: r.seq, hash: r.hash.clone() });
            let entry =
                Entry::new("admin@example.nl", "identity.login", format!("user-{i}")).ip("192.0.2.10").details(serde_json::json!({"n": i}));
            out.push(seal(head.as_ref(), 1_700_000_000_000 + i as i64, &entry));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn first_record_is_sealed_deterministically() {
        let r = &chain(1)[0];
        expect_test::expect![[r#"
            seq=1 prev=0000000000000000000000000000000000000000000000000000000000000000 details={"n":0}
            hash=bdd3039e70681baf637dd8e9e89d4ca93dbae546a92852b2ebb0960bfa76b983"#]]
        .assert_eq(&format!("seq={} prev={} details={}\nhash={}", r.seq, r.prev_hash, r.details, r.hash));
    }

    #[test]
    fn a_changed_record_is_named() {
        let mut c = chain(5);
        c[2].target = "someone-else".into();
        assert_eq!(verify(&c), Err(Break::Changed { seq: 3 }));
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c), Err(Break::Gap { seq: 3, expected: 2 }));
    }

    #[test]
    fn reordered_records_are_named() {
        let mut c = chain(5);
        c.swap(1, 3);
        assert_eq!(verify(&c), Err(Break::Gap { seq: 4, expected: 2 }));
    }

    #[test]
    fn renumbered_records_break_the_link() {
        // Someone removes record 2 and renumbers the rest without recomputing hashes.
        let mut c = chain(4);
        c.remove(1);
        for (i, r) in c.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
        }
        assert_eq!(verify(&c), Err(Break::Changed { seq: 2 }));
    }

    #[test]
    fn a_forged_link_is_caught() {
        // Record 3 recomputed with a correct hash but linked to the wrong predecessor.
        let mut c = chain(4);
        c[2].prev_hash = c[0].hash.clone();
        c[2].hash = hash_of(&c[2]);
        assert_eq!(verify(&c), Err(Break::Unlinked { seq: 3 }));
    }
}
