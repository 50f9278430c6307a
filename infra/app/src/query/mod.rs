//! The read model: what the query API and the CLI's `status`, `lineage`, `impact` and `drift history`
//! show, read from DynamoDB with Query and GetItem on keys only — never a Scan, so a request costs the
//! same however large the tables grow.
//!
//! * [`ReadModel`] is the port; `DynamoReadModel` (in `deltaone-aws`) reads the verdict, credits and drift tables.
//! * [`views`] turns pages of items into the responses (`DeltaoneView`, `LineageView`, `ImpactView`,
//!   `DriftRunsView`, `FeatureHistoryView`), the same for the Lambda and the CLI.
//! * `ReadOnlyGuard` (in `deltaone-aws`) is an SDK interceptor on the read model's client: it records every
//!   DynamoDB operation sent and refuses anything but Query and GetItem.
//! * Pages are bounded ([`PageRequest`]) and continue with an opaque [`cursor`].

pub mod cursor;
pub mod types;
pub mod views;

use async_trait::async_trait;

pub use cursor::{Cursor, CursorError};
pub use types::*;

use crate::store::VerdictRecord;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page a request may ask for.
pub const MAX_LIMIT: usize = 500;

/// One page of a query: at most `limit` items, after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, cursor: None }
    }
}

impl PageRequest {
    /// A page request from the text of `limit` and `cursor` parameters, validated.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, QueryError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(QueryError::BadParameter {
                        name: "limit",
                        message: format!("{text:?} is not a whole number in 1..={MAX_LIMIT}"),
                    });
                }
            },
        };
        let cursor = cursor.map(Cursor::decode).transpose()?;
        Ok(Self { limit, cursor })
    }
}

/// A page of results and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("parameter {name}: {message}")]
    BadParameter { name: &'static str, message: String },
    #[error(transparent)]
    BadCursor(#[from] CursorError),
    #[error("{0}")]
    NotFound(String),
    #[error("{what} is not configured: set {env}")]
    NotConfigured { what: &'static str, env: &'static str },
    #[error("table {table}: {message}")]
    Backend { table: String, message: String, retryable: bool },
    #[error("table {table} holds an unreadable item {key}: {message}")]
    Corrupt { table: String, key: String, message: String },
}

impl QueryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend { retryable: true, .. })
    }
}

impl From<crate::store::StoreError> for QueryError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Backend { store, message, retryable } => Self::Backend { table: store, message, retryable },
            StoreError::Corrupt { store, model, version, message } => {
                Self::Corrupt { table: store, key: format!("{model} version {version}"), message }
            }
        }
    }
}

/// The read port: every method is one or a few key-bounded Queries or GetItems.
#[async_trait]
pub trait ReadModel: Send + Sync {
    /// A model's verdicts, newest version first.
    async fn verdicts(&self, model: &str, page: &PageRequest) -> Result<Page<VerdictRecord>, QueryError>;

    /// The hash of the model's newest attested statement (the chain head).
    async fn chain_head(&self, model: &str) -> Result<Option<String>, QueryError>;

    /// Verifies the model's whole attestation chain (signatures, links, head), as `deltaone audit` does.
    async fn verify_chain(&self, model: &str) -> Result<ChainCheck, QueryError>;

    /// A contributor's credits, newest first.
    async fn credits(&self, contributor: &str, page: &PageRequest) -> Result<Page<CreditEvent>, QueryError>;

    /// The sum of all of a contributor's credits, per model.
    async fn credit_totals(&self, contributor: &str) -> Result<CreditTotals, QueryError>;

    /// A model's drift runs, newest window first.
    async fn drift_runs(&self, model: &str, page: &PageRequest) -> Result<Page<DriftRun>, QueryError>;

    /// One column's drift history, newest window first.
    async fn drift_history(
        &self,
        model: &str,
        column: &str,
        page: &PageRequest,
    ) -> Result<Page<DriftColumn>, QueryError>;
}
