//! MLflow Model Registry over its REST API (there is no maintained Rust client): the
//! [`deltaone_app::registry::Registry`] port's adapter.

pub mod client;
pub mod registry;

pub use client::{MlflowClient, MlflowError};
pub use deltaone_app::settings::{MlflowAuth, MlflowConfig};
pub use registry::MlflowRegistry;
