//! The embedded default: the DeltaOne check on the registry snapshot shipped in `samples/`, with a
//! file-backed verdict store in a fresh temporary directory. No AWS, no servers.

use std::process::ExitCode;
use std::sync::Arc;

use deltaone::Policy;

use crate::check::{CheckRequest, Checker};
use crate::registry::{Registry, SnapshotRegistry};
use crate::store::file::FileVerdictStore;

/// The sample registry, compiled in so that the demo runs from anywhere.
pub const SAMPLE_REGISTRY: &str = include_str!("../../samples/registry/snapshot.json");

pub async fn run(json: bool) -> Result<ExitCode, String> {
    let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY).map_err(|e| e.to_string())?);
    let dir = tempfile::Builder::new().prefix("deltaone-demo-").tempdir().map_err(|e| e.to_string())?.keep();
    let store = Arc::new(FileVerdictStore::new(&dir));
    let checker = Checker::new(registry.clone(), Some(store), Policy::default());
    let models = registry.model_names().await.map_err(|e| e.to_string())?;

    if !json {
        println!("DeltaOne check on the sample registry (samples/registry/snapshot.json), threshold 1 pp\n");
    }
    for model in models {
        let request = CheckRequest { model, version: None, dry_run: false };
        let report = checker.check(&request).await.map_err(|e| e.to_string())?;
        if json {
            println!("{}", serde_json::to_string(&report).expect("reports serialize"));
        } else {
            println!("{}", crate::cli::headline(&report.verdict));
            println!("    {}\n", report.verdict.reason);
        }
    }
    if !json {
        let written = registry.written().len();
        println!("Verdicts recorded under {}; {written} version(s) would be tagged in MLflow.", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
