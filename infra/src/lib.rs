//! DeltaOne's adapters and wiring: the MLflow REST client, the registry, verdict-store, object-store,
//! notification and dead-letter ports with their implementations, S3 event and artifact parsing,
//! configuration, tracing, and the `deltaone` CLI's commands.

pub mod artifact;
pub mod audit;
pub mod aws;
pub mod check;
pub mod cli;
pub mod config;
pub mod credits;
pub mod deadletter;
pub mod deliveries;
pub mod demo;
pub mod drift_job;
pub mod drift_store;
pub mod mlflow;
pub mod notify;
pub mod objects;
pub mod paired;
pub mod predictions;
pub mod promotion;
pub mod query;
pub mod registry;
pub mod s3event;
pub mod schedule;
pub mod store;
pub mod telemetry;
pub mod webhooks;
pub mod wiring;
