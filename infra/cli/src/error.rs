//! Why a command failed. [`run`](crate::run) prints it as `error: …` and exits 1; below it every
//! function keeps the failure as a type, the underlying error as its source.

use std::path::PathBuf;

use deltaone::attestation::KeyError;
use deltaone_app::check::CheckError;
use deltaone_app::deadletter::DeadLetterError;
use deltaone_app::query::QueryError;
use deltaone_app::registry::RegistryError;
use deltaone_app::schedule::SchedulesFileError;
use deltaone_app::store::StoreError;
use deltaone_drift::DriftJobError;
use deltaone_wiring::WiringError;

use deltaone_app::env;

/// A `--models-file` that cannot be read or names no models.
#[derive(Debug, thiserror::Error)]
pub enum ModelsFileError {
    #[error("cannot read models file {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("models file {} names no models", path.display())]
    Empty { path: PathBuf },
}

/// A command that reads verdicts, run without the DynamoDB verdict table.
#[derive(Debug, thiserror::Error)]
#[error("this command reads the DynamoDB verdict table: set {} (--verdict-table)", env::VERDICT_TABLE)]
pub struct NoVerdictTable;

/// Why a command failed. The variants that wrap another layer's error say what it says.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Wiring(#[from] WiringError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    NoVerdictTable(#[from] NoVerdictTable),
    #[error(transparent)]
    DeadLetters(#[from] DeadLetterError),
    #[error(transparent)]
    Schedules(#[from] SchedulesFileError),
    #[error(transparent)]
    ModelsFile(#[from] ModelsFileError),
    #[error(transparent)]
    Drift(#[from] DriftJobError),
    #[error(transparent)]
    Webhooks(#[from] deltaone_webhooks::delivery::ClientError),
    #[error("no dead-letter queue: pass --from or set DELTAONE_DEAD_LETTER_QUEUE_URL")]
    NoDeadLetterQueue,
    #[error("no verdict store is configured: set DELTAONE_VERDICT_TABLE or DELTAONE_STORE_DIR")]
    NoStoreConfigured,
    #[error("no signing key: set DELTAONE_ATTESTATION_KEY")]
    NoSigningKey,
    #[error("--public-key: {0}")]
    PublicKey(#[source] KeyError),
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not JSON: {source}", path.display())]
    NotJson { path: PathBuf, source: serde_json::Error },
    #[error("{} holds no signed statement (nor a record or message carrying one)", path.display())]
    NoStatement { path: PathBuf },
    #[error("{}: not a DeltaOne signed statement: {source}", path.display())]
    NotAStatement { path: PathBuf, source: serde_json::Error },
    /// The demo's own files, in its temporary directory.
    #[error(transparent)]
    DemoFiles(#[from] std::io::Error),
}
