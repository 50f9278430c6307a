//! Items of the credits and drift tables as the read model returns them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

/// One contributor's credit for one recorded DeltaOne (an item of the credits table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditEvent {
    pub model: String,
    pub version: u64,
    pub metric: String,
    /// The verdict's delta, exact decimal string.
    pub delta_pp: Decimal,
    pub share: Option<Decimal>,
    /// What this contributor was credited, exact decimal string.
    pub credited_pp: Decimal,
    pub checked_at: String,
    pub name: Option<String>,
}

/// A contributor's credits summed over every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditTotals {
    pub events: u64,
    pub credited_pp: Decimal,
    /// Per model: (events, credited pp).
    pub by_model: BTreeMap<String, (u64, Decimal)>,
}

/// A drift run's summary item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftRun {
    pub run_id: String,
    pub window_start: String,
    pub window_end: String,
    pub dataset_drift: bool,
    pub drifted_columns: u64,
    pub columns: u64,
    pub drift_share: f64,
    pub share_threshold: f64,
    pub rows_reference: u64,
    pub rows_current: u64,
    pub quarantined_files: u64,
    pub report_uri: Option<String>,
    pub created_at: String,
    /// The run summary JSON as the drift job wrote it.
    pub summary: serde_json::Value,
}

/// One column's drift result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftColumn {
    pub column: String,
    pub run_id: String,
    pub window_start: String,
    pub window_end: String,
    /// `feature` or `prediction`.
    pub role: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// The test that decided (`ks`, `chi2`, …).
    pub method: String,
    /// The deciding statistic's p-value or score; `null` when it could not be computed (e.g. NaN).
    pub score: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    pub psi: Option<f64>,
    pub js: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    pub created_at: String,
    /// The column's full JSON as in drift.json.
    pub detail: serde_json::Value,
}

/// The result of verifying a model's attestation chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    /// The chain head the store names (hash of the newest attested statement).
    pub head: Option<String>,
    /// Attested verdicts in the chain.
    pub attested: u64,
    /// Whether every signature and link holds and the head names the newest statement.
    pub verified: bool,
    /// What broke, when it does not hold.
    pub problem: Option<String>,
}
