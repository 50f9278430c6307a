//! Tracing setup: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (as Lambda sets it) or
//! `DELTAONE_LOG_FORMAT=json`, human-readable otherwise; level from `RUST_LOG`, else
//! `AWS_LAMBDA_LOG_LEVEL`, else the given default. Logs go to stderr; stdout is for results.

use std::io::Write;
use std::sync::Mutex;

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;

/// The progress bar on screen, if any: log lines are written with the bar lifted
/// ([`ProgressBar::suspend`]), so that a line never lands in the middle of the bar.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Registers the bar that log lines must not break (`None` when it is gone).
pub fn show_bar(bar: Option<ProgressBar>) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = bar;
}

/// Stderr, with the registered progress bar lifted while a log line is written.
struct AroundBar;

impl Write for AroundBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // One event is one `write_all` of its formatted line.
        let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

pub fn init(default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().map(|l| l.to_ascii_lowercase()))
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
        || std::env::var("DELTAONE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| AroundBar);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = if json { builder.json().try_init() } else { builder.with_target(false).try_init() };
}
