//! A progress bar on standard error for long command-line work; silent when standard error is
//! not a terminal, so logs and CI output stay clean.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    label: &'static str,
    total: u64,
    on_terminal: bool,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    pub fn new(label: &'static str, total: u64) -> Self {
        Progress { label, total, on_terminal: std::io::stderr().is_terminal(), started: Instant::now(), last_draw: None }
    }

    pub fn set(&mut self, done: u64) {
        if !self.on_terminal {
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now.duration_since(t).as_millis() < 100) && done < self.total {
            return;
        }
        self.last_draw = Some(now);
        let width = 30usize;
        let frac = if self.total == 0 { 1.0 } else { (done as f64 / self.total as f64).min(1.0) };
        let filled = (frac * width as f64) as usize;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{}{}] {:>3}% {done}/{} ({rate:.0}/s)",
            self.label,
            "#".repeat(filled),
            " ".repeat(width - filled),
            (frac * 100.0) as u32,
            self.total
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.on_terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
