//! Outgoing webhooks: every message DeltaOne emits, delivered to the configured HTTP endpoints.
//!
//! - [`config`]: the endpoints (URL, kind, event types, secret and header references, concurrency,
//!   `allow_private`) and the delivery settings, from one JSON document.
//! - [`guard`]: the SSRF guard — private, loopback, link-local and other internal addresses refused.
//! - [`retry`]: which failures are retried, `Retry-After`, exponential backoff with jitter.
//! - [`delivery`]: Standard Webhooks signing, bounded concurrency per endpoint, the dead-letter queue.
//! - [`redrive`]: parked deliveries delivered again (`deltaone webhooks redrive`).
//!
//! Secret references are read through the application's `Secrets` port (`deltaone-secrets`
//! implements it: environment, or Secrets Manager via the Lambda extension).

pub mod config;
pub mod delivery;
pub mod guard;
pub mod redrive;
pub mod retry;

pub use config::{Endpoint, EndpointKind, WebhookConfig};
pub use delivery::{Deliverer, Outcome, ParkedDelivery, WebhookDeadLetters, webhook_id};
