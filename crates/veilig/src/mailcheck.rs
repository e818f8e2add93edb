//! `veilig mail check`: the phishing engine over `.eml` files, one verdict per message.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use veilig_phish::{Context, Lang, analyse};

use crate::cli::MailCheckArgs;
use crate::progress::Progress;

/// The organisation as the flags describe it.
pub fn context(domains: &[String], people: &[String], authserv_ids: &[String]) -> Result<Context, String> {
    let mut ctx = Context::new().map_err(|e| format!("veilig: {e}"))?;
    for d in domains {
        ctx = ctx.org_domain(d).map_err(|e| format!("veilig: --org-domain: {e}"))?;
    }
    for p in people {
        ctx = ctx.person(p);
    }
    for id in authserv_ids {
        ctx = ctx.authserv_id(id);
    }
    Ok(ctx)
}

/// Files named on the command line, with folders expanded to their `.eml` files in name order.
fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(f)
                .map_err(|e| format!("veilig: cannot read the folder {}: {e}", f.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inner.sort();
            out.extend(inner);
        } else {
            out.push(f.clone());
        }
    }
    Ok(out)
}

fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

pub fn run(args: &MailCheckArgs) -> ExitCode {
    let lang = match args.lang.as_str() {
        "nl" => Lang::Nl,
        "en" => Lang::En,
        other => {
            eprintln!("veilig: --lang must be nl or en, not {other:?}");
            return ExitCode::from(2);
        }
    };
    let ctx = match context(&args.org_domains, &args.people, &args.authserv_ids) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let files = match expand(&args.files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut progress = Progress::new("mail check", files.len() as u64);
    let mut failed = 0usize;
    for (n, path) in files.iter().enumerate() {
        progress.set(n as u64);
        let name = path.display().to_string();
        let raw = match read(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("veilig: cannot read {name}: {e}");
                failed += 1;
                continue;
            }
        };
        let a = analyse(&raw, &ctx);
        let written = if args.json {
            let reasons: Vec<serde_json::Value> =
                a.reasons.iter().map(|r| serde_json::json!({"code": r.code.as_str(), "message": r.message(lang)})).collect();
            let line = serde_json::json!({"file": name, "verdict": a.verdict.as_str(), "score": a.score, "reasons": reasons});
            writeln!(out, "{line}")
        } else {
            let mut text = format!("{name}: {} ({})\n", a.verdict.as_str(), a.score);
            for r in &a.reasons {
                text.push_str(&format!("  - {}: {}\n", r.code.as_str(), r.message(lang)));
            }
            write!(out, "{text}")
        };
        if written.is_err() {
            // Standard output is gone (a closed pipe): nothing left to tell.
            return ExitCode::from(1);
        }
    }
    progress.finish();
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS }
}
