//! `veilig pseudo`: pseudonymise a text or file, restore an answer, or score a labelled set.
//!
//! Text is read and written in pieces of about 1 MiB cut at line ends, so a 100 MB file needs
//! little memory; the key (the mapping) carries over from piece to piece and is sealed into the
//! vault file at the end. A vault is replaced only after the new one is written completely.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use veilig_pseudo::vault::{Key, VaultError};
use veilig_pseudo::{Format, Lang, Mapping, Pseudonymiser, Span, Terms};

use crate::cli::PseudoArgs;
use crate::progress::Progress;

const PIECE: usize = 1 << 20;
/// CSV and JSON-restore inputs are read whole; beyond this they are refused.
const MAX_WHOLE: u64 = 256 << 20;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("veilig: {msg}");
    ExitCode::from(2)
}

struct Secret {
    passphrase: Option<String>,
    key: Option<[u8; 32]>,
}

impl Secret {
    fn key(&self) -> Option<Key<'_>> {
        match (&self.key, &self.passphrase) {
            (Some(k), _) => Some(Key::File(*k)),
            (None, Some(p)) => Some(Key::Passphrase(p)),
            (None, None) => None,
        }
    }
}

fn secret(args: &PseudoArgs) -> Result<Secret, String> {
    let key = match &args.key_file {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("cannot read the key file {}: {e}", p.display()))?;
            Some(Key::parse_file(&bytes).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let passphrase = std::env::var("VEILIG_VAULT_PASSPHRASE").ok().filter(|p| !p.is_empty());
    Ok(Secret { passphrase, key })
}

fn open_vault(path: &Path, secret: &Secret, lang: Lang) -> Result<Mapping, String> {
    let key = secret.key().ok_or("a vault needs a key: set VEILIG_VAULT_PASSPHRASE or give --key-file FILE")?;
    match std::fs::read(path) {
        Ok(bytes) => veilig_pseudo::vault::open(&bytes, &key).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Mapping::new(lang)),
        Err(e) => Err(format!("cannot read the vault {}: {e}", path.display())),
    }
}

fn save_vault(path: &Path, secret: &Secret, mapping: &Mapping) -> Result<(), String> {
    use rand::RngCore;
    let key = secret.key().ok_or("a vault needs a key")?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = veilig_pseudo::vault::seal(mapping, &key, salt, nonce).map_err(|e: VaultError| e.to_string())?;
    let tmp = path.with_extension(format!("vault-new-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        // a fresh file, never through a link someone left there, readable by the owner only
        let _ = std::fs::remove_file(&tmp);
        let mut f = private_file(&tmp)?;
        f.write_all(&sealed)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot write the vault {}: {e}", path.display()))
}

/// A new file only its owner can read (mode 0600 from the start); fails if it exists.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn input(path: Option<&PathBuf>) -> Result<(Box<dyn Read>, u64, String), String> {
    match path {
        None => Ok((Box::new(std::io::stdin()), 0, "-".into())),
        Some(p) if p.as_os_str() == "-" => Ok((Box::new(std::io::stdin()), 0, "-".into())),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            Ok((Box::new(f), len, p.display().to_string()))
        }
    }
}

fn output(path: Option<&PathBuf>) -> Result<Box<dyn Write>, String> {
    match path {
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout()))),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// The next piece of the input: about `PIECE` bytes, ending at a line end, valid UTF-8.
fn next_piece(r: &mut BufReader<Box<dyn Read>>, consumed: u64) -> Result<Option<String>, String> {
    let mut buf = Vec::with_capacity(PIECE + 4096);
    while buf.len() < PIECE {
        let n = r.read_until(b'\n', &mut buf).map_err(|e| format!("read error: {e}"))?;
        if n == 0 {
            break;
        }
    }
    if buf.is_empty() {
        return Ok(None);
    }
    match String::from_utf8(buf) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            let at = consumed + e.utf8_error().valid_up_to() as u64;
            Err(format!("the input is not UTF-8 text (invalid byte at offset {at}); save it as UTF-8 and try again"))
        }
    }
}

fn lang_of(args: &PseudoArgs, sample: &str) -> Result<Lang, String> {
    match args.lang.as_str() {
        "auto" => Ok(Lang::detect(sample)),
        other => Lang::parse(other).ok_or_else(|| format!("--lang must be nl, en or auto, not {other:?}")),
    }
}

/// How the input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Csv,
    /// DOCX or ODT: pseudonymised inside the document, written as a document.
    Office,
    /// Text extracted with pdftotext, written as text.
    Pdf,
    /// An e-mail message decoded to its headers and readable body.
    Eml,
}

fn kind_of(args: &PseudoArgs, name: &str) -> Result<Kind, String> {
    let lower = name.to_ascii_lowercase();
    match args.format.as_str() {
        "auto" => Ok(if lower.ends_with(".csv") {
            Kind::Csv
        } else if lower.ends_with(".docx") || lower.ends_with(".odt") {
            Kind::Office
        } else if lower.ends_with(".pdf") {
            Kind::Pdf
        } else if lower.ends_with(".eml") {
            Kind::Eml
        } else {
            Kind::Text
        }),
        "text" | "txt" | "md" | "markdown" => Ok(Kind::Text),
        "csv" => Ok(Kind::Csv),
        "docx" | "odt" => Ok(Kind::Office),
        "pdf" => Ok(Kind::Pdf),
        "eml" => Ok(Kind::Eml),
        other => Err(format!("--format must be auto, text, md, eml, csv, docx, odt or pdf, not {other:?}")),
    }
}

fn read_whole(read: Box<dyn Read>) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    read.take(MAX_WHOLE + 1).read_to_end(&mut raw).map_err(|e| format!("read error: {e}"))?;
    if raw.len() as u64 > MAX_WHOLE {
        return Err(format!("this kind of input is read whole and may be at most {} MB", MAX_WHOLE >> 20));
    }
    Ok(raw)
}

/// The text of a PDF, by Debian's pdftotext (poppler-utils).
fn pdf_text(path: Option<&PathBuf>) -> Result<String, String> {
    let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
        return Err("a PDF is read from a file, not from standard input".into());
    };
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(path)
        .arg("-")
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("reading a PDF needs pdftotext (Debian package poppler-utils): {e}"))?;
    if !out.status.success() {
        return Err(format!("{} is not a readable PDF: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    String::from_utf8(out.stdout).map_err(|_| "pdftotext did not give UTF-8 text".to_owned())
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

pub fn run(args: &PseudoArgs) -> ExitCode {
    if let Some(dir) = &args.eval {
        return eval(dir, args.json);
    }
    let secret = match secret(args) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if args.restore {
        return restore(args, &secret);
    }
    match pseudonymise(args, &secret) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn pseudonymise(args: &PseudoArgs, secret: &Secret) -> Result<ExitCode, String> {
    let (read, total, name) = input(args.file.as_ref())?;
    let kind = kind_of(args, &name)?;
    let format = if kind == Kind::Csv { Format::Csv } else { Format::Text };
    let terms = match &args.terms {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read the term list {}: {e}", p.display()))?;
            Terms::from_csv(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Terms::default(),
    };
    let engine = Pseudonymiser::new().with_terms(terms);
    if kind == Kind::Office {
        return office(args, secret, &engine, read_whole(read)?);
    }
    // PDF and e-mail become text first; the text is then read like any other
    let read: Box<dyn Read> = match kind {
        Kind::Pdf => Box::new(std::io::Cursor::new(pdf_text(args.file.as_ref())?.into_bytes())),
        Kind::Eml => {
            let raw = read_whole(read)?;
            let text = veilig_pseudo::email::to_text(&raw).ok_or_else(|| format!("{name} is not an e-mail message"))?;
            Box::new(std::io::Cursor::new(text.into_bytes()))
        }
        _ => read,
    };
    let mut reader = BufReader::with_capacity(PIECE, read);
    let first = next_piece(&mut reader, 0)?.unwrap_or_default();
    let lang = lang_of(args, &first)?;
    // open (or start) the key before any output, so a wrong passphrase changes nothing
    let mut mapping = match &args.vault {
        Some(v) => open_vault(v, secret, lang)?,
        None => Mapping::new(lang),
    };
    mapping.lang = lang;
    mapping.fake |= args.fake;
    let mut out = output(args.out.as_ref())?;
    let werr = |e: std::io::Error| format!("write error: {e}");
    let mut progress = Progress::new("pseudo", total);
    let mut spans_all: Vec<Span> = Vec::new();
    let (mut bytes, mut chars) = (0usize, 0usize);
    if args.json {
        out.write_all(b"{\"text\":\"").map_err(werr)?;
    }
    let mut piece = Some(first);
    if format == Format::Csv {
        // a CSV is read whole: the header names the columns
        let mut whole = piece.take().unwrap_or_default();
        reader.by_ref().take(MAX_WHOLE + 1).read_to_string(&mut whole).map_err(|e| format!("the input is not UTF-8 text: {e}"))?;
        if whole.len() as u64 > MAX_WHOLE {
            return Err(format!("a CSV is read whole and may be at most {} MB", MAX_WHOLE >> 20));
        }
        piece = Some(whole);
    }
    while let Some(text) = piece {
        let o = engine.pseudonymise_as(format, &text, &mut mapping);
        if args.json {
            let quoted = json_string(&o.text);
            out.write_all(&quoted.as_bytes()[1..quoted.len() - 1]).map_err(werr)?;
            spans_all.extend(o.spans.into_iter().map(|mut s| {
                s.start += chars;
                s.end += chars;
                s.byte_start += bytes;
                s.byte_end += bytes;
                s
            }));
        } else {
            out.write_all(o.text.as_bytes()).map_err(werr)?;
        }
        bytes += text.len();
        chars += text.chars().count();
        progress.set(bytes as u64);
        piece = if format == Format::Csv { None } else { next_piece(&mut reader, bytes as u64)? };
    }
    progress.finish();
    if args.json {
        let spans = serde_json::to_string(&spans_all).map_err(|e| e.to_string())?;
        write!(out, "\",\"spans\":{spans}}}").map_err(werr)?;
        writeln!(out).map_err(werr)?;
    }
    out.flush().map_err(werr)?;
    match &args.vault {
        Some(v) => save_vault(v, secret, &mapping)?,
        None if !mapping.is_empty() => {
            eprintln!("veilig: no --vault given: the key is not kept, so this text cannot be restored later")
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// DOCX and ODT: replaced inside the document; the new document goes to --out.
fn office(args: &PseudoArgs, secret: &Secret, engine: &Pseudonymiser, raw: Vec<u8>) -> Result<ExitCode, String> {
    let Some(out_path) = &args.out else {
        return Err("a DOCX or ODT document is written to a file: give --out FILE".into());
    };
    // the language of the pseudonyms: from --lang, or guessed from the document's text
    let sample = veilig_pseudo::office::text(&raw).map_err(|e| e.to_string())?;
    let lang = lang_of(args, &sample)?;
    let mut mapping = match &args.vault {
        Some(v) => open_vault(v, secret, lang)?,
        None => Mapping::new(lang),
    };
    mapping.lang = lang;
    mapping.fake |= args.fake;
    let (doc, _, count) = veilig_pseudo::office::pseudonymise(&raw, engine, &mut mapping).map_err(|e| e.to_string())?;
    std::fs::write(out_path, &doc).map_err(|e| format!("cannot write {}: {e}", out_path.display()))?;
    if args.json {
        println!("{}", serde_json::json!({"out": out_path.display().to_string(), "replaced": count}));
    }
    match &args.vault {
        Some(v) => save_vault(v, secret, &mapping)?,
        None if count > 0 => eprintln!("veilig: no --vault given: the key is not kept, so this document cannot be restored later"),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn restore(args: &PseudoArgs, secret: &Secret) -> ExitCode {
    let Some(vault) = &args.vault else {
        return fail("--restore needs --vault FILE: the key that the pseudonymised text was made with");
    };
    if !vault.exists() {
        return fail(format!("the vault {} does not exist", vault.display()));
    }
    let mapping = match open_vault(vault, secret, Lang::Nl) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let (read, _, _) = match input(args.file.as_ref()) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let raw = match read_whole(read) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let text = match String::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => return fail(format!("the input is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())),
    };
    let r = veilig_pseudo::restore::restore(&text, &mapping);
    // the restored text holds the real values: a new file only its owner can read
    let mut out: Box<dyn Write> = match &args.out {
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        Some(p) => {
            let _ = std::fs::remove_file(p);
            match private_file(p) {
                Ok(f) => Box::new(std::io::BufWriter::new(f)),
                Err(e) => return fail(format!("cannot write {}: {e}", p.display())),
            }
        }
    };
    let written = if args.json {
        writeln!(out, "{}", serde_json::json!({"text": r.text, "restored": r.restored, "unmatched": r.unmatched}))
    } else {
        out.write_all(r.text.as_bytes())
    };
    if written.and_then(|_| out.flush()).is_err() {
        return ExitCode::from(1);
    }
    if !r.unmatched.is_empty() && !args.json {
        eprintln!("veilig: {} token(s) are not in the vault and were left as they are: {}", r.unmatched.len(), r.unmatched.join(", "));
    }
    ExitCode::SUCCESS
}

fn eval(dir: &Path, json: bool) -> ExitCode {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && !p.ends_with("README.md")).collect(),
        Err(e) => return fail(format!("cannot read the folder {}: {e}", dir.display())),
    };
    files.sort();
    let engine = Pseudonymiser::new();
    let mut report = veilig_pseudo::eval::Report::default();
    let mut progress = Progress::new("pseudo eval", files.len() as u64);
    for (n, f) in files.iter().enumerate() {
        progress.set(n as u64);
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => return fail(format!("cannot read {}: {e}", f.display())),
        };
        let (text, gold) = match veilig_pseudo::eval::parse_annotated(&src) {
            Ok(x) => x,
            Err(e) => return fail(format!("{}: {e}", f.display())),
        };
        let format = if name.ends_with(".csv") { Format::Csv } else { Format::Text };
        let lang = if name.starts_with("en-") { Lang::En } else { Lang::Nl };
        let out = engine.pseudonymise_as(format, &text, &mut Mapping::new(lang));
        report.add(&name, &text, &gold, &out.spans);
    }
    progress.finish();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "precision": report.total.precision(), "recall": report.total.recall(), "f1": report.total.f1(),
                "leak_rate": report.leak_rate(), "values": report.values, "keep_replaced": report.keep_replaced,
                "labels": report.labels.iter().map(|(l, c)| (l.clone(), serde_json::json!({"precision": c.precision(), "recall": c.recall(), "f1": c.f1()}))).collect::<serde_json::Map<_, _>>(),
            })
        );
    } else {
        print!("{}", report.table());
    }
    ExitCode::SUCCESS
}
