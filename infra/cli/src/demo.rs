//! The embedded default: the DeltaOne check on the registry snapshot shipped in `samples/`, with a
//! file-backed verdict store in a fresh temporary directory, then the drift job on the shipped
//! prediction logs, with its JSON result and HTML report written beside. No AWS, no servers.

use std::process::ExitCode;
use std::sync::Arc;

use deltaone::Policy;

use crate::error::CommandError;

use deltaone_app::check::{CheckRequest, Checker};
use deltaone_app::registry::{Registry, SnapshotRegistry};
use deltaone_app::store::file::FileVerdictStore;

pub use deltaone_app::registry::snapshot::SAMPLE_REGISTRY;
/// The sample prediction logs (reference and current window), likewise.
const SAMPLE_REFERENCE: &[u8] = include_bytes!("../../../samples/drift/reference.parquet");
const SAMPLE_CURRENT: &[u8] = include_bytes!("../../../samples/drift/current.parquet");

pub async fn run(json: bool) -> Result<ExitCode, CommandError> {
    let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY)?);
    let dir = tempfile::Builder::new().prefix("deltaone-demo-").tempdir()?.keep();
    let store = Arc::new(FileVerdictStore::new(&dir));
    let checker = Checker::new(registry.clone(), Some(store), Policy::default());
    let models = registry.model_names().await?;

    if !json {
        println!("DeltaOne check on the sample registry (samples/registry/snapshot.json), threshold 1 pp\n");
    }
    for model in models {
        let request = CheckRequest { model, version: None, dry_run: false };
        let report = checker.check(&request).await?;
        if json {
            println!("{}", serde_json::to_string(&report).expect("reports serialize"));
        } else {
            println!("{}", crate::show::headline(&report.verdict));
            println!("    {}\n", report.verdict.reason);
        }
    }
    if !json {
        let written = registry.written().len();
        println!("Verdicts recorded under {}; {written} version(s) would be tagged in MLflow.\n", dir.display());
    }

    let logs = dir.join("prediction-logs");
    std::fs::create_dir_all(&logs)?;
    let (reference, current) = (logs.join("reference.parquet"), logs.join("current.parquet"));
    std::fs::write(&reference, SAMPLE_REFERENCE)?;
    std::fs::write(&current, SAMPLE_CURRENT)?;
    let options =
        deltaone_drift::RunOptions::new(vec![reference.display().to_string()], vec![current.display().to_string()]);
    let report = deltaone_drift::run(&options)?;
    let (json_path, html_path) = deltaone_drift::write_outputs(&report, &dir.join("drift"))?;
    if json {
        println!("{}", serde_json::to_string(&report).expect("reports serialize"));
    } else {
        println!("Drift of the sample prediction logs (samples/drift/), current window vs reference:\n");
        print!("{}", deltaone_drift::summary_text(&report));
        println!("\nReport: {}\nResult: {}", html_path.display(), json_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
