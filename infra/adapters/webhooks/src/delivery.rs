//! Delivering messages to webhook endpoints: signed, retried, bounded per endpoint, and parked in
//! the dead-letter queue when an endpoint does not take a message after the last try.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deltaone::message::Message;
use deltaone::signature::{WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::config::{Endpoint, EndpointKind};
use super::guard::{self, GuardError, GuardedResolver};
use super::retry::{RetryPolicy, StatusClass, classify_status, parse_retry_after, random_unit};
use deltaone_app::deadletter::{DeadLetterError, DeadLetters, Letter};

/// The `source` of this notifier's dead letters.
pub const SOURCE: &str = "webhook-notifier";

/// The `webhook-id` of a message to an endpoint: the same for every try and every redrive, so a
/// receiver de-duplicates on it; different per endpoint. `msg_` and 32 hex digits (no `.`).
pub fn webhook_id(message_id: &str, endpoint: &str) -> String {
    let digest = deltaone::attestation::sha256_hex(format!("{message_id}\n{endpoint}").as_bytes());
    format!("msg_{}", &digest[..32])
}

/// The request body for an endpoint: the message JSON, or Slack Block Kit for Slack endpoints.
pub fn payload(kind: EndpointKind, message: &Message) -> Vec<u8> {
    match kind {
        EndpointKind::Standard => serde_json::to_vec(message).expect("messages serialize"),
        EndpointKind::Slack => serde_json::to_vec(&message.render_slack()).expect("JSON values serialize"),
    }
}

/// Why one try failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AttemptError {
    #[error("HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status { status: u16, retry_after: Option<Duration>, body: String },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("request failed: {0}")]
    Request(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

impl AttemptError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => classify_status(*status) == StatusClass::Retry,
            Self::Timeout(_) | Self::Connect(_) => true,
            Self::Guard(e) => e.is_retryable(),
            Self::Request(_) | Self::Sign(_) => false,
        }
    }

    /// A short kind for dead letters and logs.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Status { .. } => "HttpStatus",
            Self::Timeout(_) => "Timeout",
            Self::Connect(_) => "ConnectionFailed",
            Self::Guard(GuardError::Refused { .. }) => "AddressRefused",
            Self::Guard(GuardError::Lookup { .. }) => "DnsLookupFailed",
            Self::Request(_) => "RequestFailed",
            Self::Sign(_) => "SigningFailed",
        }
    }
}

/// A delivery that did not succeed: how many tries, and the last failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error} (after {attempts} tr{})", if *attempts == 1 { "y" } else { "ies" })]
pub struct DeliveryFailed {
    pub attempts: u32,
    pub error: AttemptError,
}

/// A message that an endpoint did not take, parked with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedDelivery {
    /// Always [`SOURCE`].
    pub source: String,
    pub endpoint: String,
    /// The `webhook-id` the endpoint saw and will see again on redrive.
    pub webhook_id: String,
    pub error_type: String,
    pub reason: String,
    pub attempts: u32,
    pub failed_at: String,
    pub message: Message,
}

impl Letter for ParkedDelivery {
    /// `source` and `endpoint`: `deltaone webhooks redrive --endpoint` and queue filters use them.
    fn attributes(&self) -> Vec<(&'static str, &str)> {
        vec![("source", &self.source), ("endpoint", &self.endpoint)]
    }
}

/// Where undeliverable messages go. The SQS queue (`deltaone_aws::sqs::SqsDeadLetters`) should
/// try each letter a few times: a parked message must not be lost.
pub type WebhookDeadLetters = dyn DeadLetters<ParkedDelivery>;

/// What happened to a message at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered { endpoint: String, webhook_id: String, attempts: u32 },
    Parked { endpoint: String, webhook_id: String, attempts: u32, reason: String },
}

struct Target {
    endpoint: Endpoint,
    /// Requests in flight to this endpoint; a try holds a permit only while its request runs.
    permits: Semaphore,
}

/// The HTTP client of the deliveries could not be built (its TLS backend, its resolver).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(#[source] reqwest::Error);

/// Delivers messages to the configured endpoints. Every endpoint has its own bound on requests in
/// flight, and all endpoints are served at once, so a slow endpoint delays only itself.
pub struct Deliverer {
    targets: Vec<Arc<Target>>,
    policy: RetryPolicy,
    /// Only public addresses (see [`guard`]).
    guarded: reqwest::Client,
    /// For endpoints with `allow_private`.
    unguarded: reqwest::Client,
    dead_letters: Arc<WebhookDeadLetters>,
}

impl Deliverer {
    pub fn new(
        endpoints: Vec<Endpoint>,
        policy: RetryPolicy,
        dead_letters: Arc<WebhookDeadLetters>,
    ) -> Result<Self, ClientError> {
        let client = |allow_private: bool| {
            reqwest::Client::builder()
                .timeout(policy.timeout)
                .connect_timeout(policy.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("deltaone-webhooks/", env!("CARGO_PKG_VERSION")))
                .dns_resolver(Arc::new(GuardedResolver { allow_private }))
                .build()
                .map_err(ClientError)
        };
        let targets = endpoints
            .into_iter()
            .map(|endpoint| Arc::new(Target { permits: Semaphore::new(endpoint.max_concurrency), endpoint }))
            .collect();
        let (guarded, unguarded) = (client(false)?, client(true)?);
        Ok(Self { targets, policy, guarded, unguarded, dead_letters })
    }

    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.targets.iter().map(|t| &t.endpoint)
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    fn target(&self, name: &str) -> Option<&Arc<Target>> {
        self.targets.iter().find(|t| t.endpoint.name == name)
    }

    /// Delivers `message` to the endpoint named `endpoint`, trying up to the policy's limit; the
    /// number of tries it took, or the last failure. Does not park.
    pub async fn deliver(&self, endpoint: &str, message: &Message) -> Result<u32, DeliveryFailed> {
        let target = self.target(endpoint).ok_or_else(|| DeliveryFailed {
            attempts: 0,
            error: AttemptError::Request(format!("no endpoint named {endpoint:?} is configured")),
        })?;
        self.deliver_to(target, message).await
    }

    async fn deliver_to(&self, target: &Target, message: &Message) -> Result<u32, DeliveryFailed> {
        let endpoint = &target.endpoint;
        let id = webhook_id(&message.id, &endpoint.name);
        let body = payload(endpoint.kind, message);
        let mut tries = 0;
        loop {
            tries += 1;
            let result = {
                let _permit = target.permits.acquire().await.expect("semaphores are never closed");
                self.attempt(endpoint, &id, &body).await
            };
            let error = match result {
                Ok(status) => {
                    tracing::info!(endpoint = endpoint.name, webhook_id = id, status, tries, "webhook delivered");
                    return Ok(tries);
                }
                Err(e) => e,
            };
            if !error.is_retryable() || tries >= self.policy.max_tries {
                tracing::warn!(endpoint = endpoint.name, webhook_id = id, tries, error = %error, "webhook not delivered");
                return Err(DeliveryFailed { attempts: tries, error });
            }
            let retry_after = match &error {
                AttemptError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = self.policy.delay(tries, retry_after, random_unit());
            tracing::info!(endpoint = endpoint.name, webhook_id = id, tries, error = %error, wait_ms = wait.as_millis() as u64, "webhook try failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One signed request; the status on success.
    async fn attempt(&self, endpoint: &Endpoint, id: &str, body: &[u8]) -> Result<u16, AttemptError> {
        guard::check_host(&endpoint.url, endpoint.allow_private).await?;
        let client = if endpoint.allow_private { &self.unguarded } else { &self.guarded };
        let mut request = client
            .post(endpoint.url.clone())
            .headers(endpoint.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(secret) = &endpoint.secret {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let signed = secret.sign(id, now, body).map_err(|e| AttemptError::Sign(e.to_string()))?;
            request = request
                .header(WEBHOOK_ID_HEADER, signed.id)
                .header(WEBHOOK_TIMESTAMP_HEADER, signed.timestamp)
                .header(WEBHOOK_SIGNATURE_HEADER, signed.signature);
        }
        let response = request.send().await.map_err(|e| self.request_error(e))?;
        let status = response.status().as_u16();
        if classify_status(status) == StatusClass::Delivered {
            return Ok(status);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let text = response.text().await.unwrap_or_default();
        let body: String = text.trim().chars().take(200).collect();
        Err(AttemptError::Status { status, retry_after, body })
    }

    fn request_error(&self, e: reqwest::Error) -> AttemptError {
        // The guard's refusal surfaces from the resolver, deep in the error's sources.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if let Some(refused) = err.downcast_ref::<GuardError>() {
                return AttemptError::Guard(refused.clone());
            }
            source = err.source();
        }
        // Never the URL: a Slack URL is a secret.
        let e = e.without_url();
        if e.is_timeout() {
            AttemptError::Timeout(self.policy.timeout)
        } else if e.is_connect() {
            AttemptError::Connect(error_chain(&e))
        } else if e.is_request() || e.is_body() || e.is_decode() {
            // The connection broke mid-request or mid-answer: as retryable as a failed connection.
            AttemptError::Connect(error_chain(&e))
        } else {
            AttemptError::Request(error_chain(&e))
        }
    }

    /// Delivers each message to every endpoint that wants its event type, all at once within each
    /// endpoint's bound. A delivery that fails for good is parked; the result per message is its
    /// outcomes, or the error of a park that failed (then the message must be retried whole).
    pub async fn fan_out(self: &Arc<Self>, messages: &[Message]) -> Vec<Result<Vec<Outcome>, DeadLetterError>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, message) in messages.iter().enumerate() {
            for target in &self.targets {
                if !target.endpoint.wants(message.event_type) {
                    continue;
                }
                let (this, target, message) = (self.clone(), target.clone(), message.clone());
                tasks.spawn(async move { (index, this.deliver_or_park(&target, message).await) });
            }
        }
        let mut results: Vec<Result<Vec<Outcome>, DeadLetterError>> = messages.iter().map(|_| Ok(Vec::new())).collect();
        while let Some(joined) = tasks.join_next().await {
            let (index, outcome) = joined.expect("delivery tasks do not panic");
            match (&mut results[index], outcome) {
                (Ok(outcomes), Ok(outcome)) => outcomes.push(outcome),
                (slot @ Ok(_), Err(e)) => *slot = Err(e),
                (Err(_), _) => {}
            }
        }
        results
    }

    async fn deliver_or_park(&self, target: &Target, message: Message) -> Result<Outcome, DeadLetterError> {
        let endpoint = target.endpoint.name.clone();
        let webhook_id = webhook_id(&message.id, &endpoint);
        match self.deliver_to(target, &message).await {
            Ok(attempts) => Ok(Outcome::Delivered { endpoint, webhook_id, attempts }),
            Err(failed) => {
                let letter = ParkedDelivery {
                    source: SOURCE.to_owned(),
                    endpoint: endpoint.clone(),
                    webhook_id: webhook_id.clone(),
                    error_type: failed.error.error_type().to_owned(),
                    reason: failed.to_string(),
                    attempts: failed.attempts,
                    failed_at: deltaone_app::check::now_rfc3339(),
                    message,
                };
                self.dead_letters.park(&letter).await?;
                tracing::warn!(
                    endpoint,
                    webhook_id,
                    reason = letter.reason,
                    "webhook delivery parked in the dead-letter queue"
                );
                Ok(Outcome::Parked { endpoint, webhook_id, attempts: failed.attempts, reason: letter.reason })
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_ids_are_stable_per_message_and_endpoint_and_valid_for_signing() {
        let a = webhook_id("deltaone:fraud:2:2026-11-23T10:00:00.123Z", "orders");
        assert_eq!(a, webhook_id("deltaone:fraud:2:2026-11-23T10:00:00.123Z", "orders"));
        assert_ne!(a, webhook_id("deltaone:fraud:2:2026-11-23T10:00:00.123Z", "billing"));
        assert_ne!(a, webhook_id("deltaone:fraud:3:2026-11-23T10:00:00.123Z", "orders"));
        assert!(a.starts_with("msg_") && a.len() == 36 && !a.contains('.'), "{a}");
    }

    #[test]
    fn attempt_errors_are_retried_only_when_they_may_pass() {
        let status = |status| AttemptError::Status { status, retry_after: None, body: String::new() };
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!status(410).is_retryable());
        assert!(AttemptError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(AttemptError::Connect("refused".into()).is_retryable());
        let refused = GuardError::Refused { host: "h".into(), addr: "10.0.0.1".parse().unwrap(), class: "private" };
        assert!(!AttemptError::Guard(refused).is_retryable());
        assert!(AttemptError::Guard(GuardError::Lookup { host: "h".into(), message: "m".into() }).is_retryable());
    }
}
