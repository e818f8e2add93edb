//! File inputs: follows log files as `tail -F` does — through rotation (the file is renamed
//! and a new one created) and truncation (`copytruncate`) — and keeps a checkpoint per file
//! (its inode and the offset after the last whole line read) in the database, so a restart
//! neither reads a line twice nor loses one; lines written to a file that was rotated while
//! Veilig was down are read from the rotated file (`NAME.1`) first.
//!
//! Files are polled (every 250 ms by default): no inotify, so it works the same on every file
//! system, including network mounts. Lines longer than [`crate::MAX_FRAME`] are counted and
//! skipped.

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{Ingest, MAX_FRAME};

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(250);
/// At most this much is read from one file before the others get their turn.
const CHUNK: usize = 256 * 1024;

/// One followed file: the open handle, which file it is (inode), how far it was read, and
/// the unfinished last line.
struct Followed {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    inode: u64,
    offset: u64,
    partial: Vec<u8>,
    skipping: bool,
    saved: (u64, u64),
}

/// Follows `paths` until the task is dropped. Returns once every file's position is set (from
/// its checkpoint, or its end for a new input), so lines written after it returns are read.
pub async fn spawn_files(paths: Vec<PathBuf>, ingest: Arc<Ingest>) -> tokio::task::JoinHandle<()> {
    spawn_files_every(paths, ingest, POLL).await
}

/// [`spawn_files`] with another poll interval (tests).
pub async fn spawn_files_every(paths: Vec<PathBuf>, ingest: Arc<Ingest>, every: Duration) -> tokio::task::JoinHandle<()> {
    let mut files = Vec::new();
    for path in paths {
        files.push(open_at_checkpoint(path, &ingest).await);
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for f in &mut files {
                if let Err(e) = poll(f, &ingest).await {
                    tracing::warn!(file = %f.path.display(), error = %e, "cannot read a log file; retrying");
                    f.file = None;
                }
            }
        }
    })
}

fn key(path: &Path) -> String {
    path.display().to_string()
}

/// Opens a file where the checkpoint says it was left. When the file at the path is another
/// one now (rotated while Veilig was down), the rest of the old one is read from `NAME.1`.
async fn open_at_checkpoint(path: PathBuf, ingest: &Ingest) -> Followed {
    let mut f = Followed { path, file: None, inode: 0, offset: 0, partial: Vec::new(), skipping: false, saved: (0, 0) };
    let checkpoint = match ingest.store.ingest_checkpoint(&key(&f.path)).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the file checkpoints; starting at the end of each file");
            None
        }
    };
    let current = tokio::fs::metadata(&f.path).await.ok();
    match (checkpoint, current) {
        (Some((inode, offset)), Some(meta)) if meta.ino() == inode => {
            // The same file: go on where we were (from the start if it was truncated).
            f.inode = inode;
            f.offset = if meta.len() >= offset { offset } else { 0 };
        }
        (Some((inode, offset)), current) => {
            // Rotated while we were down: finish the old file if it is still beside it.
            let rotated = PathBuf::from(format!("{}.1", f.path.display()));
            if let Ok(meta) = tokio::fs::metadata(&rotated).await
                && meta.ino() == inode
                && meta.len() >= offset
            {
                let mut old =
                    Followed { path: rotated, file: None, inode, offset, partial: Vec::new(), skipping: false, saved: (inode, offset) };
                if let Err(e) = drain(&mut old, ingest).await {
                    tracing::warn!(file = %old.path.display(), error = %e, "cannot read the rotated log file");
                }
            }
            f.inode = current.as_ref().map(MetadataExt::ino).unwrap_or(0);
            f.offset = 0;
        }
        (None, Some(meta)) => {
            // A new input: start at its end, as tail does; what is already there is history.
            f.inode = meta.ino();
            f.offset = meta.len();
        }
        (None, None) => {}
    }
    f
}

/// Reads the rest of a file (a rotated one) and forgets it.
async fn drain(f: &mut Followed, ingest: &Ingest) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(&f.path).await?;
    file.seek(SeekFrom::Start(f.offset)).await?;
    f.file = Some(file);
    while read_some(f, ingest).await? > 0 {}
    flush_partial(f, ingest).await;
    Ok(())
}

/// One look at a file: reopen after rotation, rewind after truncation, read what is new.
async fn poll(f: &mut Followed, ingest: &Ingest) -> std::io::Result<()> {
    let meta = match tokio::fs::metadata(&f.path).await {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(meta) = &meta {
        if f.file.is_some() && meta.ino() != f.inode {
            // Rotated: read what is left of the old file through the open handle, then switch.
            while read_some(f, ingest).await? > 0 {}
            flush_partial(f, ingest).await;
            f.file = None;
            f.inode = meta.ino();
            f.offset = 0;
        }
        if f.file.is_none() {
            let mut file = tokio::fs::File::open(&f.path).await?;
            if meta.ino() != f.inode {
                f.inode = meta.ino();
                f.offset = 0;
            }
            if meta.len() < f.offset {
                f.offset = 0;
            }
            file.seek(SeekFrom::Start(f.offset)).await?;
            f.file = Some(file);
        } else if meta.len() < f.offset {
            // Truncated in place: start again from the top.
            tracing::info!(file = %f.path.display(), "log file truncated; reading it from the start");
            f.partial.clear();
            f.offset = 0;
            if let Some(file) = f.file.as_mut() {
                file.seek(SeekFrom::Start(0)).await?;
            }
        }
    }
    if f.file.is_some() {
        while read_some(f, ingest).await? == CHUNK {}
    }
    save(f, ingest).await;
    Ok(())
}

/// Reads up to one chunk and feeds the whole lines in it; returns how many bytes were read.
async fn read_some(f: &mut Followed, ingest: &Ingest) -> std::io::Result<usize> {
    let Some(file) = f.file.as_mut() else { return Ok(0) };
    let mut buf = vec![0u8; CHUNK];
    let n = file.read(&mut buf).await?;
    if n == 0 {
        return Ok(0);
    }
    buf.truncate(n);
    let mut start = 0;
    let mut text = String::new();
    for (i, b) in buf.iter().enumerate() {
        if *b != b'\n' {
            continue;
        }
        let line = &buf[start..i];
        if f.skipping {
            f.skipping = false;
        } else if f.partial.len() + line.len() > MAX_FRAME {
            ingest.counters.oversized.fetch_add(1, Ordering::Relaxed);
            f.partial.clear();
        } else if f.partial.is_empty() {
            text.push_str(&String::from_utf8_lossy(line));
            text.push('\n');
        } else {
            f.partial.extend_from_slice(line);
            text.push_str(&String::from_utf8_lossy(&f.partial));
            text.push('\n');
            f.partial.clear();
        }
        start = i + 1;
    }
    let rest = &buf[start..];
    if !f.skipping {
        if f.partial.len() + rest.len() > MAX_FRAME {
            ingest.counters.oversized.fetch_add(1, Ordering::Relaxed);
            f.partial.clear();
            f.skipping = true;
        } else {
            f.partial.extend_from_slice(rest);
        }
    }
    // The committed offset is after the last whole line: an unfinished line is read again
    // after a restart, never half.
    f.offset += start as u64;
    if !text.is_empty() {
        ingest.message_from(&format!("file {}", f.path.display()), &text).await;
    }
    Ok(n)
}

/// A rotated file's last line may have no newline: feed it anyway.
async fn flush_partial(f: &mut Followed, ingest: &Ingest) {
    if !f.partial.is_empty() {
        let text = String::from_utf8_lossy(&f.partial).into_owned();
        f.offset += f.partial.len() as u64;
        f.partial.clear();
        ingest.message_from(&format!("file {}", f.path.display()), &text).await;
    }
}

async fn save(f: &mut Followed, ingest: &Ingest) {
    if f.saved == (f.inode, f.offset) {
        return;
    }
    match ingest.store.ingest_checkpoint_set(&key(&f.path), f.inode, f.offset, ingest.clock.now_ms()).await {
        Ok(()) => f.saved = (f.inode, f.offset),
        Err(e) => tracing::warn!(error = %e, "cannot store a file checkpoint"),
    }
}
