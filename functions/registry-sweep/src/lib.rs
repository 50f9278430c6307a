//! The registry sweep function: fired by a schedule, it checks every version of the watched models
//! created since the last sweep that has no verdict, because its webhook event was lost (MLflow tries
//! three times within seconds and keeps nothing). A lost event then delays a verdict by at most the
//! schedule's interval. The use case is `deltaone_app::sweep`; this crate wires it and reports.
//!
//! Each run prints one Embedded Metric Format line (namespace `DeltaOne`, dimension `Function`):
//! `ReconciledVersions`, `SweptModels`, `FailedModels`, `ParkedVersions`, `SweepDuration`. A run in
//! which a model's sweep stopped early (MLflow or DynamoDB unavailable) fails, so Lambda's `Errors`
//! metric and its alarm see it; what was settled before the failure stays settled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deltaone_app::emf::{self, Unit};
use deltaone_app::env;
pub use deltaone_app::startup::StartupError;
use deltaone_app::sweep::{Sweep, SweepReport, SweepSettings, Watermarks};
use lambda_runtime::Diagnostic;
use serde_json::Value;

pub const FUNCTION: &str = "registry-sweep";

/// Why a sweep run failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepFailure {
    #[error("cannot list the registry's models: {0}")]
    Models(#[from] deltaone_app::registry::RegistryError),
    #[error(
        "the sweep of {count} model(s) stopped early ({models}); settled versions are kept, the next sweep resumes"
    )]
    Stopped { count: usize, models: String },
}

impl From<SweepFailure> for Diagnostic {
    fn from(e: SweepFailure) -> Self {
        let error_type = match e {
            SweepFailure::Models(_) => "RegistryUnavailable",
            SweepFailure::Stopped { .. } => "SweepStopped",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

/// The clock, in epoch milliseconds (a function, so tests can move time).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The function: the sweep and its clock.
pub struct RegistrySweep {
    pub sweep: Sweep,
    pub clock: Clock,
}

impl RegistrySweep {
    /// Runs one sweep (whatever the event: a schedule's, or a manual invocation) and answers with
    /// its report.
    pub async fn handle(&self, _event: Value) -> Result<Value, SweepFailure> {
        let started = Instant::now();
        let report = self.sweep.run((self.clock)()).await;
        let elapsed = started.elapsed();
        emf::emit(&match &report {
            Ok(report) => metrics(report, elapsed),
            Err(_) => emf::Record::new(emf::NAMESPACE).dimension("Function", FUNCTION).metric(
                "FailedModels",
                1.0,
                Unit::Count,
            ),
        });
        let report = report?;
        tracing::info!(
            models = report.models.len(),
            reconciled = report.reconciled(),
            failed = report.failed().count(),
            "sweep done"
        );
        let failed: Vec<&str> = report.failed().map(|m| m.model.as_str()).collect();
        if !failed.is_empty() {
            return Err(SweepFailure::Stopped { count: failed.len(), models: failed.join(", ") });
        }
        Ok(serde_json::to_value(&report).expect("a sweep report serializes"))
    }
}

/// The run's metrics, one EMF record.
pub fn metrics(report: &SweepReport, elapsed: Duration) -> emf::Record {
    let parked: usize = report.models.iter().map(|m| m.parked).sum();
    emf::Record::new(emf::NAMESPACE)
        .dimension("Function", FUNCTION)
        .metric("ReconciledVersions", report.reconciled() as f64, Unit::Count)
        .metric("SweptModels", report.models.len() as f64, Unit::Count)
        .metric("FailedModels", report.failed().count() as f64, Unit::Count)
        .metric("ParkedVersions", parked as f64, Unit::Count)
        .metric("SweepDuration", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)
}

/// The sweep's settings from variables looked up by name (the environment, or a test's map).
pub fn settings_from(var: impl Fn(&str) -> Option<String>) -> Result<SweepSettings, StartupError> {
    let text = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let number = |name: &'static str, max: u64| -> Result<Option<u64>, StartupError> {
        let Some(value) = text(name) else { return Ok(None) };
        match value.parse::<u64>() {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(StartupError::new(name, format!("{value:?} is not a whole number in 0..={max}"))),
        }
    };
    let mut settings = SweepSettings::default();
    if let Some(list) = text(env::SWEEP_MODELS) {
        let models: Vec<String> = list.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect();
        if models.is_empty() {
            return Err(StartupError::new(env::SWEEP_MODELS, format!("{list:?} names no model")));
        }
        settings.models = Some(models);
    }
    if let Some(secs) = number(env::SWEEP_SETTLE_SECS, 24 * 3600)? {
        settings.settle = Duration::from_secs(secs);
    }
    if let Some(hours) = number(env::SWEEP_LOOKBACK_HOURS, 24 * 365)? {
        settings.lookback = Duration::from_secs(hours * 3600);
    }
    if let Some(checks) = number(env::SWEEP_MAX_CHECKS, 10_000)? {
        if checks == 0 {
            return Err(StartupError::new(env::SWEEP_MAX_CHECKS, "0 checks a sweep would never settle anything"));
        }
        settings.max_checks = checks as usize;
    }
    Ok(settings)
}

/// Wires the function from its environment: MLflow, the verdict table, the delivery table (which
/// holds the watermarks), the dead-letter queue, and the check's own settings.
pub async fn from_env() -> Result<RegistrySweep, StartupError> {
    let settings = deltaone_app::settings::SettingsArgs::from_env()?;
    let wiring = deltaone_wiring::Wiring::new(settings);
    let missing = |variable: &str, why: &str| StartupError::new(variable, format!("is not set: {why}"));
    let store = wiring
        .store()
        .await?
        .ok_or_else(|| missing(env::VERDICT_TABLE, "the sweep finds versions without a verdict there"))?;
    let delivery_table = std::env::var(env::DELIVERY_TABLE)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| missing(env::DELIVERY_TABLE, "the sweep keeps its watermarks there"))?;
    let dead_letters = wiring
        .dead_letters()
        .await
        .ok_or_else(|| missing(env::DEAD_LETTER_QUEUE_URL, "versions that can never be checked must go somewhere"))?;
    let sweep_settings = settings_from(|name| std::env::var(name).ok())?;
    let dynamodb = deltaone_aws::aws_sdk_dynamodb::Client::new(wiring.aws().await);
    let watermarks: Arc<dyn Watermarks> =
        Arc::new(deltaone_aws::watermarks::DynamoWatermarks::new(dynamodb, delivery_table));
    let sweep = Sweep {
        registry: wiring.registry()?,
        store,
        checker: wiring.checker().await?,
        watermarks,
        dead_letters: Some(dead_letters),
        settings: sweep_settings,
        source: FUNCTION.to_owned(),
    };
    Ok(RegistrySweep { sweep, clock: system_clock() })
}

#[cfg(test)]
mod tests;
