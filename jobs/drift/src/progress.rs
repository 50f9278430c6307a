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
            let style = ProgressStyle::with_template("{prefix:>18} [{bar:28}] {pos}/{len} file reads  {msg}")
                .expect("a valid template")
                .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Self::with_bar(bar)
    }

    /// A display through `bar`, which log lines then wait for (see [`deltaone_app::telemetry::show_overlay`]).
    fn with_bar(bar: Option<ProgressBar>) -> Self {
        if let Some(bar) = &bar {
            deltaone_app::telemetry::show_overlay(Some(Arc::new(BarOverlay(bar.clone()))));
        }
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

    /// `files` steps of the current pass done, with `rows` rows: a file read (its rows counted in
    /// the last pass that reads it, 0 in the others), or a file left out of every pass.
    pub fn files_done(&self, files: u64, rows: u64) {
        let total = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let bytes = self.bytes_read();
        match &self.bar {
            Some(bar) => {
                bar.inc(files);
                bar.set_message(format!("{total} rows, {}", human_bytes(bytes)));
            }
            None => {
                let stage = self.stage.lock().expect("not poisoned").clone();
                tracing::debug!(stage, files, rows, total_rows = total, bytes_read = bytes, "file read");
            }
        }
    }

    /// Files done in the current pass, when a bar is shown.
    #[cfg(test)]
    fn position(&self) -> Option<u64> {
        self.bar.as_ref().map(ProgressBar::position)
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!(rows = self.rows.load(Ordering::Relaxed), bytes_read = self.bytes_read(), "reading done");
    }
}

impl Drop for Progress {
    /// Log lines no longer wait for the bar, also when the run ends in an error.
    fn drop(&mut self) {
        if self.bar.is_some() {
            deltaone_app::telemetry::show_overlay(None);
        }
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

/// A progress bar as the overlay log lines lift (`deltaone_app::telemetry`); the CLI's bars too.
pub struct BarOverlay(pub ProgressBar);

impl deltaone_app::telemetry::Overlay for BarOverlay {
    fn suspend(&self, write: &mut dyn FnMut()) {
        self.0.suspend(write);
    }
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
        p.files_done(1, 5);
        p.files_done(1, 7);
        assert_eq!((p.bytes_read(), p.rows.load(Ordering::Relaxed)), (10, 12));
        p.finish();
    }

    #[test]
    fn every_step_moves_the_bar_and_only_counted_rows_add_up() {
        let p = Progress::with_bar(Some(ProgressBar::hidden()));
        p.stage("scan", 6);
        p.files_done(1, 0); // a file read in the categorical pass
        p.files_done(1, 5); // the same file in the last pass, with its rows
        p.files_done(2, 0); // a file left out of both passes
        assert_eq!(p.position(), Some(4));
        assert_eq!(p.rows.load(Ordering::Relaxed), 5);
        p.stage("numeric columns", 2);
        assert_eq!(p.position(), Some(0));
    }
}
