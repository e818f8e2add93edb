//! `veilig monitor replay`: the detection engine over files, in event time.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use veilig_monitor::{Engine, Format, Parsed, parse_line};

use crate::cli::ReplayArgs;
use crate::progress::Progress;

/// Lines longer than this are counted as unparsed and skipped, so one huge line cannot take
/// the memory.
const MAX_LINE: usize = 64 * 1024;

pub fn run(args: &ReplayArgs) -> ExitCode {
    let Some(format) = Format::parse(&args.format) else {
        eprintln!("veilig: unknown --format {}; use one of: {}", args.format, Format::NAMES);
        return ExitCode::from(2);
    };
    let year = args.year.unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    let mut engine = Engine::default();
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
