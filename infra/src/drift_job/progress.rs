//! Progress: a bar on a terminal (files, rows, bytes read), structured log lines otherwise.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counts files, rows and bytes across the passes of a run.
pub struct Progress {
    bar: Option<ProgressBar>,
    bytes: Arc<AtomicU64>,
    rows: AtomicU64,
    stage: std::sync::Mutex<String>,
}

impl Progress {
    /// A bar when `enabled` and stderr is a terminal; otherwise only log lines.
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>18} [{bar:28}] {pos}/{len} files  {msg}")
                .expect("a valid template")
                .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Self { bar, bytes: Arc::new(AtomicU64::new(0)), rows: AtomicU64::new(0), stage: Default::default() }
    }

    /// A display that shows nothing (library callers, tests).
    pub fn hidden() -> Self {
        Self::new(false)
    }

    /// The byte counter the readers add to.
    pub fn bytes(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes)
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// A new pass over `files` files.
    pub fn stage(&self, name: &str, files: usize) {
        *self.stage.lock().expect("not poisoned") = name.to_owned();
        tracing::info!(stage = name, files, bytes_read = self.bytes_read(), "reading");
        if let Some(bar) = &self.bar {
            bar.set_prefix(name.to_owned());
            bar.set_length(files as u64);
            bar.set_position(0);
        }
    }

    /// One file of the current pass done, with its rows.
    pub fn file_done(&self, rows: u64) {
        let total = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let bytes = self.bytes_read();
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{total} rows, {}", human_bytes(bytes)));
            }
            None => {
                let stage = self.stage.lock().expect("not poisoned").clone();
                tracing::debug!(stage, rows, total_rows = total, bytes_read = bytes, "file read");
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!(rows = self.rows.load(Ordering::Relaxed), bytes_read = self.bytes_read(), "reading done");
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_as_humans_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn a_hidden_display_still_counts() {
        let p = Progress::hidden();
        p.bytes().fetch_add(10, Ordering::Relaxed);
        p.stage("scan", 2);
        p.file_done(5);
        p.file_done(7);
        assert_eq!((p.bytes_read(), p.rows.load(Ordering::Relaxed)), (10, 12));
        p.finish();
    }
}
