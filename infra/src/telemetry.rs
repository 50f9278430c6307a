//! Tracing setup: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (as Lambda sets it) or
//! `DELTAONE_LOG_FORMAT=json`, human-readable otherwise; level from `RUST_LOG`, else
//! `AWS_LAMBDA_LOG_LEVEL`, else the given default. Logs go to stderr; stdout is for results.

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().map(|l| l.to_ascii_lowercase()))
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
        || std::env::var("DELTAONE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = if json { builder.json().try_init() } else { builder.with_target(false).try_init() };
}
