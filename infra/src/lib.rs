//! DeltaOne's adapters and wiring: the MLflow REST client, the registry and verdict-store ports with
//! their implementations, configuration, tracing, and the `deltaone` CLI's commands.

pub mod aws;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod mlflow;
pub mod registry;
pub mod store;
pub mod telemetry;
