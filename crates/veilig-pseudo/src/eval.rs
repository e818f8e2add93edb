//! The evaluation set's labels and the scorer (see `eval/GUIDELINES.md`).

use crate::{Label, Span};
use serde::Serialize;
use std::collections::BTreeMap;

/// A labelled value in a text; `label: None` marks a KEEP value that must not be replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Gold {
    pub start: usize,
    pub end: usize,
    pub label: Option<Label>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    #[error("byte {at}: a label opened with [[ is not closed")]
    Unclosed { at: usize },
    #[error("byte {at}: unknown label {label:?}")]
    UnknownLabel { at: usize, label: String },
}

/// Takes the `[[LABEL:value]]` marks out of an annotated text.
pub fn parse_annotated(src: &str) -> Result<(String, Vec<Gold>), EvalError> {
    let mut text = String::with_capacity(src.len());
    let mut gold = Vec::new();
    let mut rest = src;
    let mut consumed = 0;
    while let Some(p) = rest.find("[[") {
        text.push_str(&rest[..p]);
        let at = consumed + p;
        let inner_start = p + 2;
        let close = rest[inner_start..].find("]]").ok_or(EvalError::Unclosed { at })? + inner_start;
        let inner = &rest[inner_start..close];
        let (label, value) = inner.split_once(':').ok_or(EvalError::UnknownLabel { at, label: inner.to_string() })?;
        let label =
            if label == "KEEP" { None } else { Some(Label::parse(label).ok_or(EvalError::UnknownLabel { at, label: label.to_string() })?) };
        let start = text.len();
        text.push_str(value);
        gold.push(Gold { start, end: text.len(), label });
        consumed += close + 2;
        rest = &rest[close + 2..];
    }
    text.push_str(rest);
    Ok((text, gold))
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

/// One miss or false alarm, for the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Miss {
    pub file: String,
    pub kind: &'static str,
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub labels: BTreeMap<String, Counts>,
    pub total: Counts,
    pub values: usize,
    pub leaked: usize,
    pub keep_total: usize,
    pub keep_replaced: usize,
    pub misses: Vec<Miss>,
}

impl Report {
    pub fn leak_rate(&self) -> f64 {
        if self.values == 0 { 0.0 } else { self.leaked as f64 / self.values as f64 }
    }

    /// Scores the spans found in one text against its labels.
    pub fn add(&mut self, file: &str, text: &str, gold: &[Gold], spans: &[Span]) {
        let replaced: Vec<&Span> = spans.iter().filter(|s| s.replacement.is_some()).collect();
        let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        for g in gold {
            let value = &text[g.start..g.end];
            let Some(label) = g.label else {
                self.keep_total += 1;
                if replaced.iter().any(|s| overlaps((s.byte_start, s.byte_end), (g.start, g.end))) {
                    self.keep_replaced += 1;
                    self.misses.push(Miss { file: file.into(), kind: "keep-replaced", label: "KEEP".into(), text: value.into() });
                }
                continue;
            };
            self.values += 1;
            let c = self.labels.entry(label.as_str().to_string()).or_default();
            if replaced.iter().any(|s| s.label == label && overlaps((s.byte_start, s.byte_end), (g.start, g.end))) {
                c.tp += 1;
                self.total.tp += 1;
            } else {
                c.fn_ += 1;
                self.total.fn_ += 1;
                self.misses.push(Miss { file: file.into(), kind: "missed", label: label.as_str().into(), text: value.into() });
            }
            // a leak: a letter or digit of the value outside every replaced span
            let leaked = value.char_indices().any(|(k, ch)| {
                let at = g.start + k;
                ch.is_alphanumeric() && !replaced.iter().any(|s| s.byte_start <= at && at < s.byte_end)
            });
            if leaked {
                self.leaked += 1;
                self.misses.push(Miss { file: file.into(), kind: "leaked", label: label.as_str().into(), text: value.into() });
            }
        }
        for s in &replaced {
            let hit = gold.iter().any(|g| g.label == Some(s.label) && overlaps((s.byte_start, s.byte_end), (g.start, g.end)));
            if !hit {
                let c = self.labels.entry(s.label.as_str().to_string()).or_default();
                c.fp += 1;
                self.total.fp += 1;
                self.misses.push(Miss {
                    file: file.into(),
                    kind: "false-alarm",
                    label: s.label.as_str().into(),
                    text: text[s.byte_start..s.byte_end].into(),
                });
            }
        }
    }

    /// A table: label, precision, recall, F1, and the totals.
    pub fn table(&self) -> String {
        let mut out = format!("{:<14} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5}\n", "label", "prec", "recall", "f1", "tp", "fp", "fn");
        for (l, c) in &self.labels {
            out.push_str(&format!(
                "{:<14} {:>6.3} {:>6.3} {:>6.3} {:>6} {:>5} {:>5}\n",
                l,
                c.precision(),
                c.recall(),
                c.f1(),
                c.tp,
                c.fp,
                c.fn_
            ));
        }
        let t = &self.total;
        out.push_str(&format!(
            "{:<14} {:>6.3} {:>6.3} {:>6.3} {:>6} {:>5} {:>5}\n",
            "ALL",
            t.precision(),
            t.recall(),
            t.f1(),
            t.tp,
            t.fp,
            t.fn_
        ));
        out.push_str(&format!(
            "leak rate {:.4} ({} of {} values), KEEP values replaced: {} of {}\n",
            self.leak_rate(),
            self.leaked,
            self.values,
            self.keep_replaced,
            self.keep_total
        ));
        out
    }
}
