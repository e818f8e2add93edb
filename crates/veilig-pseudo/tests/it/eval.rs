//! The labelled evaluation set (eval/GUIDELINES.md): precision, recall, F1 per label, leaks and
//! KEEP values, on the part the rules were tuned on and on the part they were not.

use std::path::Path;
use veilig_pseudo::eval::{Report, parse_annotated};
use veilig_pseudo::{Format, Lang, Mapping, Pseudonymiser};

pub fn score(dir: &str) -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let engine = Pseudonymiser::new();
    let mut report = Report::default();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&f).unwrap();
        let (text, gold) = parse_annotated(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let format = if name.ends_with(".csv") { Format::Csv } else { Format::Text };
        let lang = if name.starts_with("en-") { Lang::En } else { Lang::Nl };
        let mut m = Mapping::new(lang);
        let out = engine.pseudonymise_as(format, &text, &mut m);
        report.add(&name, &text, &gold, &out.spans);
    }
    report
}

fn show(name: &str, r: &Report) {
    println!("== {name}\n{}", r.table());
    if std::env::var_os("VEILIG_EVAL_MISSES").is_some() {
        for m in &r.misses {
            println!("{:<13} {:<14} {:<48} {:?}", m.kind, m.label, m.file, m.text);
        }
    }
}

#[test]
fn dev_set_meets_its_floor() {
    let r = score("dev");
    show("dev", &r);
    assert!(r.values > 1000, "the dev set has {} values", r.values);
    // floors a little under the figures in docs/benchmarks.md: a rule change that loses quality fails here
    assert!(r.total.f1() >= 0.975, "F1 {:.3}", r.total.f1());
    assert!(r.leak_rate() <= 0.045, "leak rate {:.3}", r.leak_rate());
    for label in ["BSN", "IBAN", "EMAIL", "POSTCODE"] {
        assert_eq!(r.labels[label].recall(), 1.0, "{label} recall");
    }
    assert!(r.labels["PHONE"].recall() >= 0.99, "PHONE recall {:.3}", r.labels["PHONE"].recall());
}

#[test]
fn unseen_set_meets_its_floor() {
    let r = score("unseen");
    show("unseen", &r);
    assert!(r.values > 1000, "the unseen set has {} values", r.values);
    assert!(r.total.f1() >= 0.92, "F1 {:.3}", r.total.f1());
    assert!(r.leak_rate() <= 0.10, "leak rate {:.3}", r.leak_rate());
    for label in ["BSN", "IBAN", "EMAIL"] {
        assert_eq!(r.labels[label].recall(), 1.0, "{label} recall");
    }
}
