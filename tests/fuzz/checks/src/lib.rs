//! What must hold for every parser of untrusted input, one check per fuzz target.
//!
//! Each `pub fn <target>(data: &[u8])` hands the bytes to the real parser (never a copy of it) and
//! asserts what must hold whatever the bytes are: no panic; a rejected input is a typed error whose
//! text is not empty and names what was wrong; where the format is ours, a round trip (encode what was
//! decoded, decode it again, get the same value). A failed assertion is a panic, which is what the
//! fuzzer reports; bounded allocation is the fuzzer's `-malloc_limit_mb`.
//!
//! The same functions run three ways: under `cargo fuzz` (`tests/fuzz/fuzz_targets/<target>.rs`, one
//! line each), over the corpora and the regressions by `tests/replay.rs` (the test command), and from
//! the unit tests beside the parsers, which keep each finding's input.

pub mod attestation;
pub mod drift_config_toml;
pub mod drift_manifest;
pub mod drift_parquet;
pub mod metrics_artifact;
pub mod mlflow_webhook;
pub mod predictions_parquet;
pub mod query_request;
pub mod s3_event;
pub mod settings_toml;
pub mod shard_partial;
pub mod support;
pub mod webhook_config;
pub mod webhook_signature;

pub use attestation::attestation;
pub use drift_config_toml::drift_config_toml;
pub use drift_manifest::drift_manifest;
pub use drift_parquet::drift_parquet;
pub use metrics_artifact::metrics_artifact;
pub use mlflow_webhook::mlflow_webhook;
pub use predictions_parquet::predictions_parquet;
pub use query_request::query_request;
pub use s3_event::s3_event;
pub use settings_toml::settings_toml;
pub use shard_partial::shard_partial;
pub use webhook_config::webhook_config;
pub use webhook_signature::webhook_signature;

/// A check: feeds one input to a parser and panics when something that must hold does not.
pub type Check = fn(&[u8]);

/// Every fuzz target by name, as `tests/fuzz/fuzz_targets/` and the corpus directories name them.
pub const TARGETS: [(&str, Check); 13] = [
    ("attestation", attestation::attestation),
    ("drift_config_toml", drift_config_toml::drift_config_toml),
    ("drift_manifest", drift_manifest::drift_manifest),
    ("drift_parquet", drift_parquet::drift_parquet),
    ("metrics_artifact", metrics_artifact::metrics_artifact),
    ("mlflow_webhook", mlflow_webhook::mlflow_webhook),
    ("predictions_parquet", predictions_parquet::predictions_parquet),
    ("query_request", query_request::query_request),
    ("s3_event", s3_event::s3_event),
    ("settings_toml", settings_toml::settings_toml),
    ("shard_partial", shard_partial::shard_partial),
    ("webhook_config", webhook_config::webhook_config),
    ("webhook_signature", webhook_signature::webhook_signature),
];
