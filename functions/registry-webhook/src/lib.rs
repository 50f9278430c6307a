//! The MLflow Model Registry webhook function, behind a Lambda Function URL: a signed registry event
//! arrives → its signature is verified over the raw body → the delivery id is claimed once → a new
//! model version (or a tag that can change its verdict) is checked, the verdict recorded once,
//! written back and notified → 200.
//!
//! Answers (JSON bodies, see the README): 200 with `status` `checked`, `duplicate`, `ignored`, `test`
//! or `parked`; 401 for a missing, malformed, forged or stale signature; 400 for a body that is not
//! an MLflow webhook payload; 405 for anything but POST; 503 when MLflow or AWS failed in a way that
//! may pass (MLflow retries 429 and 5xx three times); 500 when the function is misconfigured. Nothing
//! is recorded for a 401 or a 400.
//!
//! A delivery that fails for good (an unknown model or version) is parked in the dead-letter queue
//! with its headers, raw body and the reason, and answered 200 `parked`: MLflow has no redelivery
//! API, so the parked copy is how it is not lost. [`redrive_request`] turns a parked delivery back
//! into a signed request.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deltaone::signature::{
    DEFAULT_TOLERANCE_SECS, MLFLOW_DELIVERY_ID_HEADER, MLFLOW_SIGNATURE_HEADER, MLFLOW_TIMESTAMP_HEADER,
    SignatureError, sign_mlflow, verify_mlflow,
};
use deltaone::{VersionNumber, tags};
use deltaone_app::check::{CheckError, CheckReport, CheckRequest, Checker, Stored};
use deltaone_app::checkqueue::{CheckQueue, QueueError, QueuedCheck};
use deltaone_app::deadletter::{DeadLetter, DeadLetters};
use deltaone_app::deliveries::{Begin, DeliveryError, WebhookDeliveries};
use deltaone_app::env;
use deltaone_app::registry::RegistryError;
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use aws_lambda_events::http;
pub use aws_lambda_events::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};

/// The name dead letters carry as their source.
pub const FUNCTION: &str = "registry-webhook";
/// The model MLflow's "test webhook" button sends a fake `model_version.created` for.
pub const TEST_MODEL: &str = "example_model";

/// The webhook's secret, as configured on the MLflow webhook.
pub const SECRET_ENV: &str = env::MLFLOW_WEBHOOK_SECRET;
/// A Secrets Manager secret holding the webhook's secret, read through the AWS Parameters and
/// Secrets Lambda extension (instead of [`SECRET_ENV`]).
pub const SECRET_ARN_ENV: &str = env::MLFLOW_WEBHOOK_SECRET_ARN;
/// How far a delivery's timestamp may be from the function's clock, in seconds (default 300).
pub const TOLERANCE_ENV: &str = env::WEBHOOK_TOLERANCE_SECS;
/// The DynamoDB table of delivery ids.
pub const DELIVERY_TABLE_ENV: &str = env::DELIVERY_TABLE;
/// The SQS queue checks are handed to (deployed: always); unset, checks run inside the request.
pub const CHECK_QUEUE_URL_ENV: &str = env::CHECK_QUEUE_URL;

/// The receiver's clock in unix seconds (a function, so tests can replay captured deliveries).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| time::OffsetDateTime::now_utc().unix_timestamp())
}

/// The webhook's HMAC secret. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// `None` for an empty secret: an empty key would accept signatures anyone can make.
    pub fn new(secret: impl Into<Vec<u8>>) -> Option<Self> {
        let secret = secret.into();
        (!secret.is_empty()).then_some(Self(secret))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecret({} bytes)", self.0.len())
    }
}

/// Why a delivery was not handled.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("method {0} is not allowed: MLflow webhooks are POST requests")]
    MethodNotAllowed(String),
    #[error("header {name} is not visible ASCII text")]
    HeaderNotText { name: &'static str },
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body is marked base64 but is not valid base64: {0}")]
    BadBase64(String),
    #[error("the body is not JSON: {0}")]
    MalformedJson(String),
    #[error("the body is not an MLflow webhook payload: {0}")]
    UnknownShape(String),
    #[error(transparent)]
    Deliveries(#[from] DeliveryError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("model {model:?} has no version {version}")]
    UnknownVersion { model: String, version: VersionNumber },
    #[error("{0}")]
    DeadLetter(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl WebhookError {
    /// Whether the sender should try again later (MLflow retries 429 and 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Deliveries(e) => e.is_retryable(),
            Self::Check(e) => e.is_retryable(),
            Self::DeadLetter(_) => true,
            Self::Queue(e) => e.retryable,
            _ => false,
        }
    }

    /// The HTTP status the function answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::MethodNotAllowed(_) => 405,
            Self::HeaderNotText { .. } => 401,
            Self::Signature(SignatureError::BadSecret { .. }) => 500,
            Self::Signature(_) => 401,
            Self::BadBase64(_) | Self::MalformedJson(_) | Self::UnknownShape(_) => 400,
            _ if self.is_retryable() => 503,
            _ => 500,
        }
    }

    /// The error type logs, dead letters and answers carry.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed(_) => "MethodNotAllowed",
            Self::HeaderNotText { .. } => "MalformedHeader",
            Self::Signature(e) => match e {
                SignatureError::MissingHeader { .. } => "MissingHeader",
                SignatureError::MalformedSignature { .. } => "MalformedSignature",
                SignatureError::BadId { .. } | SignatureError::PaddedId { .. } => "BadDeliveryId",
                SignatureError::BadTimestamp { .. } => "BadTimestamp",
                SignatureError::Stale { .. } | SignatureError::FromTheFuture { .. } => "StaleTimestamp",
                SignatureError::Mismatch => "SignatureMismatch",
                SignatureError::BadSecret { .. } => "Misconfigured",
            },
            Self::BadBase64(_) => "BadBase64",
            Self::MalformedJson(_) => "MalformedJson",
            Self::UnknownShape(_) => "UnknownShape",
            _ if self.is_retryable() => "Retryable",
            Self::Check(CheckError::Registry(RegistryError::UnknownModel(_))) | Self::UnknownVersion { .. } => {
                "UnknownModelVersion"
            }
            _ => "Permanent",
        }
    }
}

impl From<WebhookError> for Diagnostic {
    fn from(e: WebhookError) -> Self {
        Diagnostic { error_type: e.error_type().to_owned(), error_message: e.to_string() }
    }
}

/// A delivery the function answered 200, and what it did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Handled {
    /// The check ran; its verdict is recorded (now or by an earlier check of the same version).
    Checked {
        delivery_id: String,
        event: String,
        model: String,
        version: VersionNumber,
        outcome: String,
        achieved: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        delta_pp: Option<String>,
        reason: String,
        stored: Stored,
        wrote_back: bool,
        notified: bool,
    },
    /// The check is queued for the worker; its verdict follows (recorded, written back, notified).
    Queued { delivery_id: String, event: String, model: String, version: VersionNumber },
    /// The delivery id was seen before; nothing ran.
    Duplicate { delivery_id: String, state: DuplicateState },
    /// Not an event that can change a verdict; nothing ran.
    Ignored { delivery_id: String, event: String, reason: String },
    /// MLflow's "test webhook" delivery (model `example_model`, which the registry does not have).
    Test { delivery_id: String, event: String },
    /// Failed for good; the delivery is in the dead-letter queue with the reason.
    Parked { delivery_id: String, event: String, error_type: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateState {
    InProgress,
    Done,
}

impl Handled {
    /// The `status` field of the answer.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Checked { .. } => "checked",
            Self::Queued { .. } => "queued",
            Self::Duplicate { .. } => "duplicate",
            Self::Ignored { .. } => "ignored",
            Self::Test { .. } => "test",
            Self::Parked { .. } => "parked",
        }
    }
}

/// A registry event, as far as DeltaOne cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// `model_version.created`
    VersionCreated { model: String, version: VersionNumber },
    /// `model_version_tag.set`
    VersionTagSet { model: String, version: VersionNumber, key: String },
    /// Anything else (`registered_model.created`, alias and prompt events, …).
    Other,
}

/// A webhook payload: `{"entity": …, "action": …, "timestamp": …, "data": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// `entity.action`, e.g. `model_version.created`.
    pub name: String,
    pub event: RegistryEvent,
}

fn text_field<'a>(data: &'a Map<String, Value>, event: &str, field: &str) -> Result<&'a str, WebhookError> {
    match data.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(WebhookError::UnknownShape(format!("{event}: data.{field} is empty"))),
        Some(other) => Err(WebhookError::UnknownShape(format!("{event}: data.{field} is not a string: {other}"))),
        None => Err(WebhookError::UnknownShape(format!("{event}: data.{field} is missing"))),
    }
}

fn version_field(data: &Map<String, Value>, event: &str) -> Result<VersionNumber, WebhookError> {
    let bad = |why: String| WebhookError::UnknownShape(format!("{event}: data.version {why}"));
    match data.get("version") {
        Some(Value::String(s)) => s.parse().map_err(|e: deltaone::VersionParseError| bad(e.to_string())),
        Some(Value::Number(n)) => {
            n.as_u64().and_then(VersionNumber::new).ok_or_else(|| bad(format!("{n} is not a positive whole number")))
        }
        Some(other) => Err(bad(format!("is not a version number: {other}"))),
        None => Err(bad("is missing".into())),
    }
}

/// Reads a webhook body. Every event needs `entity`, `action` and a `data` object; the events DeltaOne
/// acts on need `data.name` and `data.version` (and `data.key` for tags).
pub fn parse_payload(body: &[u8]) -> Result<Payload, WebhookError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| WebhookError::MalformedJson(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(WebhookError::UnknownShape("the body is not a JSON object".into()));
    };
    let field = |name: &str| match object.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        Some(_) => Err(WebhookError::UnknownShape(format!("`{name}` is not a non-empty string"))),
        None => Err(WebhookError::UnknownShape(format!("`{name}` is missing"))),
    };
    let (entity, action) = (field("entity")?, field("action")?);
    let name = format!("{entity}.{action}");
    let Some(Value::Object(data)) = object.get("data") else {
        return Err(WebhookError::UnknownShape(format!("{name}: `data` is missing or not an object")));
    };
    let event = match (entity, action) {
        ("model_version", "created") => RegistryEvent::VersionCreated {
            model: text_field(data, &name, "name")?.to_owned(),
            version: version_field(data, &name)?,
        },
        ("model_version_tag", "set") => RegistryEvent::VersionTagSet {
            model: text_field(data, &name, "name")?.to_owned(),
            version: version_field(data, &name)?,
            key: text_field(data, &name, "key")?.to_owned(),
        },
        _ => RegistryEvent::Other,
    };
    Ok(Payload { name, event })
}

/// Everything the handler needs, built once per cold start.
pub struct RegistryWebhook {
    pub checker: Checker,
    pub deliveries: Arc<dyn WebhookDeliveries>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub secret: WebhookSecret,
    /// Seconds a delivery's timestamp may be from [`Self::clock`] (default 300).
    pub tolerance_secs: i64,
    pub clock: Clock,
    /// With a queue, a claimed delivery's check is queued and the answer is immediate (`queued`);
    /// the same function, triggered by the queue, runs it ([`RegistryWebhook::work`]). Without one
    /// (local runs), the check runs inside the request.
    pub queue: Option<Arc<dyn CheckQueue>>,
}

/// A request's raw body (base64-decoded where the Function URL encoded it).
pub fn raw_body(request: &LambdaFunctionUrlRequest) -> Result<Vec<u8>, WebhookError> {
    let body = request.body.as_deref().unwrap_or("");
    if request.is_base64_encoded {
        BASE64.decode(body.trim()).map_err(|e| WebhookError::BadBase64(e.to_string()))
    } else {
        Ok(body.as_bytes().to_vec())
    }
}

/// A header that HTTP cannot carry.
#[derive(Debug, thiserror::Error)]
pub enum BadHeader {
    #[error("header name {name:?}: {source}")]
    Name { name: String, source: http::header::InvalidHeaderName },
    #[error("header {name}: {source}")]
    Value { name: http::HeaderName, source: http::header::InvalidHeaderValue },
}

/// A Function URL request as AWS builds it from an HTTP request: the method and path in the request
/// context, the headers (names are case-insensitive), and the body as text, or base64 when it is not
/// UTF-8. For local servers and tests.
pub fn function_url_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<LambdaFunctionUrlRequest, BadHeader> {
    let mut request = LambdaFunctionUrlRequest::default();
    request.request_context.http.method = Some(method.to_owned());
    request.request_context.http.path = Some(path.to_owned());
    request.raw_path = Some(path.to_owned());
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|source| BadHeader::Name { name: (*name).to_owned(), source })?;
        let value = match http::HeaderValue::from_bytes(value.as_bytes()) {
            Ok(value) => value,
            Err(source) => return Err(BadHeader::Value { name, source }),
        };
        request.headers.append(name, value);
    }
    match std::str::from_utf8(body) {
        Ok(text) => request.body = Some(text.to_owned()),
        Err(_) => {
            request.body = Some(BASE64.encode(body));
            request.is_base64_encoded = true;
        }
    }
    Ok(request)
}

/// A header's value (names are case-insensitive); `""` when absent.
fn header<'a>(request: &'a LambdaFunctionUrlRequest, name: &'static str) -> Result<&'a str, WebhookError> {
    match request.headers.get(name) {
        None => Ok(""),
        Some(value) => value.to_str().map_err(|_| WebhookError::HeaderNotText { name }),
    }
}

pub use deltaone_function_url::json_response;

impl RegistryWebhook {
    /// Answers one request. Every failure becomes an HTTP answer (MLflow acts on the status), so this
    /// never fails itself.
    pub async fn handle(&self, request: LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        match self.process(&request).await {
            Ok(handled) => {
                let body = serde_json::to_value(&handled)
                    .unwrap_or_else(|e| json!({"status": "error", "message": e.to_string()}));
                json_response(200, &body)
            }
            Err(e) => {
                let status = e.status();
                let delivery_id = header(&request, MLFLOW_DELIVERY_ID_HEADER).unwrap_or("").to_owned();
                if status >= 500 {
                    tracing::error!(delivery_id, status, error_type = e.error_type(), error = %e, "delivery failed");
                } else {
                    tracing::warn!(delivery_id, status, error_type = e.error_type(), error = %e, "delivery refused");
                }
                let diagnostic = Diagnostic::from(e);
                json_response(
                    status,
                    &json!({"status": "error", "error_type": diagnostic.error_type, "message": diagnostic.error_message}),
                )
            }
        }
    }

    /// Verifies, de-duplicates and acts on one request: `Ok` is answered 200, `Err` with
    /// [`WebhookError::status`].
    pub async fn process(&self, request: &LambdaFunctionUrlRequest) -> Result<Handled, WebhookError> {
        if let Some(method) = request.request_context.http.method.as_deref()
            && !method.eq_ignore_ascii_case("POST")
        {
            return Err(WebhookError::MethodNotAllowed(method.to_owned()));
        }
        let body = raw_body(request)?;
        let delivery_id = header(request, MLFLOW_DELIVERY_ID_HEADER)?;
        let timestamp = header(request, MLFLOW_TIMESTAMP_HEADER)?;
        let signature = header(request, MLFLOW_SIGNATURE_HEADER)?;
        verify_mlflow(
            self.secret.as_bytes(),
            delivery_id,
            timestamp,
            signature,
            &body,
            (self.clock)(),
            self.tolerance_secs,
        )?;
        let delivery_id = delivery_id.trim().to_owned();
        let payload = parse_payload(&body)?;
        let event = payload.name.clone();
        let ignored =
            |reason: String| Handled::Ignored { delivery_id: delivery_id.clone(), event: event.clone(), reason };

        let (model, version, tag) = match payload.event {
            RegistryEvent::Other => {
                let reason = format!("DeltaOne acts on model_version.created and model_version_tag.set, not {event}");
                tracing::info!(delivery_id, event, "ignored");
                return Ok(ignored(reason));
            }
            RegistryEvent::VersionTagSet { key, .. } if !tags::tag_triggers_check(&key, Some(&key)) => {
                // Not even as the benchmark metric's name: DeltaOne writes this tag itself.
                tracing::info!(delivery_id, event, key, "ignored: a tag DeltaOne writes");
                return Ok(ignored(format!("tag {key} is written by DeltaOne and never triggers a check")));
            }
            RegistryEvent::VersionCreated { model, version } => (model, version, None),
            RegistryEvent::VersionTagSet { model, version, key } => (model, version, Some(key)),
        };

        let state = match self.deliveries.begin(&delivery_id).await? {
            Begin::Fresh => None,
            Begin::InProgress => Some(DuplicateState::InProgress),
            Begin::Done => Some(DuplicateState::Done),
        };
        if let Some(state) = state {
            tracing::info!(delivery_id, event, ?state, "duplicate delivery");
            return Ok(Handled::Duplicate { delivery_id, state });
        }

        let target = Target { delivery_id: &delivery_id, event: &event, model: &model, version, tag: tag.as_deref() };
        let outcome = match &self.queue {
            Some(queue) => Self::enqueue(queue.as_ref(), &target).await,
            None => self.act(request, &body, &target).await,
        };
        match outcome {
            Ok(handled) => {
                if let Err(e) = self.deliveries.finish(&delivery_id).await {
                    // The work is done and durable; a retry of this delivery would find it in progress
                    // until the takeover time and then find the verdict recorded.
                    tracing::warn!(delivery_id, error = %e, "could not mark the delivery done");
                }
                Ok(handled)
            }
            Err(e) => {
                if let Err(abandon) = self.deliveries.abandon(&delivery_id).await {
                    tracing::warn!(delivery_id, error = %abandon, "could not forget the failed delivery");
                }
                Err(e)
            }
        }
    }

    /// Queues the check of a claimed delivery for the worker.
    async fn enqueue(queue: &dyn CheckQueue, target: &Target<'_>) -> Result<Handled, WebhookError> {
        let Target { delivery_id, event, model, version, tag } = *target;
        let check = QueuedCheck {
            model: model.to_owned(),
            version,
            tag: tag.map(str::to_owned),
            delivery_id: delivery_id.to_owned(),
            event: event.to_owned(),
            queued_at: deltaone_app::check::now_rfc3339(),
        };
        queue.enqueue(&check).await?;
        tracing::info!(delivery_id, event, model, version = %version, "queued");
        Ok(Handled::Queued {
            delivery_id: delivery_id.to_owned(),
            event: event.to_owned(),
            model: model.to_owned(),
            version,
        })
    }

    /// The worker: runs the checks of an SQS batch of queued checks. A check that may pass later is
    /// listed in `batchItemFailures` (SQS redelivers it, then moves it to the queue's dead-letter
    /// queue); one that never will is parked with the reason, as a delivery run inline would be.
    /// A version checked twice (SQS delivers at least once) finds its verdict recorded: one notice.
    pub async fn work(&self, event: &Value) -> Value {
        let records = event.get("Records").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut failures = Vec::new();
        for record in records {
            let id = record.get("messageId").and_then(Value::as_str).unwrap_or_default();
            match self.work_one(record).await {
                Ok(()) => {}
                Err(e) => {
                    tracing::warn!(message_id = id, error = %e, "queued check failed; SQS will redeliver it");
                    failures.push(json!({"itemIdentifier": id}));
                }
            }
        }
        json!({"batchItemFailures": failures})
    }

    async fn work_one(&self, record: &Value) -> Result<(), WebhookError> {
        let body = record.get("body").and_then(Value::as_str).unwrap_or_default();
        let check = match QueuedCheck::from_body(body) {
            Ok(check) => check,
            Err(e) => {
                let error = WebhookError::UnknownShape(format!("not a queued check: {e}"));
                return self.park(record, &error).await;
            }
        };
        let QueuedCheck { model, version, tag, delivery_id, event, .. } = &check;
        let error = match self.run(model, *version, tag.as_deref()).await {
            Ok(Run::Checked(report)) => {
                tracing::info!(
                    delivery_id, event, model, version = %version, outcome = %report.verdict.outcome,
                    stored = ?report.stored, notified = report.notified, "checked from the queue"
                );
                return Ok(());
            }
            Ok(Run::NotATrigger { key, .. }) => {
                tracing::info!(delivery_id, event, model, version = %version, key, "ignored: not a trigger");
                return Ok(());
            }
            Err(WebhookError::Check(CheckError::Registry(RegistryError::UnknownModel(name)))) if name == TEST_MODEL => {
                tracing::info!(delivery_id, event, "MLflow's test delivery");
                return Ok(());
            }
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        self.park(record, &error).await
    }

    async fn park(&self, record: &Value, error: &WebhookError) -> Result<(), WebhookError> {
        tracing::error!(error_type = error.error_type(), error = %error, "queued check failed for good; parking it");
        let letter = DeadLetter {
            source: FUNCTION.to_owned(),
            error_type: error.error_type().to_owned(),
            reason: error.to_string(),
            failed_at: deltaone_app::check::now_rfc3339(),
            original: record.clone(),
        };
        self.dead_letters.park(&letter).await.map_err(|e| WebhookError::DeadLetter(e.to_string()))
    }

    /// Runs the check for a claimed delivery, or parks the delivery when it fails for good.
    async fn act(
        &self,
        request: &LambdaFunctionUrlRequest,
        body: &[u8],
        target: &Target<'_>,
    ) -> Result<Handled, WebhookError> {
        let Target { delivery_id, event, model, version, tag } = *target;
        let error = match self.run(model, version, tag).await {
            Ok(Run::Checked(report)) => {
                let verdict = &report.verdict;
                tracing::info!(
                    delivery_id, event, model, version = %version, outcome = %verdict.outcome,
                    stored = ?report.stored, wrote_back = report.wrote_back, notified = report.notified, "checked"
                );
                return Ok(Handled::Checked {
                    delivery_id: delivery_id.to_owned(),
                    event: event.to_owned(),
                    model: model.to_owned(),
                    version,
                    outcome: verdict.outcome.as_str().to_owned(),
                    achieved: verdict.achieved(),
                    delta_pp: verdict.delta_pp.map(|d| d.normalize().to_string()),
                    reason: verdict.reason.clone(),
                    stored: report.stored,
                    wrote_back: report.wrote_back,
                    notified: report.notified,
                });
            }
            Ok(Run::NotATrigger { key, metric }) => {
                let reason = match metric {
                    Some(metric) => format!("tag {key} is neither a benchmark tag nor the benchmark metric ({metric})"),
                    None => format!("tag {key} is not a benchmark tag, and the model has no benchmark metric"),
                };
                tracing::info!(delivery_id, event, model, version = %version, key, "ignored: not a trigger");
                return Ok(Handled::Ignored { delivery_id: delivery_id.to_owned(), event: event.to_owned(), reason });
            }
            Err(WebhookError::Check(CheckError::Registry(RegistryError::UnknownModel(name)))) if name == TEST_MODEL => {
                tracing::info!(delivery_id, event, "MLflow's test delivery");
                return Ok(Handled::Test { delivery_id: delivery_id.to_owned(), event: event.to_owned() });
            }
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        tracing::error!(
            delivery_id, event, model, version = %version, error_type = error.error_type(), error = %error,
            "delivery failed for good; parking it"
        );
        let letter = DeadLetter {
            source: FUNCTION.to_owned(),
            error_type: error.error_type().to_owned(),
            reason: error.to_string(),
            failed_at: deltaone_app::check::now_rfc3339(),
            original: original_delivery(request, body),
        };
        self.dead_letters.park(&letter).await.map_err(|e| WebhookError::DeadLetter(e.to_string()))?;
        Ok(Handled::Parked {
            delivery_id: delivery_id.to_owned(),
            event: event.to_owned(),
            error_type: letter.error_type,
            reason: letter.reason,
        })
    }

    async fn run(&self, model: &str, version: VersionNumber, tag: Option<&str>) -> Result<Run, WebhookError> {
        let started = std::time::Instant::now();
        let run = self.run_check(model, version, tag).await;
        if let Ok(Run::Checked(report)) = &run {
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            deltaone_app::emf::emit(&deltaone_app::emf::check_record(FUNCTION, report, model, elapsed_ms));
        }
        run
    }

    async fn run_check(&self, model: &str, version: VersionNumber, tag: Option<&str>) -> Result<Run, WebhookError> {
        if let Some(key) = tag
            && !tags::tag_triggers_check(key, None)
        {
            // Any other tag matters only if it is the benchmark metric's name (a version tag stands in
            // for a missing run metric). Which metric that is, the rule says.
            let verdict = self.checker.decide(model, Some(version)).await?;
            if !tags::tag_triggers_check(key, verdict.metric.as_deref()) {
                return Ok(Run::NotATrigger { key: key.to_owned(), metric: verdict.metric });
            }
        }
        let request = CheckRequest { model: model.to_owned(), version: Some(version), dry_run: false };
        let report = self.checker.check(&request).await?;
        if report.stored == Stored::NotStored {
            return Err(WebhookError::UnknownVersion { model: model.to_owned(), version });
        }
        Ok(Run::Checked(Box::new(report)))
    }
}

/// Whether a Lambda event is an SQS batch (the check queue's trigger) rather than a Function URL
/// request.
pub fn is_queue_batch(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| record.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// The delivery being acted on.
#[derive(Clone, Copy)]
struct Target<'a> {
    delivery_id: &'a str,
    event: &'a str,
    model: &'a str,
    version: VersionNumber,
    tag: Option<&'a str>,
}

enum Run {
    Checked(Box<CheckReport>),
    NotATrigger { key: String, metric: Option<String> },
}

/// Headers that are never parked (credentials a proxy or a caller may add).
const NOT_PARKED: [&str; 3] = ["authorization", "cookie", "x-amz-security-token"];

/// A delivery as it is parked: its headers (lower-case names) and its raw body, so that it can be
/// verified, read and replayed later.
pub fn original_delivery(request: &LambdaFunctionUrlRequest, body: &[u8]) -> Value {
    let mut headers = Map::new();
    for (name, value) in &request.headers {
        if NOT_PARKED.contains(&name.as_str()) || headers.contains_key(name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), Value::String(value));
    }
    let mut original = json!({"headers": headers});
    match std::str::from_utf8(body) {
        Ok(text) => original["body"] = json!(text),
        Err(_) => {
            original["body"] = json!(BASE64.encode(body));
            original["is_base64_encoded"] = json!(true);
        }
    }
    original
}

/// Why a parked delivery cannot be redriven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot redrive the dead letter: {0}")]
pub struct RedriveError(pub String);

/// Turns a parked delivery ([`DeadLetter::original`]) back into a request the function accepts:
/// the same body, signed with `secret` under a new delivery id (`<original id>-redrive-<now>`, as
/// the original id is done) and the timestamp `now_unix`. Run after the cause is fixed (the model
/// created, say); checks are idempotent, so a redrive never records a verdict twice.
pub fn redrive_request(
    original: &Value,
    secret: &WebhookSecret,
    now_unix: i64,
) -> Result<LambdaFunctionUrlRequest, RedriveError> {
    let body = match (original.get("body"), original.get("is_base64_encoded")) {
        (Some(Value::String(b)), Some(Value::Bool(true))) => {
            BASE64.decode(b).map_err(|e| RedriveError(format!("body is not base64: {e}")))?
        }
        (Some(Value::String(b)), _) => b.as_bytes().to_vec(),
        _ => return Err(RedriveError("no `body`".into())),
    };
    let original_id = original
        .get("headers")
        .and_then(|h| h.get(MLFLOW_DELIVERY_ID_HEADER.to_ascii_lowercase()))
        .and_then(Value::as_str)
        .unwrap_or("parked");
    let delivery_id = format!("{}-redrive-{now_unix}", original_id.trim().replace('.', "-"));
    // The function reads the id as visible ASCII: anything else would be refused on arrival (401).
    if !delivery_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RedriveError(format!("the parked delivery id {original_id:?} is not visible ASCII text")));
    }
    let signature = sign_mlflow(secret.as_bytes(), &delivery_id, now_unix, &body);
    let mut request = LambdaFunctionUrlRequest::default();
    request.request_context.http.method = Some("POST".into());
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("x-mlflow-delivery-id", delivery_id),
        ("x-mlflow-timestamp", now_unix.to_string()),
        ("x-mlflow-signature", signature),
    ];
    for (name, value) in headers {
        let value = http::HeaderValue::from_str(&value).map_err(|e| RedriveError(format!("header {name}: {e}")))?;
        request.headers.insert(name, value);
    }
    match String::from_utf8(body) {
        Ok(text) => request.body = Some(text),
        Err(e) => {
            request.body = Some(BASE64.encode(e.as_bytes()));
            request.is_base64_encoded = true;
        }
    }
    Ok(request)
}

/// A setting the function cannot start without, named with its variable.
pub type SetupError = deltaone_app::startup::StartupError;

fn setup(variable: &'static str, message: impl Into<String>) -> SetupError {
    SetupError::new(variable, message)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The tolerance from its variable's text: whole seconds in 1..=86400.
pub fn parse_tolerance(text: Option<&str>) -> Result<i64, SetupError> {
    let Some(text) = text else { return Ok(DEFAULT_TOLERANCE_SECS) };
    match text.trim().parse::<i64>() {
        Ok(secs) if (1..=86_400).contains(&secs) => Ok(secs),
        _ => Err(setup(TOLERANCE_ENV, format!("{text:?} is not a whole number of seconds in 1..=86400"))),
    }
}

/// Reads a Secrets Manager secret's `SecretString` through the AWS Parameters and Secrets Lambda
/// extension at `base_url` (`http://localhost:2773`), authenticated with the function's session
/// token. Retries briefly while the extension starts.
pub async fn secret_from_extension(base_url: &str, secret_id: &str, token: &str) -> Result<WebhookSecret, SetupError> {
    read_secret(&deltaone_secrets::Extension::new(base_url, token), secret_id).await
}

async fn read_secret(extension: &deltaone_secrets::Extension, secret_id: &str) -> Result<WebhookSecret, SetupError> {
    let secret = extension.read(secret_id).await.map_err(|e| setup(SECRET_ARN_ENV, e.to_string()))?;
    WebhookSecret::new(secret.into_bytes()).ok_or_else(|| setup(SECRET_ARN_ENV, format!("{secret_id} is empty")))
}

/// The webhook's secret: [`SECRET_ENV`], else the Secrets Manager secret [`SECRET_ARN_ENV`] names.
async fn secret_from_env() -> Result<WebhookSecret, SetupError> {
    if let Some(secret) = std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()) {
        return WebhookSecret::new(secret.into_bytes()).ok_or_else(|| setup(SECRET_ENV, "is empty"));
    }
    let Some(arn) = env_var(SECRET_ARN_ENV) else {
        return Err(setup(
            SECRET_ENV,
            format!("is not set (nor {SECRET_ARN_ENV}): the webhook's secret is needed to verify deliveries"),
        ));
    };
    let extension = deltaone_secrets::Extension::from_env().ok_or_else(|| {
        setup(SECRET_ARN_ENV, "AWS_SESSION_TOKEN is not set: the secret is read through the Lambda extension")
    })?;
    read_secret(&extension, &arn).await
}

/// Wires the function from its environment (see the README).
pub async fn from_env() -> Result<RegistryWebhook, SetupError> {
    let settings = deltaone_app::settings::SettingsArgs::from_env()?;
    let wiring = deltaone_wiring::Wiring::new(settings);
    if wiring.settings.store.is_none() {
        return Err(setup(env::VERDICT_TABLE, "is not set: the function records verdicts in DynamoDB"));
    }
    let dead_letters = wiring.dead_letters().await.ok_or_else(|| {
        setup(env::DEAD_LETTER_QUEUE_URL, "is not set: deliveries that fail for good must have somewhere to go")
    })?;
    let table = env_var(DELIVERY_TABLE_ENV)
        .ok_or_else(|| setup(DELIVERY_TABLE_ENV, "is not set: deliveries are de-duplicated in DynamoDB"))?;
    deltaone_app::settings::check_table_name(&table).map_err(|e| setup(DELIVERY_TABLE_ENV, e.to_string()))?;
    let tolerance_secs = parse_tolerance(env_var(TOLERANCE_ENV).as_deref())?;
    let secret = secret_from_env().await?;
    let checker = wiring.checker().await?;
    let deliveries =
        deltaone_aws::deliveries::DynamoDeliveries::new(aws_sdk_dynamodb::Client::new(wiring.aws().await), table);
    let queue: Option<Arc<dyn CheckQueue>> = match env_var(CHECK_QUEUE_URL_ENV) {
        Some(url) => {
            let sqs = deltaone_aws::aws_sdk_sqs::Client::new(wiring.aws().await);
            Some(Arc::new(deltaone_aws::sqs::SqsCheckQueue::new(sqs, url)))
        }
        None => None,
    };
    Ok(RegistryWebhook {
        checker,
        deliveries: Arc::new(deliveries),
        dead_letters,
        secret,
        tolerance_secs,
        clock: system_clock(),
        queue,
    })
}

#[cfg(test)]
mod tests;

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
            "registry-webhook cannot start: DELTAONE_VERDICT_TABLE: is not set: the function records verdicts in DynamoDB"
        );
    }
}
