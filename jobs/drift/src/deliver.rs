//! Where a run's results go: `drift.json` and `report.html` (a local directory or an S3 prefix),
//! the DynamoDB items (see [`crate::results`]) and the SNS `drift.detected` alert.

use backon::Retryable;
use deltaone::drift::alerting::{self, AlertAction, AlertRule, ColumnNow, PastRun, RunAlert};
use deltaone::message::{DriftAlert, DriftBody, FeatureScore, Message, TimeWindow};
use time::OffsetDateTime;

use super::config::short_name;
use super::filter::rfc3339_seconds;
use super::quarantine::{Destination, put};
use super::source::Location;
use super::{DriftJobError, DriftReport, REPORT_FILE, RESULT_FILE};
use crate::results::RunKey;
use deltaone_app::notify::Notifier;
use deltaone_aws::sns::SnsNotifier;

/// Columns named in the alert.
const ALERT_COLUMNS: usize = 5;

/// Where results go.
#[derive(Debug, Clone)]
pub struct DeliverOptions {
    /// A local directory, or `s3://bucket/prefix/` (results under `<prefix><run id>/`).
    pub out: String,
    /// The DynamoDB drift table; no items without it.
    pub table: Option<String>,
    /// The model label of the items and the alert.
    pub model: String,
    pub retention_days: u32,
    /// The SNS topic for `drift.detected`; no alert without it.
    pub topic_arn: Option<String>,
    /// A scheduled run: publish its summary whatever the result (`drift.report`, or
    /// `drift.detected` when the dataset drifted), linking the report by an S3 URL presigned for
    /// this long (at most 7 days, SigV4's limit). `None`: alert on drift only.
    pub summary_link: Option<std::time::Duration>,
    /// When drift alerts, given the run history in `table` (without a table every dataset drift
    /// alerts).
    pub alert: AlertRule,
}

/// How long the link of a scheduled summary works by default (SigV4's maximum).
pub const DEFAULT_SUMMARY_LINK: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// The AWS clients delivery may need.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    pub s3: Option<aws_sdk_s3::Client>,
    pub dynamodb: Option<aws_sdk_dynamodb::Client>,
    pub sns: Option<aws_sdk_sns::Client>,
}

/// What was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub json_uri: String,
    pub report_uri: String,
    pub items_written: usize,
    /// A `drift.detected` message was published.
    pub alerted: bool,
    /// The scheduled summary was published (`drift.report`, or the `drift.detected` above).
    pub summarised: bool,
    /// A `drift.report` saying that alerted columns recovered was published.
    pub recovered: bool,
    /// The alert rule's decision (with a table).
    pub alert: Option<RunAlert>,
}

fn aws_error(what: &str, message: impl std::fmt::Display) -> DriftJobError {
    DriftJobError::Aws(format!("{what}: {message}"))
}

/// Writes the result files, the table items and the alert, in that order (the items and the alert
/// link the report).
pub async fn deliver(
    report: &DriftReport,
    options: &DeliverOptions,
    clients: &Clients,
) -> Result<Delivery, DriftJobError> {
    let now = OffsetDateTime::now_utc();
    let created_at = rfc3339_seconds(now);
    let window_end = report.windows.current.end.clone().unwrap_or_else(|| created_at.clone());
    let mut with_history;
    let mut report = report;
    if let (Some(table), Some(client)) = (&options.table, clients.dynamodb.as_ref()) {
        with_history = report.clone();
        with_history.history = history(client, table, &options.model, report, now.unix_timestamp()).await?;
        let topic = options.topic_arn.is_some();
        with_history.alert = Some(decide_alert(&with_history, &options.alert, &window_end, topic));
        if let Some(alert) = &with_history.alert {
            tracing::info!(action = alert.action.as_str(), reason = %alert.reason, "alert rule");
        }
        report = &with_history;
    }
    let (json_location, html_location) = write_files(report, &options.out, clients).await?;
    let report_uri = html_location.to_string();
    let key = RunKey {
        model: options.model.clone(),
        window_start: report.windows.current.start.clone().unwrap_or_else(|| created_at.clone()),
        window_end,
        created_at: created_at.clone(),
        expires_at: now.unix_timestamp() + i64::from(options.retention_days) * 86_400,
        report_uri: Some(report_uri.clone()),
    };
    let mut items_written = 0;
    if let Some(table) = &options.table {
        let client = clients.dynamodb.as_ref().ok_or_else(|| aws_error("drift table", "no DynamoDB client"))?;
        items_written = crate::results::write_items(client, table, crate::results::items(report, &key))
            .await
            .map_err(|e| aws_error("writing drift items", e))?;
        tracing::info!(table, items = items_written, "wrote drift items");
    }
    let mut alerted = false;
    let mut summarised = false;
    // Without the history (no table) every dataset drift alerts, as before the rule.
    let (fires, recovers) = match &report.alert {
        Some(alert) => (alert.action == AlertAction::Fired, !alert.columns_with(AlertAction::Recovered).is_empty()),
        None => (report.dataset.drifted, false),
    };
    let publish = fires || recovers || options.summary_link.is_some();
    if let (Some(topic), true) = (&options.topic_arn, publish) {
        let client = clients.sns.as_ref().ok_or_else(|| aws_error("drift alert", "no SNS client"))?;
        let mut linked = key.clone();
        if let Some(expires_in) = options.summary_link {
            linked.report_uri = Some(report_link(clients.s3.as_ref(), &html_location, expires_in).await?);
        }
        let message = alert_message(report, &linked).map_err(|e| aws_error("drift alert", e))?;
        let notification = deltaone_app::notify::notification(&message);
        let mut notifier = SnsNotifier::new(client.clone(), topic.clone());
        // An alert over SNS's size limit (many columns) goes to DELTAONE_NOTIFICATION_BUCKET when set.
        if let Some(s3) = &clients.s3 {
            notifier =
                notifier.with_offload_from_env(std::sync::Arc::new(deltaone_aws::s3::S3Objects::new(s3.clone())));
        }
        publish_message(&notifier, &notification).await?;
        tracing::info!(topic, event = %message.event_type.as_str(), "published the drift message");
        alerted = fires;
        summarised = options.summary_link.is_some();
    }
    let recovered = recovers && options.topic_arn.is_some();
    Ok(Delivery {
        json_uri: json_location.to_string(),
        report_uri,
        items_written,
        alerted,
        summarised,
        recovered,
        alert: report.alert.clone(),
    })
}

/// Writes `drift.json` and `report.html` into the output directory or S3 prefix; returns where.
async fn write_files(
    report: &DriftReport,
    out: &str,
    clients: &Clients,
) -> Result<(Location, Location), DriftJobError> {
    let locations = match Destination::parse(out) {
        Destination::Local(dir) => {
            let (json, html) = super::write_outputs(report, &dir)?;
            (Location::Local(json), Location::Local(html))
        }
        destination @ Destination::S3 { .. } => {
            let json = destination.join(&format!("{}/{RESULT_FILE}", report.run_id));
            let html = destination.join(&format!("{}/{REPORT_FILE}", report.run_id));
            let body = serde_json::to_string_pretty(report).expect("the report serialises") + "\n";
            put(clients.s3.as_ref(), &json, body.into_bytes(), "application/json")
                .await
                .map_err(|e| aws_error("writing drift.json", e))?;
            put(clients.s3.as_ref(), &html, super::report::html(report).into_bytes(), "text/html; charset=utf-8")
                .await
                .map_err(|e| aws_error("writing report.html", e))?;
            (json, html)
        }
    };
    Ok(locations)
}

/// Publishes the drift message: [`crate::retry::AWS_TRIES`] tries, 400 and 800 ms apart, while SNS
/// answers a retryable error.
async fn publish_message(
    notifier: &SnsNotifier,
    notification: &deltaone_app::notify::Notification,
) -> Result<(), DriftJobError> {
    let mut attempt = 0;
    (|| notifier.publish(notification))
        .retry(crate::retry::aws_pauses())
        .when(|e| e.is_retryable())
        .notify(|e, _| {
            attempt += 1;
            tracing::warn!(error = %e, attempt, "retrying the drift alert");
        })
        .await
        .map_err(|e| aws_error("publishing the drift alert", e))
}

/// Seconds of an RFC 3339 time; `None` when it does not parse.
fn epoch(rfc3339: &str) -> Option<i64> {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// The alert rule over the report's columns and their history (`report.history`, oldest first).
/// Without a `topic` nobody can be paged, so nothing is recorded as fired (a later run with a
/// topic is not held by the cooldown of an alert that never went out).
pub(crate) fn decide_alert(report: &DriftReport, rule: &AlertRule, window_end: &str, topic: bool) -> RunAlert {
    let now = epoch(window_end).unwrap_or(0);
    let past: Vec<Vec<PastRun>> = report
        .columns
        .iter()
        .map(|c| {
            let runs = report.history.iter().find(|h| h.column == c.column).map_or(&[][..], |h| &h.runs[..]);
            runs.iter()
                .rev()
                .map(|r| PastRun {
                    // A window end that does not parse (not written by this job) is never inside a cooldown.
                    at: epoch(&r.window_end).unwrap_or(i64::MIN / 2),
                    at_label: r.window_end.clone(),
                    drifted: r.drifted,
                    action: r.alert,
                    severity: r.severity,
                })
                .collect()
        })
        .collect();
    let columns: Vec<ColumnNow> = report
        .columns
        .iter()
        .zip(&past)
        .filter(|(c, _)| c.error.is_none())
        .map(|(c, history)| ColumnNow { column: &c.column, drifted: c.drifted, severity: c.severity, history })
        .collect();
    let d = &report.dataset;
    let why = format!(
        "the dataset did not drift ({} of {} columns, threshold {:.0}%)",
        d.drifted_columns,
        d.columns,
        d.threshold * 100.0
    );
    let dataset = match (d.drifted, topic) {
        (false, _) => Err(why.as_str()),
        (true, false) => Err("no alert topic is configured (--topic-arn): nobody was paged"),
        (true, true) => Ok(()),
    };
    alerting::decide_alerts(rule, now, dataset, &columns)
}

/// Earlier runs read per column (one Query each on `{model}#COLUMN#{column}`, newest first).
const HISTORY_RUNS: i32 = 20;

/// Each column's scores in the model's previous runs (this run excluded, expired items too),
/// oldest first; columns without history are left out.
pub async fn history(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    model: &str,
    report: &DriftReport,
    now: i64,
) -> Result<Vec<super::ColumnHistory>, DriftJobError> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| match item.get(name) {
        Some(AttributeValue::S(v) | AttributeValue::N(v)) => Some(v.clone()),
        _ => None,
    };
    let mut out = Vec::new();
    for column in &report.columns {
        let query = || {
            client
                .query()
                .table_name(table)
                .key_condition_expression("pk = :pk")
                .filter_expression("expires_at > :now")
                .expression_attribute_values(":pk", AttributeValue::S(crate::results::column_pk(model, &column.column)))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .scan_index_forward(false)
                .limit(HISTORY_RUNS + 1)
                .send()
        };
        let page = query
            .retry(crate::retry::aws_pauses())
            .notify(|e, _| {
                tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "retrying the history query")
            })
            .await
            .map_err(|e| aws_error("reading the drift history", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        let mut runs: Vec<super::HistoryPoint> = page
            .items()
            .iter()
            .filter(|item| text(item, "run_id").as_deref() != Some(report.run_id.as_str()))
            .take(HISTORY_RUNS as usize)
            .map(|item| super::HistoryPoint {
                run_id: text(item, "run_id").unwrap_or_default(),
                window_end: text(item, "window_end").unwrap_or_default(),
                method: text(item, "method").unwrap_or_default(),
                score: text(item, "score").and_then(|s| s.parse().ok()),
                drifted: matches!(item.get("drifted"), Some(AttributeValue::Bool(true))),
                alert: text(item, "alert").map_or(AlertAction::None, |a| AlertAction::parse(&a)),
                severity: text(item, "severity").and_then(|s| deltaone::drift::DriftSeverity::parse(&s)),
            })
            .collect();
        runs.reverse();
        if !runs.is_empty() {
            out.push(super::ColumnHistory { column: column.column.clone(), runs });
        }
    }
    Ok(out)
}

/// A link to the report a reader can open: an S3 GET URL presigned for `expires_in`, or the path
/// of a local report.
pub async fn report_link(
    s3: Option<&aws_sdk_s3::Client>,
    report: &Location,
    expires_in: std::time::Duration,
) -> Result<String, DriftJobError> {
    match report {
        Location::Local(path) => Ok(path.display().to_string()),
        Location::S3 { bucket, key } => {
            let client = s3.ok_or_else(|| aws_error("presigning the report link", "no S3 client"))?;
            let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
                .map_err(|e| aws_error("presigning the report link", e))?;
            let request = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .presigned(config)
                .await
                .map_err(|e| aws_error("presigning the report link", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
            Ok(request.uri().to_owned())
        }
    }
}

/// The `drift.detected` (or `drift.report`) message of a run, linking the report.
pub fn alert_message(report: &DriftReport, key: &RunKey) -> Result<Message, deltaone::message::MessageError> {
    let top_features = super::report::by_severity(&report.columns)
        .into_iter()
        .filter_map(|c| {
            c.score.filter(|s| s.is_finite()).map(|score| FeatureScore {
                column: c.column.clone(),
                method: short_name(c.method).to_owned(),
                score,
                drifted: c.drifted,
            })
        })
        .take(ALERT_COLUMNS)
        .collect();
    let alert = report.alert.as_ref().map(|a| DriftAlert {
        action: a.action.as_str().to_owned(),
        reason: a.reason.clone(),
        fired: a.columns_with(AlertAction::Fired),
        held: a.columns_with(AlertAction::Held),
        recovered: a.columns_with(AlertAction::Recovered),
    });
    let body = DriftBody {
        run_id: report.run_id.clone(),
        window: TimeWindow { start: key.window_start.clone(), end: key.window_end.clone() },
        drifted_columns: report.columns.iter().filter(|c| c.drifted).map(|c| c.column.clone()).collect(),
        share_drifted: report.dataset.drifted_share,
        dataset_drift: report.dataset.drifted,
        report_link: key.report_uri.clone(),
        top_features,
        negligible_columns: report
            .columns
            .iter()
            .filter(|c| c.verdict == Some(deltaone::drift::ColumnVerdict::Negligible))
            .map(|c| c.column.clone())
            .collect(),
        alert,
    };
    Message::from_drift(
        format!("drift:{}:{}", key.model, report.run_id),
        key.created_at.clone(),
        key.model.clone(),
        body,
        key.report_uri.clone(),
    )
}
