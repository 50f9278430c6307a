//! The verdict store port: one record per (model, candidate version), written at most once.
//!
//! Adapters: `DynamoVerdictStore` (production, in `deltaone-aws`) and [`file::FileVerdictStore`] (the
//! embedded default, and anyone without AWS).

#[cfg(any(test, feature = "files"))]
pub mod file;

use async_trait::async_trait;
use deltaone::{Verdict, VersionNumber};
use serde::{Deserialize, Serialize};

/// A stored verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub model: String,
    pub version: VersionNumber,
    /// When the check ran, RFC 3339 UTC.
    pub checked_at: String,
    /// The candidate version's MLflow run, where it has one (the write-back logs metrics to it).
    #[serde(default)]
    pub run_id: Option<String>,
    pub verdict: Verdict,
    /// Whether the registry write-back (tags, metrics) has completed for this record.
    #[serde(default)]
    pub written_back: bool,
    /// Whether subscribers have been notified of this record.
    #[serde(default)]
    pub notified: bool,
    /// The signed statement of a comparison verdict, when a signing key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<deltaone::attestation::SignedStatement>,
    /// Who contributed to the candidate (from the metrics artifact), kept even without an attestation
    /// so that credits and the query API can name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<deltaone::attestation::Contributor>,
    /// What the check did with the champion alias, when promotion is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<deltaone::promotion::Promotion>,
}

/// The result of a chained write (see [`VerdictStore::write_chained`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chained {
    /// The record was written and the model's chain head now names its statement.
    Written,
    /// The record's slot was not as expected (a record exists, or it changed): nothing written.
    SlotTaken,
    /// Another record joined the chain first: nothing written; link to the new head and retry.
    HeadMoved,
}

/// A follow-up step of a recorded verdict, marked done once it has succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    WrittenBack,
    Notified,
}

impl Step {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::WrittenBack => "written_back",
            Self::Notified => "notified",
        }
    }
}

/// What [`VerdictStore::record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// This call wrote the record.
    New,
    /// A record for the same (model, version) already existed; it is returned unchanged.
    Existing(Box<VerdictRecord>),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("verdict store {store}: {message}")]
    Backend { store: String, message: String, retryable: bool },
    #[error("verdict store {store} holds an unreadable record for {model} version {version}: {message}")]
    Corrupt { store: String, model: String, version: String, message: String },
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend { retryable: true, .. })
    }
}

#[async_trait]
pub trait VerdictStore: Send + Sync {
    /// Stores `record` unless a record for its (model, version) exists — atomically, so that
    /// concurrent calls for the same version make exactly one record.
    async fn record(&self, record: &VerdictRecord) -> Result<Recorded, StoreError>;

    /// Replaces the record for `record`'s (model, version) if the stored one still has
    /// `expected_checked_at`; `false` when another writer changed it first.
    async fn replace(&self, record: &VerdictRecord, expected_checked_at: &str) -> Result<bool, StoreError>;

    /// The hash of the newest attested statement of `model` (the chain head), if any.
    async fn chain_head(&self, model: &str) -> Result<Option<String>, StoreError>;

    /// Writes an attested record and advances the model's chain head to its statement's hash, as one
    /// atomic step: only if the record's slot is empty (`replacing: None`) or still holds the record
    /// checked at `replacing`, and only if the chain head is still the statement's `previous_hash`.
    async fn write_chained(&self, record: &VerdictRecord, replacing: Option<&str>) -> Result<Chained, StoreError>;

    /// Marks a follow-up step of the record as done.
    async fn mark(&self, model: &str, version: VersionNumber, step: Step) -> Result<(), StoreError>;

    async fn get(&self, model: &str, version: VersionNumber) -> Result<Option<VerdictRecord>, StoreError>;

    /// The model's verdicts, newest version first, at most `limit`.
    async fn history(&self, model: &str, limit: usize) -> Result<Vec<VerdictRecord>, StoreError>;

    /// A short description for messages ("DynamoDB table t", "directory d").
    fn describe(&self) -> String;
}
