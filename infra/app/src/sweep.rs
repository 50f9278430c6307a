//! Reconciliation of lost registry events. MLflow tries a webhook three times within seconds and keeps
//! nothing, so an event that arrives while the function is unavailable is gone, and that version would
//! never get a verdict. A scheduled sweep checks every version of the watched models created since the
//! last sweep that has no verdict yet: a lost event delays a verdict by at most the sweep interval.
//!
//! The exactly-once verdict record makes a sweep and a late webhook safe together: whichever records
//! first wins, the other reports the existing verdict and announces nothing.
//!
//! Progress is kept per model as a watermark, the version number up to which every version has a
//! verdict (or was parked as one that never can). It only moves forward, by a conditional write, so
//! concurrent sweeps never step it back; a version whose check failed in a way that may pass holds it
//! until a later sweep gets the verdict. A model's version numbers rise in creation order, so "above
//! the watermark" is "created since".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deltaone::VersionNumber;
use serde::Serialize;

use crate::check::{CheckError, CheckRequest, Checker, Stored};
use crate::deadletter::{DeadLetter, DeadLetters};
use crate::registry::{CreatedVersion, Registry, RegistryError};
use crate::store::{StoreError, VerdictStore};

/// Versions listed per registry request.
const PAGE: usize = 200;

/// A watermark store failure.
#[derive(Debug, thiserror::Error)]
#[error("sweep watermarks {store}: {message}")]
pub struct WatermarkError {
    pub store: String,
    pub message: String,
    pub retryable: bool,
}

/// The sweep's progress per model.
#[async_trait]
pub trait Watermarks: Send + Sync {
    /// The version up to which `model` is settled; `None` before its first sweep.
    async fn get(&self, model: &str) -> Result<Option<VersionNumber>, WatermarkError>;

    /// Moves `model`'s watermark from `from` to `to` (`to` is higher). `false`, and nothing written,
    /// when another sweep moved it first.
    async fn advance(
        &self,
        model: &str,
        from: Option<VersionNumber>,
        to: VersionNumber,
    ) -> Result<bool, WatermarkError>;

    /// A short description for messages ("DynamoDB table t").
    fn describe(&self) -> String;
}

/// Watermarks in memory: one process only (tests, local runs).
#[derive(Default)]
pub struct MemoryWatermarks(Mutex<HashMap<String, VersionNumber>>);

impl MemoryWatermarks {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Watermarks for MemoryWatermarks {
    async fn get(&self, model: &str) -> Result<Option<VersionNumber>, WatermarkError> {
        Ok(self.0.lock().expect("watermarks poisoned").get(model).copied())
    }

    async fn advance(
        &self,
        model: &str,
        from: Option<VersionNumber>,
        to: VersionNumber,
    ) -> Result<bool, WatermarkError> {
        let mut marks = self.0.lock().expect("watermarks poisoned");
        if marks.get(model).copied() != from {
            return Ok(false);
        }
        marks.insert(model.to_owned(), to);
        Ok(true)
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

/// Which models are swept and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepSettings {
    /// The models to sweep; `None`: every registered model, as the registry's webhook covers every
    /// model (the sweep gives the verdicts the lost events would have given).
    pub models: Option<Vec<String>>,
    /// Versions younger than this are left to their own event (it is probably on its way).
    pub settle: Duration,
    /// A model's first sweep checks versions created within this much of now; older versions
    /// predate DeltaOne watching the model and are not checked.
    pub lookback: Duration,
    /// Checks per model per sweep; the rest wait for the next sweep.
    pub max_checks: usize,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            models: None,
            settle: Duration::from_secs(120),
            lookback: Duration::from_secs(24 * 3600),
            max_checks: 50,
        }
    }
}

/// Why a model's sweep stopped early. The versions it did settle stay settled.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Watermark(#[from] WatermarkError),
    #[error("checking {model} version {version}: {source}")]
    Check {
        model: String,
        version: VersionNumber,
        #[source]
        source: CheckError,
    },
    #[error("parking {model} version {version}: {message}")]
    DeadLetter { model: String, version: VersionNumber, message: String },
}

/// What one model's sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelSweep {
    pub model: String,
    /// Versions looked at.
    pub examined: usize,
    /// Versions that had a verdict already (their event was not lost).
    pub had_verdict: usize,
    /// Versions without a verdict that this sweep checked and recorded: lost events, reconciled.
    pub reconciled: usize,
    /// Versions whose verdict another check recorded while this sweep was checking them.
    pub raced: usize,
    /// Versions that can never get a verdict (gone from the registry, say), parked with the reason.
    pub parked: usize,
    /// Versions a first sweep passed over: created before the lookback.
    pub before_lookback: usize,
    /// Versions too young to sweep, or left for the next sweep by the check budget.
    pub deferred: usize,
    pub watermark_before: Option<VersionNumber>,
    pub watermark_after: Option<VersionNumber>,
    /// Why the sweep of this model stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a sweep did, per model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub models: Vec<ModelSweep>,
}

impl SweepReport {
    /// Versions reconciled over every model: the sweep's metric.
    pub fn reconciled(&self) -> usize {
        self.models.iter().map(|m| m.reconciled).sum()
    }

    /// The models whose sweep stopped early.
    pub fn failed(&self) -> impl Iterator<Item = &ModelSweep> {
        self.models.iter().filter(|m| m.error.is_some())
    }
}

/// The sweep: a registry to list versions, the verdict store to tell which have verdicts, a checker
/// that records them exactly once, the watermarks, and somewhere to park what can never be checked.
pub struct Sweep {
    pub registry: Arc<dyn Registry>,
    pub store: Arc<dyn VerdictStore>,
    pub checker: Checker,
    pub watermarks: Arc<dyn Watermarks>,
    pub dead_letters: Option<Arc<dyn DeadLetters>>,
    pub settings: SweepSettings,
    /// The name dead letters carry as their source.
    pub source: String,
}

impl Sweep {
    /// Sweeps every watched model at `now_ms` (milliseconds since the epoch). A model whose sweep
    /// fails is reported and the others still run; only listing the models can fail the whole sweep.
    pub async fn run(&self, now_ms: i64) -> Result<SweepReport, RegistryError> {
        let mut report = SweepReport::default();
        for model in self.watched().await? {
            let mut swept = ModelSweep { model: model.clone(), ..ModelSweep::default() };
            if let Err(e) = self.sweep_model(&model, now_ms, &mut swept).await {
                tracing::error!(model, error = %e, "sweep of the model stopped early");
                swept.error = Some(e.to_string());
            }
            report.models.push(swept);
        }
        Ok(report)
    }

    async fn watched(&self) -> Result<Vec<String>, RegistryError> {
        match &self.settings.models {
            Some(models) => Ok(models.clone()),
            None => self.registry.model_names().await,
        }
    }

    async fn sweep_model(&self, model: &str, now_ms: i64, swept: &mut ModelSweep) -> Result<(), SweepError> {
        let start = self.watermarks.get(model).await?;
        swept.watermark_before = start;
        let mut mark = start;
        let result = self.settle_versions(model, now_ms, start.is_none(), &mut mark, swept).await;
        // Whatever stopped the sweep, the versions settled before it stay settled.
        if let Some(to) = mark
            && mark != start
            && !self.watermarks.advance(model, start, to).await?
        {
            tracing::info!(model, "another sweep moved the watermark first");
        }
        swept.watermark_after = mark;
        result
    }

    /// Walks the versions above the watermark, oldest first, moving `mark` over each settled one.
    async fn settle_versions(
        &self,
        model: &str,
        now_ms: i64,
        first_sweep: bool,
        mark: &mut Option<VersionNumber>,
        swept: &mut ModelSweep,
    ) -> Result<(), SweepError> {
        let age_ms = |v: &CreatedVersion| v.created_ms.map(|created| now_ms.saturating_sub(created));
        let settle_ms = millis(self.settings.settle);
        let lookback_ms = millis(self.settings.lookback);
        let mut checks = 0usize;
        loop {
            let page = self.registry.versions_after(model, *mark, PAGE).await?;
            let full = page.len() == PAGE;
            for (index, created) in page.iter().enumerate() {
                let age = age_ms(created);
                if age.is_some_and(|age| age < settle_ms) || checks == self.settings.max_checks {
                    // The rest waits for a later sweep: too young, or over the budget.
                    swept.deferred += page.len() - index;
                    return Ok(());
                }
                swept.examined += 1;
                let version = created.version;
                if first_sweep && age.is_some_and(|age| age > lookback_ms) {
                    swept.before_lookback += 1;
                } else if self.store.get(model, version).await?.is_some() {
                    swept.had_verdict += 1;
                } else {
                    checks += 1;
                    self.reconcile(model, version, swept).await?;
                }
                *mark = Some(version);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Checks one version without a verdict: recorded (reconciled), recorded meanwhile by another
    /// check (raced), or parked when it never can be. A failure that may pass stops the model.
    async fn reconcile(&self, model: &str, version: VersionNumber, swept: &mut ModelSweep) -> Result<(), SweepError> {
        let request = CheckRequest { model: model.to_owned(), version: Some(version), dry_run: false };
        let (error_type, failure) = match self.checker.check(&request).await {
            Ok(report) => match report.stored {
                Stored::New | Stored::Replaced => {
                    tracing::info!(model, version = %version, outcome = %report.verdict.outcome, "reconciled");
                    swept.reconciled += 1;
                    return Ok(());
                }
                Stored::Existing => {
                    swept.raced += 1;
                    return Ok(());
                }
                Stored::NotStored | Stored::DryRun => (
                    "UnknownModelVersion",
                    format!("{model} version {version} is no longer in the registry: nothing to record"),
                ),
            },
            Err(source) if source.is_retryable() => {
                return Err(SweepError::Check { model: model.to_owned(), version, source });
            }
            Err(e @ CheckError::Registry(RegistryError::UnknownModel(_) | RegistryError::UnknownVersion { .. })) => {
                ("UnknownModelVersion", e.to_string())
            }
            // Retrying gives the same answer: holding the watermark would stop the model's sweeps.
            Err(e) => ("Permanent", e.to_string()),
        };
        tracing::error!(model, version = %version, reason = failure, "cannot be checked; parking");
        if let Some(dead_letters) = &self.dead_letters {
            let letter = DeadLetter {
                source: self.source.clone(),
                error_type: error_type.to_owned(),
                reason: failure,
                failed_at: crate::check::now_rfc3339(),
                original: serde_json::json!({"model": model, "version": version}),
            };
            dead_letters.park(&letter).await.map_err(|e| SweepError::DeadLetter {
                model: model.to_owned(),
                version,
                message: e.to_string(),
            })?;
        }
        swept.parked += 1;
        Ok(())
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
