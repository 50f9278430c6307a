//! Drift results in DynamoDB (env `DELTAONE_DRIFT_TABLE`): one item per (model, window, column)
//! and one run summary, with a TTL (`expires_at`).
//!
//! Keys (partition `pk` S, sort `sk` S) follow [`deltaone_app::drift_keys`], which the query API
//! reads them with.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ScalarAttributeType, TimeToLiveSpecification, WriteRequest};
use backon::Retryable;

use crate::config::short_name;
use crate::drift_report::{ColumnResult, DriftReport};
use crate::plan::Role;

/// Default retention of drift items (`DELTAONE_DRIFT_RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 400;
pub use deltaone_app::drift_keys::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, column_pk, run_pk, sort_key};
/// The model label without a model filter (`DELTAONE_DRIFT_MODEL` overrides it).
pub const DEFAULT_MODEL: &str = "default";
/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;
/// Attempts for a batch whose items DynamoDB leaves unprocessed (or that fails retryably).
const ATTEMPTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum DriftStoreError {
    #[error("drift table {table}: {message}")]
    Failed { table: String, message: String },
    #[error("drift table {table}: {count} item(s) still unprocessed after {ATTEMPTS} attempts")]
    Unprocessed { table: String, count: usize },
}

/// What identifies a run's items besides the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKey {
    /// The model label (`--model-name`, `DELTAONE_DRIFT_MODEL`, else `default`).
    pub model: String,
    /// RFC 3339 UTC seconds.
    pub window_start: String,
    pub window_end: String,
    pub created_at: String,
    /// Epoch seconds.
    pub expires_at: i64,
    pub report_uri: Option<String>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The smallest magnitude a DynamoDB number holds (1E-130); a smaller one is refused with
/// "Number underflow", which p-values of strongly drifted columns reach (1e-184 on the samples).
const DYNAMODB_MIN_MAGNITUDE: f64 = 1e-130;
/// DynamoDB numbers stay below 1E+126 in magnitude.
const DYNAMODB_MAX_MAGNITUDE: f64 = 1e126;

/// A finite number as `N`. DynamoDB has no NaN or infinity and nothing beyond 1E+126, so those are
/// left out; a magnitude below 1E-130 is stored as 0 (what any threshold sees in it), and the item's
/// `detail` keeps the exact value.
fn put_f64(item: &mut HashMap<String, AttributeValue>, name: &str, value: Option<f64>) {
    let Some(v) = value.filter(|v| v.is_finite() && v.abs() < DYNAMODB_MAX_MAGNITUDE) else { return };
    let v = if v.abs() < DYNAMODB_MIN_MAGNITUDE { 0.0 } else { v };
    item.insert(name.to_owned(), n(v));
}

/// The per-column items and the run summary of a report.
pub fn items(report: &DriftReport, key: &RunKey) -> Vec<HashMap<String, AttributeValue>> {
    let sk = sort_key(&key.window_end, &report.run_id);
    let common = |pk: String| {
        HashMap::from([
            (PARTITION_KEY.to_owned(), s(pk)),
            (SORT_KEY.to_owned(), s(sk.clone())),
            ("model".to_owned(), s(&key.model)),
            ("run_id".to_owned(), s(&report.run_id)),
            ("window_start".to_owned(), s(&key.window_start)),
            ("window_end".to_owned(), s(&key.window_end)),
            ("created_at".to_owned(), s(&key.created_at)),
            (TTL_ATTRIBUTE.to_owned(), n(key.expires_at)),
        ])
    };
    let mut items = Vec::with_capacity(report.columns.len() + 1);
    for column in &report.columns {
        let mut item = common(column_pk(&key.model, &column.column));
        item.insert("column".to_owned(), s(&column.column));
        let role = match column.role {
            Role::Feature => "feature",
            Role::Prediction => "prediction",
        };
        item.insert("role".to_owned(), s(role));
        item.insert("kind".to_owned(), s(column.kind.as_str()));
        item.insert("method".to_owned(), s(short_name(column.method)));
        put_f64(&mut item, "score", column.score);
        put_f64(&mut item, "threshold", Some(column.threshold));
        item.insert("drifted".to_owned(), AttributeValue::Bool(column.drifted));
        if let Some(verdict) = column.verdict {
            item.insert("verdict".to_owned(), s(verdict.as_str()));
        }
        if let Some(severity) = column.severity {
            item.insert("severity".to_owned(), s(severity.as_str()));
        }
        put_f64(&mut item, "p_value", column.p_value);
        put_f64(&mut item, "p_value_adjusted", column.p_value_adjusted);
        // What the alert rule did: the next runs' cooldown and recovery read it back.
        let alert = report.alert.as_ref().and_then(|a| a.columns.iter().find(|c| c.column == column.column));
        item.insert("alert".to_owned(), s(alert.map_or("none", |a| a.action.as_str())));
        if let Some(alert) = alert {
            item.insert("alert_reason".to_owned(), s(&alert.reason));
        }
        let (psi, js, wasserstein) = distances(column);
        put_f64(&mut item, "psi", psi);
        put_f64(&mut item, "js", js);
        put_f64(&mut item, "wasserstein_norm", wasserstein);
        item.insert("detail".to_owned(), s(serde_json::to_string(column).expect("a column serialises")));
        items.push(item);
    }
    let mut run = common(run_pk(&key.model));
    let d = &report.dataset;
    run.insert("dataset_drift".to_owned(), AttributeValue::Bool(d.drifted));
    run.insert("drifted_columns".to_owned(), n(d.drifted_columns));
    run.insert("columns".to_owned(), n(d.columns));
    put_f64(&mut run, "drift_share", Some(d.drifted_share));
    put_f64(&mut run, "share_threshold", Some(d.threshold));
    run.insert("rows_reference".to_owned(), n(report.windows.reference.rows));
    run.insert("rows_current".to_owned(), n(report.windows.current.rows));
    run.insert("quarantined_files".to_owned(), n(report.quarantined_files));
    if let Some(alert) = &report.alert {
        run.insert("alert".to_owned(), s(alert.action.as_str()));
        run.insert("alert_reason".to_owned(), s(&alert.reason));
    }
    if let Some(uri) = &key.report_uri {
        run.insert("report_uri".to_owned(), s(uri));
    }
    run.insert("summary".to_owned(), s(summary_json(report, key).to_string()));
    items.push(run);
    items
}

fn distances(column: &ColumnResult) -> (Option<f64>, Option<f64>, Option<f64>) {
    use crate::drift_report::Statistics;
    match &column.statistics {
        Some(Statistics::Numeric { psi, jensen_shannon, wasserstein_normalised, .. }) => {
            (*psi, *jensen_shannon, *wasserstein_normalised)
        }
        Some(Statistics::NumericSketch { psi, jensen_shannon, wasserstein_normalised, .. }) => {
            (*psi, *jensen_shannon, *wasserstein_normalised)
        }
        Some(Statistics::Categorical { psi, jensen_shannon, .. }) => (*psi, *jensen_shannon, None),
        None => (None, None, None),
    }
}

/// The run summary JSON: the report without its per-column detail.
pub fn summary_json(report: &DriftReport, key: &RunKey) -> serde_json::Value {
    serde_json::json!({
        "run_id": report.run_id,
        "model": key.model,
        "window": {"start": key.window_start, "end": key.window_end},
        "windows": report.windows,
        "dataset": report.dataset,
        "drifted_columns": report.columns.iter().filter(|c| c.drifted).map(|c| &c.column).collect::<Vec<_>>(),
        "skipped_files": report.skipped_files,
        "quarantined_files": report.quarantined_files,
        "performance": report.performance,
        "alert": report.alert,
        "report_uri": key.report_uri,
    })
}

/// Writes items with BatchWriteItem, 25 at a time; unprocessed items and retryable failures are
/// retried with exponential backoff.
pub async fn write_items(
    client: &Client,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) -> Result<usize, DriftStoreError> {
    let total = items.len();
    let requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            let put = PutRequest::builder().set_item(Some(item)).build().expect("an item is set");
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    for chunk in requests.chunks(BATCH) {
        // What is still to write, and the sends so far: each send writes what the last one left.
        let pending = std::sync::Mutex::new((chunk.to_vec(), 0u32));
        let send = || async {
            let (items, attempt) = {
                let mut pending = pending.lock().expect("not poisoned");
                pending.1 += 1;
                (pending.0.clone(), pending.1)
            };
            match client.batch_write_item().request_items(table, items).send().await {
                Ok(out) => {
                    let left = out.unprocessed_items().and_then(|u| u.get(table)).cloned().unwrap_or_default();
                    let unprocessed = left.len();
                    pending.lock().expect("not poisoned").0 = left;
                    if unprocessed == 0 {
                        return Ok(());
                    }
                    tracing::warn!(table, unprocessed, attempt, "retrying unprocessed drift items");
                    Err(BatchFailure::Unprocessed)
                }
                Err(e) => {
                    let (message, retryable) = deltaone_aws::dynamodb::dynamodb_failure("BatchWriteItem", &e);
                    if retryable {
                        tracing::warn!(table, attempt, %message, "retrying drift items");
                    }
                    Err(BatchFailure::Failed { message, retryable })
                }
            }
        };
        let sent = send
            .retry(crate::retry::unprocessed_pauses(ATTEMPTS))
            .when(|e| matches!(e, BatchFailure::Unprocessed | BatchFailure::Failed { retryable: true, .. }))
            .await;
        match sent {
            Ok(()) => {}
            Err(BatchFailure::Failed { message, retryable: false }) => {
                return Err(DriftStoreError::Failed { table: table.to_owned(), message });
            }
            Err(_) => {
                let count = pending.lock().expect("not poisoned").0.len();
                return Err(DriftStoreError::Unprocessed { table: table.to_owned(), count });
            }
        }
    }
    Ok(total)
}

/// Why one send of a BatchWriteItem did not write everything.
enum BatchFailure {
    /// DynamoDB left some items unprocessed (they are what the next send writes).
    Unprocessed,
    Failed {
        message: String,
        retryable: bool,
    },
}

/// Creates the drift table (`pk` S, `sk` S, on demand) unless it exists, and enables TTL on
/// `expires_at` unless it is enabled. Idempotent. Returns whether the table was created.
pub async fn init_table(client: &Client, table: &str) -> Result<bool, DriftStoreError> {
    let failed = |message: String| DriftStoreError::Failed { table: table.to_owned(), message };
    let keys = [(PARTITION_KEY, ScalarAttributeType::S), (SORT_KEY, ScalarAttributeType::S)];
    let created =
        deltaone_aws::dynamodb::create_dynamodb_table(client, table, &keys).await.map_err(|(m, _)| failed(m))?;
    let ttl = client.describe_time_to_live().table_name(table).send().await;
    let ttl = ttl.map_err(|e| failed(deltaone_aws::dynamodb::dynamodb_failure("DescribeTimeToLive", &e).0))?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(TTL_ATTRIBUTE)
            && matches!(
                d.time_to_live_status(),
                Some(
                    aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                        | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
                )
            )
    });
    if !enabled {
        let spec =
            TimeToLiveSpecification::builder().attribute_name(TTL_ATTRIBUTE).enabled(true).build().expect("complete");
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| failed(deltaone_aws::dynamodb::dynamodb_failure("UpdateTimeToLive", &e).0))?;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> DriftReport {
        let options = crate::RunOptions::new(
            vec![crate::samples::default_dir().join("reference.parquet").display().to_string()],
            vec![crate::samples::default_dir().join("current.parquet").display().to_string()],
        );
        let mut options = options;
        options.run_id = "r1".to_owned();
        crate::run(&options).unwrap()
    }

    #[test]
    fn items_follow_the_table_design() {
        let report = report();
        let key = RunKey {
            model: "fraud".into(),
            window_start: "2026-11-01T00:00:00Z".into(),
            window_end: "2026-11-02T00:00:00Z".into(),
            created_at: "2026-11-02T00:05:00Z".into(),
            expires_at: 1_800_000_000,
            report_uri: Some("s3://b/r/report.html".into()),
        };
        let items = items(&report, &key);
        assert_eq!(items.len(), report.columns.len() + 1);
        let amount = items.iter().find(|i| i["pk"] == s("fraud#COLUMN#amount")).expect("a column item");
        assert_eq!(amount["sk"], s("2026-11-02T00:00:00Z#r1"));
        assert_eq!(amount["method"], s("wasserstein"));
        assert_eq!(
            (amount["verdict"].as_s().unwrap().as_str(), amount["alert"].as_s().unwrap().as_str()),
            ("drift", "none")
        );
        assert!(
            amount.contains_key("p_value")
                && amount.contains_key("p_value_adjusted")
                && amount.contains_key("severity")
        );
        assert_eq!(amount["kind"], s("numeric"));
        assert_eq!(amount["role"], s("feature"));
        assert_eq!(amount["drifted"], AttributeValue::Bool(true));
        assert_eq!(amount[TTL_ATTRIBUTE], n(1_800_000_000));
        assert!(amount.contains_key("psi") && amount.contains_key("wasserstein_norm"));
        let detail: serde_json::Value = serde_json::from_str(amount["detail"].as_s().unwrap()).unwrap();
        assert_eq!(detail["column"], "amount");
        let channel = items.iter().find(|i| i["pk"] == s("fraud#COLUMN#channel")).unwrap();
        assert_eq!(
            (channel["method"].as_s().unwrap().as_str(), channel.contains_key("wasserstein_norm")),
            ("js", false)
        );
        let run = items.iter().find(|i| i["pk"] == s("fraud#RUN")).expect("a run item");
        assert_eq!(run["rows_reference"], n(5000));
        assert_eq!(run["report_uri"], s("s3://b/r/report.html"));
        assert_eq!(run["dataset_drift"], AttributeValue::Bool(report.dataset.drifted));
        let summary: serde_json::Value = serde_json::from_str(run["summary"].as_s().unwrap()).unwrap();
        assert_eq!(summary["run_id"], "r1");
    }

    #[test]
    fn numbers_outside_what_dynamodb_holds_are_stored_as_zero_or_left_out() {
        let mut item = HashMap::new();
        for (name, value) in [
            ("underflow", 1.2373693451743386e-184),
            ("negative_underflow", -1e-131),
            ("smallest", 1e-130),
            ("overflow", 1e126),
            ("largest", 9.9e125),
            ("nan", f64::NAN),
        ] {
            put_f64(&mut item, name, Some(value));
        }
        assert_eq!(item["underflow"], n(0.0));
        assert_eq!(item["negative_underflow"], n(0.0));
        assert_eq!(item["smallest"], n(1e-130));
        assert_eq!(item["largest"], n(9.9e125));
        assert!(!item.contains_key("overflow") && !item.contains_key("nan"));
    }

    #[test]
    fn the_samples_strongly_drifted_column_fits_a_dynamodb_number() {
        let report = report();
        let channel = report.columns.iter().find(|c| c.column == "channel").expect("the channel column");
        // The chi-square p-value (reported beside the effect size that decides) underflows.
        assert!(channel.p_value.is_some_and(|p| p < DYNAMODB_MIN_MAGNITUDE), "the sample must underflow: {channel:?}");
        let key = RunKey {
            model: "fraud".into(),
            window_start: "a".into(),
            window_end: "b".into(),
            created_at: "c".into(),
            expires_at: 1,
            report_uri: None,
        };
        let items = items(&report, &key);
        let stored = items.iter().find(|i| i["pk"] == s("fraud#COLUMN#channel")).unwrap();
        assert_eq!(stored["p_value"], n(0.0));
        assert_eq!(stored["p_value_adjusted"], n(0.0));
    }
}
