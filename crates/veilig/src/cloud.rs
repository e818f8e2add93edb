//! `veilig cloud discover`: the logs are read here in 1 MiB blocks and handed line by line to
//! `veilig-cloud`'s engine, which keeps only counts.

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use veilig_cloud::{Catalog, Discovery, Findings, Format};

use crate::cli::CloudDiscoverArgs;
use crate::progress::Progress;

fn rfc3339(secs: Option<i64>) -> serde_json::Value {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .map_or(serde_json::Value::Null, serde_json::Value::String)
}

/// The year of a file's last change (for syslog time stamps without one).
fn file_year(meta: Option<&std::fs::Metadata>) -> i32 {
    let t = meta.and_then(|m| m.modified().ok()).map(time::OffsetDateTime::from).unwrap_or_else(time::OffsetDateTime::now_utc);
    t.year()
}

fn feed(d: &mut Discovery<'_>, reader: &mut dyn Read, progress: &mut Progress, done: &mut u64) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        *done += n as u64;
        progress.set(*done);
        let chunk = &buf[..n];
        let Some(last_nl) = memchr_last(chunk) else {
            carry.extend_from_slice(chunk);
            // a line longer than 1 MiB is not a log line: count it and move on
            if carry.len() > 1 << 20 {
                d.feed(&carry[..200]);
                carry.clear();
            }
            continue;
        };
        if carry.is_empty() {
            d.feed_all(&chunk[..last_nl]);
        } else {
            carry.extend_from_slice(&chunk[..last_nl]);
            d.feed_all(&carry);
            carry.clear();
        }
        carry.extend_from_slice(&chunk[last_nl + 1..]);
    }
    if !carry.is_empty() {
        d.feed_all(&carry);
    }
    Ok(())
}

fn memchr_last(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

/// `statuses`: the register's status per catalog id (empty without `--register`).
pub fn discover(args: &CloudDiscoverArgs, statuses: &HashMap<String, String>) -> ExitCode {
    let Some(format) = Format::parse(&args.format) else {
        eprintln!("veilig cloud discover: --format: '{}' is not one of {}", args.format, Format::NAMES.join(", "));
        return ExitCode::from(2);
    };
    let catalog = match Catalog::shipped() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("veilig cloud discover: {e}");
            return ExitCode::from(2);
        }
    };
    let metas: Vec<Option<std::fs::Metadata>> =
        args.files.iter().map(|p| if p.as_os_str() == "-" { None } else { std::fs::metadata(p).ok() }).collect();
    let total: u64 = metas.iter().flatten().map(std::fs::Metadata::len).sum();
    let mut progress = Progress::new("reading", total);
    let mut d = Discovery::new(&catalog, format, args.year.unwrap_or_else(|| file_year(None)));
    let mut done = 0u64;
    for (path, meta) in args.files.iter().zip(&metas) {
        d.start_file(format, args.year.unwrap_or_else(|| file_year(meta.as_ref())));
        let result = if path.as_os_str() == "-" {
            feed(&mut d, &mut std::io::stdin().lock(), &mut progress, &mut done)
        } else {
            match std::fs::File::open(path) {
                Ok(mut f) => feed(&mut d, &mut f, &mut progress, &mut done),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            progress.finish();
            eprintln!("veilig cloud discover: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    progress.finish();
    let f = d.finish();
    if args.json {
        print_json(&f, args.unknown, statuses, args.register)
    } else {
        print_table(&f, args.unknown)
    }
    if f.queries == 0 && f.malformed > 0 {
        eprintln!("veilig cloud discover: no line was understood; try --format (one of {})", Format::NAMES.join(", "));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn print_json(f: &Findings, unknown: usize, statuses: &HashMap<String, String>, register: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for s in &f.services {
        let v = serde_json::json!({
            "service": s.service,
            "name": s.name,
            "domains": s.domains,
            "functions": s.functions,
            // from the register with --register; without it the command line knows only the catalog
            "register_status": if register { statuses.get(&s.service).map_or("not_in_register", String::as_str) } else { "unknown" },
            "queries": s.queries,
            "clients": s.clients,
            "first_seen": rfc3339(s.first_seen),
            "last_seen": rfc3339(s.last_seen),
            "days": s.days,
        });
        let _ = writeln!(out, "{v}");
    }
    for u in f.unknown.iter().take(unknown) {
        let v = serde_json::json!({
            "unknown_domain": u.domain,
            "queries": u.queries,
            "clients": u.clients,
            "first_seen": rfc3339(u.first_seen),
            "last_seen": rfc3339(u.last_seen),
        });
        let _ = writeln!(out, "{v}");
    }
    let summary = serde_json::json!({
        "summary": {
            "lines": f.lines, "queries": f.queries, "other": f.other, "malformed": f.malformed, "internal": f.internal,
            "services": f.services.len(), "unknown_domains": f.unknown.len(), "unknown_dropped": f.unknown_dropped,
            "malformed_samples": f.samples,
        }
    });
    let _ = writeln!(out, "{summary}");
}

fn print_table(f: &Findings, unknown: usize) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let color = std::io::stdout().is_terminal();
    let bold = |s: &str| if color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_owned() };
    let when = |s: Option<i64>| {
        rfc3339(s).as_str().map(|t| t.replace('T', " ").trim_end_matches('Z').chars().take(16).collect::<String>()).unwrap_or_default()
    };
    let mut o = String::new();
    let head = format!("{:<28} {:>10} {:>8}  {:<17} {:<17} functions", "service", "queries", "clients", "first seen", "last seen");
    let _ = writeln!(o, "{}", bold(&head));
    for s in &f.services {
        let name: String = s.name.chars().take(28).collect();
        let (first, last) = (when(s.first_seen), when(s.last_seen));
        let _ = writeln!(o, "{name:<28} {:>10} {:>8}  {first:<17} {last:<17} {}", s.queries, s.clients, s.functions.join(", "));
    }
    if !f.unknown.is_empty() {
        let head = format!("{:<40} {:>10} {:>8}   (not in the catalog: look at these)", "unknown domain", "queries", "clients");
        let _ = writeln!(o, "\n{}", bold(&head));
        for u in f.unknown.iter().take(unknown) {
            let _ = writeln!(o, "{:<40} {:>10} {:>8}", u.domain, u.queries, u.clients);
        }
    }
    let to_services: u64 = f.services.iter().map(|s| s.queries).sum();
    let _ = writeln!(
        o,
        "\n{} lines: {} queries ({to_services} to {} catalog services, {} to internal names), {} other lines, {} not understood",
        f.lines,
        f.queries,
        f.services.len(),
        f.internal,
        f.other,
        f.malformed
    );
    for s in &f.samples {
        let _ = writeln!(o, "  not understood: {s}");
    }
    // a closed pipe (| head) ends the output quietly
    let _ = std::io::stdout().lock().write_all(o.as_bytes());
}
