//! The S3 evaluation function: an evaluation artifact lands in S3 → its metrics are logged to the
//! model version's MLflow run → the DeltaOne check runs, records its verdict once, writes back and
//! notifies.
//!
//! Delivery: S3 events arrive directly, through SNS, or through SQS. Through SQS, each message
//! succeeds or fails on its own (`batchItemFailures`), so one bad upload never holds back the rest.
//! Failures that may pass (MLflow or AWS unavailable) are retried by the platform; failures that will
//! not (a malformed event, an unknown model, a corrupt artifact) are parked in the dead-letter queue
//! with the original delivery and the reason, and a corrupt artifact is also copied under the
//! quarantine prefix with a reason file. Nothing is dropped.

use std::collections::BTreeMap;
use std::sync::Arc;

use deltaone::attestation::Contributor;
use deltaone_app::artifact::{self, ArtifactError, ArtifactKind, KeyTemplate, MetricsArtifact};
use deltaone_app::check::{CheckError, CheckReport, CheckRequest, Checker, Evidence};
use deltaone_app::deadletter::{DeadLetter, DeadLetters};
use deltaone_app::env;
use deltaone_app::objects::{ObjectError, ObjectStore};
use deltaone_app::paired::PREDICTIONS_URI;
use deltaone_app::registry::{Registry, RegistryError};
use deltaone_app::s3event::{self, CreatedObject, Delivery};
pub use deltaone_app::startup::StartupError;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

pub const FUNCTION: &str = "evaluation";

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error(transparent)]
    MalformedEvent(#[from] s3event::MalformedEvent),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error(transparent)]
    Object(#[from] ObjectError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("{0}")]
    DeadLetter(String),
}

impl EvaluationError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::MalformedEvent(_) | Self::Artifact(_) => false,
            Self::Object(e) => e.is_retryable(),
            Self::Registry(e) => e.is_retryable(),
            Self::Check(e) => e.is_retryable(),
            Self::DeadLetter(_) => true,
        }
    }

    /// The error type Lambda reports (and destinations and alarms act on).
    pub fn error_type(&self) -> &'static str {
        if self.is_retryable() {
            return "Retryable";
        }
        match self {
            Self::MalformedEvent(_) => "MalformedEvent",
            Self::Artifact(_) => "InvalidArtifact",
            Self::Object(ObjectError::NotFound { .. }) => "ObjectGone",
            Self::Registry(RegistryError::UnknownModel(_) | RegistryError::UnknownVersion { .. }) => {
                "UnknownModelVersion"
            }
            _ => "Permanent",
        }
    }
}

impl From<EvaluationError> for Diagnostic {
    fn from(e: EvaluationError) -> Self {
        Diagnostic { error_type: e.error_type().to_owned(), error_message: e.to_string() }
    }
}

/// Everything the handler needs, built once per cold start.
pub struct Evaluation {
    pub objects: Arc<dyn ObjectStore>,
    pub registry: Arc<dyn Registry>,
    pub checker: Checker,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub template: KeyTemplate,
    /// Where corrupt artifacts are copied, in the same bucket (default `quarantine/`).
    pub quarantine_prefix: String,
}

/// What one object produced.
#[derive(Debug)]
pub struct Evaluated {
    pub object: CreatedObject,
    pub metrics: BTreeMap<String, f64>,
    pub report: CheckReport,
}

impl Evaluation {
    /// Handles a Lambda event. Through SQS the answer lists the messages to retry; otherwise an
    /// error makes Lambda retry the whole event.
    pub async fn handle(&self, event: Value) -> Result<Value, EvaluationError> {
        let deliveries = match s3event::parse(&event) {
            Ok(d) => d,
            Err(e) => {
                let error = EvaluationError::MalformedEvent(e);
                self.park(&event, &error).await?;
                return Ok(json!({"parked": 1}));
            }
        };
        let mut failures = Vec::new();
        let (mut evaluated, mut parked) = (0usize, 0usize);
        for delivery in &deliveries {
            match self.process(delivery).await {
                Ok(done) => evaluated += done.len(),
                Err(e) if e.is_retryable() => {
                    tracing::warn!(error = %e, message_id = ?delivery.message_id, "evaluation failed; will be retried");
                    match &delivery.message_id {
                        Some(id) => failures.push(json!({"itemIdentifier": id})),
                        None => return Err(e),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, error_type = e.error_type(), "evaluation failed for good; parking");
                    self.park(&delivery.original, &e).await?;
                    parked += 1;
                }
            }
        }
        if deliveries.iter().any(|d| d.message_id.is_some()) {
            return Ok(json!({"batchItemFailures": failures}));
        }
        Ok(json!({"evaluated": evaluated, "parked": parked}))
    }

    /// Evaluates every object of one delivery.
    pub async fn process(&self, delivery: &Delivery) -> Result<Vec<Evaluated>, EvaluationError> {
        let mut done = Vec::new();
        for object in &delivery.objects {
            if object.key.starts_with(&self.quarantine_prefix) {
                tracing::info!(key = object.key, "ignoring an object under the quarantine prefix");
                continue;
            }
            done.push(self.evaluate(object).await?);
        }
        Ok(done)
    }

    async fn evaluate(&self, object: &CreatedObject) -> Result<Evaluated, EvaluationError> {
        let started = std::time::Instant::now();
        let fetched = self.objects.get(&object.bucket, &object.key).await?;
        let artifact_hash = deltaone::attestation::sha256_hex(&fetched.bytes);
        let (target, metrics, contributors) =
            match read_artifact(object, &fetched.metadata, fetched.bytes, &self.template) {
                Ok(read) => read,
                Err(e) => {
                    self.quarantine(object, &e).await?;
                    return Err(e.into());
                }
            };
        self.registry.log_evaluation(&target.model, target.version, &metrics).await?;
        if target.kind == ArtifactKind::Predictions {
            // Later checks pair these rows with another version's for the delta's confidence interval.
            let uri = format!("s3://{}/{}", object.bucket, object.key);
            self.registry.set_version_tag(&target.model, target.version, PREDICTIONS_URI, &uri).await?;
        }
        let request = CheckRequest { model: target.model.clone(), version: Some(target.version), dry_run: false };
        let evidence = Evidence {
            contributors,
            input_hashes: BTreeMap::from([(format!("s3://{}/{}", object.bucket, object.key), artifact_hash)]),
        };
        let report = self.checker.check_with_evidence(&request, evidence).await?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        deltaone_app::emf::emit(&deltaone_app::emf::check_record(FUNCTION, &report, &target.model, elapsed_ms));
        tracing::info!(
            bucket = object.bucket, key = object.key, model = target.model, version = %target.version,
            outcome = %report.verdict.outcome, stored = ?report.stored, "evaluated"
        );
        Ok(Evaluated { object: object.clone(), metrics, report })
    }

    /// Copies a bad artifact under the quarantine prefix, with a reason file beside it.
    async fn quarantine(&self, object: &CreatedObject, error: &ArtifactError) -> Result<(), EvaluationError> {
        let to = format!("{}{}", self.quarantine_prefix, object.key);
        self.objects.copy(&object.bucket, &object.key, &to).await?;
        let reason = json!({
            "source": {"bucket": object.bucket, "key": object.key},
            "reason": error.to_string(),
            "quarantined_at": deltaone_app::check::now_rfc3339(),
            "function": FUNCTION,
        });
        let bytes = serde_json::to_vec_pretty(&reason).expect("reasons serialize");
        self.objects.put(&object.bucket, &format!("{to}.reason.json"), bytes, "application/json").await?;
        Ok(())
    }

    async fn park(&self, original: &Value, error: &EvaluationError) -> Result<(), EvaluationError> {
        let letter = DeadLetter {
            source: FUNCTION.to_owned(),
            error_type: error.error_type().to_owned(),
            reason: error.to_string(),
            failed_at: deltaone_app::check::now_rfc3339(),
            original: original.clone(),
        };
        self.dead_letters.park(&letter).await.map_err(|e| EvaluationError::DeadLetter(e.to_string()))
    }
}

/// What an artifact says: where it belongs, its metrics, and the contributors it credits.
pub type ReadArtifact = (artifact::ArtifactTarget, BTreeMap<String, f64>, Vec<Contributor>);

/// Routes and reads an artifact into metrics and the contributors it credits.
pub fn read_artifact(
    object: &CreatedObject,
    metadata: &BTreeMap<String, String>,
    bytes: bytes::Bytes,
    template: &KeyTemplate,
) -> Result<ReadArtifact, ArtifactError> {
    let target = artifact::route(&object.key, metadata, template)?;
    let (metrics, contributors) = match target.kind {
        ArtifactKind::MetricsJson => {
            let artifact = MetricsArtifact::parse(&object.key, &bytes)?;
            let contributors = artifact.all_contributors().iter().filter_map(contributor).collect();
            (artifact.metrics, contributors)
        }
        ArtifactKind::Predictions => (deltaone_predictions::metrics_from_parquet(&object.key, bytes)?, Vec::new()),
    };
    Ok((target, metrics, contributors))
}

/// A contributor from the metrics JSON: `{"id" | "address" | "email": …, "name"?: …, "share"?: …}`,
/// or a bare string id. Entries without an identity are skipped.
fn contributor(value: &Value) -> Option<Contributor> {
    if let Some(id) = value.as_str() {
        return Some(Contributor::new(id));
    }
    let id = ["id", "address", "email"].iter().find_map(|k| value.get(*k).and_then(Value::as_str))?;
    let mut c = Contributor::new(id);
    if let Some(name) = value.get("name").and_then(Value::as_str) {
        c = c.with_name(name);
    }
    let share =
        value.get("share").and_then(|s| s.as_str().map(str::to_owned).or_else(|| s.as_f64().map(|f| f.to_string())));
    if let Some(share) = share.and_then(|s| s.parse().ok()) {
        c = c.with_share(share);
    }
    Some(c)
}

/// Wires the function from its environment (see the README's function settings).
pub async fn from_env() -> Result<Evaluation, StartupError> {
    let settings = deltaone_app::settings::SettingsArgs::from_env()?;
    let wiring = deltaone_wiring::Wiring::new(settings);
    if wiring.settings.store.is_none() {
        return Err(StartupError::new(
            env::VERDICT_TABLE,
            "is not set: the evaluation function records verdicts in DynamoDB",
        ));
    }
    let dead_letters = wiring.dead_letters().await.ok_or_else(|| {
        StartupError::new(env::DEAD_LETTER_QUEUE_URL, "is not set: failed events must have somewhere to go")
    })?;
    let template = match std::env::var(env::KEY_TEMPLATE) {
        Ok(text) if !text.trim().is_empty() => {
            text.parse::<KeyTemplate>().map_err(|e| StartupError::new(env::KEY_TEMPLATE, e.to_string()))?
        }
        _ => KeyTemplate::default(),
    };
    let quarantine_prefix = std::env::var(env::QUARANTINE_PREFIX)
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "quarantine/".to_owned());
    Ok(Evaluation {
        objects: wiring.objects().await,
        registry: wiring.registry()?,
        checker: wiring.checker().await?,
        dead_letters,
        template,
        quarantine_prefix,
    })
}

#[cfg(test)]
mod startup_tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_verdict_table_stops_the_start_with_one_line_naming_it() {
        // SAFETY: the test reads the environment only through `from_env`, after this change.
        unsafe {
            std::env::remove_var("DELTAONE_VERDICT_TABLE");
        }
        let Err(e) = from_env().await else { panic!("started without its required setting") };
        assert_eq!(
            deltaone_app::startup::line(FUNCTION, &e),
            "evaluation cannot start: DELTAONE_VERDICT_TABLE: is not set: the evaluation function records verdicts in DynamoDB"
        );
    }
}

#[cfg(test)]
mod tests;
