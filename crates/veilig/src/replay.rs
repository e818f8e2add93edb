//! `veilig monitor replay`: the detection engine over files, in event time.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use veilig_monitor::{Engine, Format, Parsed, parse_line};

use crate::cli::{ReplayArgs, RulesArgs};
use crate::progress::Progress;

/// Lines longer than this are counted as unparsed and skipped, so one huge line cannot take
/// the memory.
const MAX_LINE: usize = 64 * 1024;

/// The shipped rules with the YAML files of `dir` (`*.yaml`, `*.yml`, in name order) laid over
/// them; every mistake in every file is named.
pub fn load_rules(dir: Option<&std::path::Path>) -> Result<Vec<veilig_monitor::rules::Rule>, String> {
    let Some(dir) = dir else { return Ok(veilig_monitor::rules::pack()) };
    let entries = std::fs::read_dir(dir).map_err(|e| format!("veilig: cannot read the rules folder {}: {e}", dir.display()))?;
    let mut paths: Vec<std::path::PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml")).collect();
    paths.sort();
    let mut files = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| format!("veilig: cannot read {}: {e}", p.display()))?;
        files.push((p.display().to_string(), text));
    }
    veilig_monitor::rules::with_overrides(&files).map_err(|errors| {
        let mut text = format!("veilig: {} problem(s) in the rules:", errors.len());
        for e in errors {
            text.push_str(&format!("\n  - {e}"));
        }
        text
    })
}

/// Reads imported address lists: name → set. Lines that are not an address or network are
/// skipped and counted on standard error.
pub fn load_lists(
    specs: &[(String, std::path::PathBuf)],
) -> Result<std::collections::HashMap<String, std::sync::Arc<veilig_monitor::rules::NetSet>>, String> {
    let mut lists = std::collections::HashMap::new();
    for (name, path) in specs {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the list {}: {e}", path.display()))?;
        let (set, skipped) = veilig_monitor::rules::NetSet::parse(&text);
        if skipped > 0 {
            eprintln!("veilig: list {name} ({}): {skipped} line(s) are not an address or network, skipped", path.display());
        }
        lists.insert(name.clone(), std::sync::Arc::new(set));
    }
    Ok(lists)
}

/// Reads country databases; `None` when none are given.
pub fn load_geo(paths: &[std::path::PathBuf]) -> Result<Option<std::sync::Arc<veilig_monitor::geo::Geo>>, String> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut dbs = Vec::new();
    for p in paths {
        dbs.push(std::fs::read(p).map_err(|e| format!("veilig: cannot read the GeoIP database {}: {e}", p.display()))?);
    }
    veilig_monitor::geo::Geo::from_bytes(dbs).map(|g| Some(std::sync::Arc::new(g))).map_err(|e| format!("veilig: GeoIP: {e}"))
}

/// `veilig monitor rules`: the rules in force, or every mistake in the files.
pub fn rules(args: &RulesArgs) -> ExitCode {
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for r in &rules {
        let kind = match &r.logic {
            veilig_monitor::rules::Logic::Count => "count".to_owned(),
            veilig_monitor::rules::Logic::Distinct(f) => format!("distinct {f:?}").to_lowercase(),
            veilig_monitor::rules::Logic::Leaky { .. } => "leaky".to_owned(),
            veilig_monitor::rules::Logic::Sequence { .. } => "sequence".to_owned(),
            veilig_monitor::rules::Logic::FirstSeen { .. } => "first_seen".to_owned(),
            veilig_monitor::rules::Logic::Travel => "travel".to_owned(),
            veilig_monitor::rules::Logic::SumBytes => "sum bytes".to_owned(),
        };
        let line = if args.json {
            serde_json::json!({"name": r.name, "severity": r.severity, "type": kind, "window_secs": r.window_ms / 1000,
                "threshold": r.threshold, "description": r.description})
            .to_string()
        } else {
            format!("{:<28} {:<9} {:<18} {:>7}s {:>6}  {}", r.name, r.severity, kind, r.window_ms / 1000, r.threshold, r.description)
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

pub fn run(args: &ReplayArgs) -> ExitCode {
    let Some(format) = Format::parse(&args.format) else {
        eprintln!("veilig: unknown --format {}; use one of: {}", args.format, Format::NAMES);
        return ExitCode::from(2);
    };
    let year = args.year.unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let specs: Result<Vec<_>, String> = args.lists.iter().map(|s| veilig_core::config::parse_list_spec(s)).collect();
    let lists = match specs.and_then(|s| load_lists(&s)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let mut engine = Engine::new(rules, veilig_monitor::engine::Budget::default()).with_lists(&lists);
    match load_geo(&args.geoip) {
        Ok(Some(geo)) => engine = engine.with_geo(geo),
        Ok(None) => {}
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    let mut alerts = Vec::new();
    let (mut lines, mut events, mut unparsed) = (0u64, 0u64, 0u64);
    let mut samples: Vec<String> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let (reader, size): (Box<dyn Read>, u64) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), 0)
        } else {
            match std::fs::File::open(path) {
                Ok(f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    (Box::new(f), size)
                }
                Err(e) => {
                    eprintln!("veilig: cannot read {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        };
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut progress = Progress::new("replaying", size);
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut read: u64 = 0;
        loop {
            buf.clear();
            let n = match reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    eprintln!("veilig: reading {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            read += n as u64;
            lines += 1;
            if lines.is_multiple_of(262_144) {
                progress.set(read);
            }
            if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
                // Skip the rest of an over-long line.
                unparsed += 1;
                let _ = reader.by_ref().skip_until(b'\n');
                continue;
            }
            // Valid UTF-8 is checked fast and borrowed; anything else is read with U+FFFD.
            let line = match std::str::from_utf8(&buf) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(&buf),
            };
            match parse_line(&line, format, year) {
                Parsed::Event(e) => {
                    events += 1;
                    let before = alerts.len();
                    engine.push(&e, &mut alerts);
                    for a in &alerts[before..] {
                        let printed = if args.json {
                            serde_json::to_string(a).map(|j| writeln!(out, "{j}"))
                        } else {
                            Ok(writeln!(out, "{:<9} {:<24} {:<16} {}  {}", a.severity, a.rule, a.source, a.last_seen, a.summary))
                        };
                        if !matches!(printed, Ok(Ok(()))) {
                            return ExitCode::SUCCESS; // stdout closed (a pager quit)
                        }
                    }
                }
                Parsed::Ignored => {}
                Parsed::Unparsed(why) => {
                    unparsed += 1;
                    if samples.len() < 5 {
                        samples.push(format!("{why}: {}", line.trim_end().chars().take(160).collect::<String>()));
                    }
                }
            }
        }
        progress.set(read);
        progress.finish();
    }
    eprintln!("{lines} lines, {events} events, {unparsed} not understood, {} alerts", alerts.len());
    for s in samples {
        eprintln!("  not understood: {s}");
    }
    ExitCode::SUCCESS
}
