//! A DeltaOne check end to end: read the registry, apply the rule, record the verdict once, write
//! the result back to the registry.
//!
//! Order matters for "exactly once, nothing lost": the verdict is first recorded with a conditional
//! write (one record per model and version, however many checks race), then written back to the
//! registry *from the stored record*, then marked written back. A check that finds a record whose
//! write-back never completed (a crash in between) finishes it with the stored values, so tags
//! always agree with the record.

use std::sync::Arc;

use deltaone::{BaselineSource, Policy, Tags, Verdict, VersionNumber, judge, select};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::mlflow::MlflowError;
use crate::registry::{Registry, RegistryError, WriteBack};
use crate::store::{Recorded, StoreError, VerdictRecord, VerdictStore};

/// What a check was asked to do.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub model: String,
    /// The candidate; the newest version when `None`.
    pub version: Option<VersionNumber>,
    /// Decide only: no record, no write-back.
    pub dry_run: bool,
}

/// What happened to the verdict after it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// `--dry-run`: nothing recorded or written.
    DryRun,
    /// No candidate version: there is nothing to key a record on.
    NotStored,
    /// This check recorded the verdict.
    New,
    /// An earlier check of the same version had recorded it; that verdict is reported.
    Existing,
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub checked_at: String,
    pub stored: Stored,
    /// Whether this check wrote tags and metrics to the registry.
    pub wrote_back: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "no verdict store is configured: set DELTAONE_VERDICT_TABLE (DynamoDB) or DELTAONE_STORE_DIR (local files), or check with --dry-run"
    )]
    NoStore,
}

impl CheckError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Registry(e) => e.is_retryable(),
            Self::Store(e) => e.is_retryable(),
            Self::NoStore => false,
        }
    }
}

/// Runs checks against one registry and (optionally) one store. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    registry: Arc<dyn Registry>,
    store: Option<Arc<dyn VerdictStore>>,
    policy: Policy,
}

pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("UTC timestamps always format")
}

impl Checker {
    pub fn new(registry: Arc<dyn Registry>, store: Option<Arc<dyn VerdictStore>>, policy: Policy) -> Self {
        Self { registry, store, policy }
    }

    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    pub fn store(&self) -> Option<&Arc<dyn VerdictStore>> {
        self.store.as_ref()
    }

    /// Decides the verdict without side effects.
    pub async fn decide(&self, model: &str, version: Option<VersionNumber>) -> Result<Verdict, CheckError> {
        Ok(self.decide_with_run(model, version).await?.0)
    }

    /// The verdict and the candidate's run id.
    async fn decide_with_run(
        &self,
        model: &str,
        version: Option<VersionNumber>,
    ) -> Result<(Verdict, Option<String>), CheckError> {
        let versions = self.registry.versions_for_check(model, version).await?;
        let mut selection = select(model, &versions, version);

        let fetch_candidate = selection.candidate.as_ref().and_then(|c| c.run_id.clone());
        let fetch_baseline = match &selection.baseline {
            Some((b, BaselineSource::FirstVersion)) => b.run_id.clone(),
            _ => None,
        };
        let (candidate_metrics, baseline_metrics) =
            futures::try_join!(self.metrics_of(fetch_candidate), self.metrics_of(fetch_baseline))?;
        if let Some(c) = selection.candidate.as_mut() {
            c.run_metrics = candidate_metrics;
        }
        if let Some((b, _)) = selection.baseline.as_mut() {
            b.run_metrics = baseline_metrics;
        }
        let model_tags =
            if selection.needs_model_tags() { self.registry.model_tags(model).await? } else { Tags::new() };
        let run_id = selection.candidate.as_ref().and_then(|c| c.run_id.clone());
        Ok((judge(&selection, &model_tags, &self.policy), run_id))
    }

    async fn metrics_of(&self, run_id: Option<String>) -> Result<Option<deltaone::Metrics>, CheckError> {
        let Some(run_id) = run_id else { return Ok(None) };
        match self.registry.run_metrics(&run_id).await {
            Ok(metrics) => Ok(Some(metrics)),
            // A deleted run: the rule falls back to version tags and says so if those are missing too.
            Err(RegistryError::Mlflow(MlflowError::NotFound { .. })) => {
                tracing::warn!(run_id, "the version's run no longer exists");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Decides, records once, and writes back.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckReport, CheckError> {
        let store = match (&self.store, request.dry_run) {
            (_, true) => None,
            (Some(store), false) => Some(store),
            (None, false) => return Err(CheckError::NoStore),
        };
        let (verdict, run_id) = self.decide_with_run(&request.model, request.version).await?;
        let checked_at = now_rfc3339();
        let Some(store) = store else {
            return Ok(CheckReport { verdict, checked_at, stored: Stored::DryRun, wrote_back: false });
        };
        let Some(version) = verdict.candidate_version else {
            return Ok(CheckReport { verdict, checked_at, stored: Stored::NotStored, wrote_back: false });
        };
        let record = VerdictRecord {
            model: request.model.clone(),
            version,
            checked_at,
            run_id,
            written_back: !verdict.outcome.is_comparison(),
            verdict,
        };
        let (record, stored) = match store.record(&record).await? {
            Recorded::New => (record, Stored::New),
            Recorded::Existing(existing) => (*existing, Stored::Existing),
        };
        let wrote_back = if record.written_back {
            false
        } else {
            self.write_back(store.as_ref(), &record).await?;
            true
        };
        tracing::info!(
            model = %record.model, version = %record.version, outcome = %record.verdict.outcome,
            stored = ?stored, wrote_back, "DeltaOne check"
        );
        Ok(CheckReport { verdict: record.verdict, checked_at: record.checked_at, stored, wrote_back })
    }

    async fn write_back(&self, store: &dyn VerdictStore, record: &VerdictRecord) -> Result<(), CheckError> {
        let verdict = &record.verdict;
        let (Some(delta), Some(baseline)) = (verdict.delta_pp, verdict.baseline_version) else {
            return Ok(());
        };
        let write = WriteBack {
            model: record.model.clone(),
            version: record.version,
            run_id: record.run_id.clone(),
            achieved: verdict.achieved(),
            delta_pp: delta.normalize().to_string(),
            baseline_version: baseline,
            checked_at: record.checked_at.clone(),
        };
        self.registry.write_back(&write).await?;
        store.mark_written_back(&record.model, record.version).await?;
        Ok(())
    }
}
