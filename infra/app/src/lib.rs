//! DeltaOne's application layer: the use cases (a check, the audit, credits, verdict messages, the
//! drift schedule's plan, the read model's views) over ports — trait-only modules, with in-memory
//! twins beside them for tests and local runs — and the settings that configure them.
//!
//! Architecture invariant: no AWS SDK, no HTTP client here. Adapters (`deltaone-aws`,
//! `deltaone-mlflow`, `deltaone-webhooks`, `deltaone-predictions`) implement the ports; entry points
//! (the functions, the drift job, the CLI) wire them through `deltaone-wiring` or by hand.

pub mod artifact;
pub mod audit;
pub mod check;
pub mod checkqueue;
pub mod credits;
pub mod deadletter;
pub mod deliveries;
pub mod drift_keys;
pub mod emf;
pub mod env;
pub mod notify;
pub mod objects;
pub mod paired;
pub mod promotion;
pub mod query;
pub mod registry;
pub mod s3event;
pub mod schedule;
pub mod secrets;
pub mod settings;
pub mod startup;
pub mod store;
pub mod sweep;
pub mod telemetry;
