//! Tracing setup: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (as Lambda sets it) or
//! `DELTAONE_LOG_FORMAT=json`, human-readable otherwise; level from `RUST_LOG`, else
//! `AWS_LAMBDA_LOG_LEVEL`, else the given default. Logs go to stderr; stdout is for results.
//! Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org): a log
//! written to a pipe or a file carries no escape codes.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;

use crate::env;

/// Something drawn on the terminal that a log line must not break (a progress bar): lines are
/// written with it lifted.
pub trait Overlay: Send + Sync {
    /// Runs `write` with the overlay cleared from the screen, then draws it again.
    fn suspend(&self, write: &mut dyn FnMut());
}

static OVERLAY: Mutex<Option<Arc<dyn Overlay>>> = Mutex::new(None);

/// Registers the overlay that log lines must not break (`None` when it is gone).
pub fn show_overlay(overlay: Option<Arc<dyn Overlay>>) {
    *OVERLAY.lock().unwrap_or_else(|e| e.into_inner()) = overlay;
}

/// Stderr, with the registered overlay lifted while a log line is written.
struct AroundOverlay;

impl Write for AroundOverlay {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // One event is one `write_all` of its formatted line.
        let overlay = OVERLAY.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match overlay {
            Some(overlay) => {
                let mut result = Ok(0);
                overlay.suspend(&mut || result = std::io::stderr().write(buf));
                result
            }
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Whether log lines may carry colour: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os(env::NO_COLOR).is_none_or(|v| v.is_empty())
}

pub fn init(default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var(env::AWS_LAMBDA_LOG_LEVEL).ok().map(|l| l.to_ascii_lowercase()))
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let json = std::env::var(env::AWS_LAMBDA_LOG_FORMAT).is_ok_and(|f| f.eq_ignore_ascii_case("json"))
        || std::env::var(env::LOG_FORMAT).is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| AroundOverlay);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = if json { builder.json().try_init() } else { builder.with_ansi(colour()).with_target(false).try_init() };
}
