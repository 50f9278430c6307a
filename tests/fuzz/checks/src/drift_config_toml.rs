//! The drift job's TOML configuration (`deltaone_drift::JobConfig::parse`).

use std::path::Path;

use deltaone_drift::{DriftJobError, JobConfig, RunOptions};

use crate::support::{rejected, text};

/// The bytes as `drift.toml`:
///
/// * the configuration is read and validated, or refused naming the file and the key at fault;
/// * a configuration that is read applies to the run's options.
pub fn drift_config_toml(data: &[u8]) {
    let text = text(data);
    match JobConfig::parse(&text, Path::new("drift.toml")) {
        Ok(config) => {
            let options = RunOptions::new(vec!["r.parquet".into()], vec!["c.parquet".into()]).with_config(&config);
            assert_eq!(options.columns, config.columns);
        }
        Err(e) => {
            rejected("drift_config_toml", &e, &["configuration drift.toml: key `"]);
            match &e {
                DriftJobError::Config { key, .. } => assert!(!key.trim().is_empty(), "an error that names no key: {e}"),
                other => panic!("a configuration refused with another kind of error: {other}"),
            }
        }
    }
}
