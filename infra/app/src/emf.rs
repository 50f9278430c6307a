//! CloudWatch Embedded Metric Format: a metric is a JSON log line with an `_aws` member that names it,
//! and CloudWatch Logs extracts it. No PutMetricData call, no client, no cost at the call site; the
//! functions print these lines to stdout, which Lambda ships to CloudWatch Logs.
//!
//! Rules kept here (from the specification): `_aws.Timestamp` in epoch milliseconds; one
//! `CloudWatchMetrics` directive with a `Namespace`, one dimension set of at most 30 names and at most
//! 100 metrics; every dimension and metric it names is a member of the root object (dimension values
//! strings, metric values numbers).

use serde_json::{Map, Value, json};

/// The namespace of DeltaOne's own metrics.
pub const NAMESPACE: &str = "DeltaOne";
/// The specification's limit of metrics per directive.
pub const MAX_METRICS: usize = 100;
/// The specification's limit of dimensions per dimension set.
pub const MAX_DIMENSIONS: usize = 30;

/// A CloudWatch unit, as EMF spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    Percent,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

/// One EMF record: a namespace, dimensions and metric values, and properties (searchable in the
/// logs, not metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    namespace: String,
    dimensions: Vec<(String, String)>,
    /// Further dimension sets, each a subset of the dimensions' names (the full set always comes first).
    rollups: Vec<Vec<String>>,
    metrics: Vec<(String, f64, Unit)>,
    properties: Vec<(String, serde_json::Value)>,
}

impl Record {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            dimensions: Vec::new(),
            rollups: Vec::new(),
            metrics: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// The metrics also aggregated over just these dimensions (say per function across models);
    /// names that are not dimensions are left out.
    pub fn rollup(mut self, names: &[&str]) -> Self {
        let set: Vec<String> =
            names.iter().filter(|n| self.dimensions.iter().any(|(d, _)| d == **n)).map(|n| (*n).to_owned()).collect();
        self.rollups.push(set);
        self
    }

    /// A member of the log line that is not a metric (an outcome, a run id): searchable in Logs
    /// Insights, free of metric cost.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }

    /// Adds a dimension; past [`MAX_DIMENSIONS`] it is dropped (logged once by the caller's line).
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if self.dimensions.len() < MAX_DIMENSIONS {
            self.dimensions.push((name.into(), value.into()));
        }
        self
    }

    /// Adds a metric; non-finite values are not metrics and are skipped, as are those past
    /// [`MAX_METRICS`].
    pub fn metric(mut self, name: impl Into<String>, value: f64, unit: Unit) -> Self {
        if value.is_finite() && self.metrics.len() < MAX_METRICS {
            self.metrics.push((name.into(), value, unit));
        }
        self
    }

    /// The log line at `timestamp_ms`.
    pub fn line(&self, timestamp_ms: i64) -> String {
        let mut root = Map::new();
        for (name, value) in &self.properties {
            root.insert(name.clone(), value.clone());
        }
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.metrics {
            root.insert(name.clone(), json!(value));
        }
        let names: Vec<&str> = self.dimensions.iter().map(|(n, _)| n.as_str()).collect();
        let mut sets = vec![names];
        sets.extend(self.rollups.iter().map(|set| set.iter().map(String::as_str).collect()));
        let metrics: Vec<Value> =
            self.metrics.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": self.namespace, "Dimensions": sets, "Metrics": metrics}],
            }),
        );
        Value::Object(root).to_string()
    }
}

/// The record of one DeltaOne check, as the check functions emit it: per function and model, rolled
/// up per function. `Checks` (1), `Recorded` (1 when this check recorded the verdict), `Achieved`
/// (1 or 0, comparisons only), `DeltaPp` (comparisons only), `CheckDuration` (ms); the outcome,
/// version and whether it was notified as properties.
pub fn check_record(function: &str, report: &crate::check::CheckReport, model: &str, elapsed_ms: f64) -> Record {
    use crate::check::Stored;
    let verdict = &report.verdict;
    let recorded = matches!(report.stored, Stored::New | Stored::Replaced);
    let mut record = Record::new(NAMESPACE)
        .dimension("Function", function)
        .dimension("Model", model)
        .rollup(&["Function"])
        .property("Outcome", verdict.outcome.as_str())
        .property("Version", verdict.candidate_version.map(|v| v.to_string()).unwrap_or_default())
        .property("Notified", report.notified)
        .metric("Checks", 1.0, Unit::Count)
        .metric("Recorded", if recorded { 1.0 } else { 0.0 }, Unit::Count)
        .metric("CheckDuration", elapsed_ms, Unit::Milliseconds);
    if verdict.outcome.is_comparison() {
        record = record.metric("Achieved", if verdict.achieved() { 1.0 } else { 0.0 }, Unit::Count);
        if let Some(delta) = verdict.delta_pp.and_then(|d| d.to_string().parse::<f64>().ok()) {
            record = record.metric("DeltaPp", delta, Unit::None);
        }
    }
    record
}

/// Now, in epoch milliseconds (EMF's timestamps).
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether metric lines are written: [`crate::env::EMF`] says (`on`/`off`, `1`/`0`, `true`/`false`);
/// unset, only under Lambda ([`crate::env::AWS_LAMBDA_FUNCTION_NAME`]), so that tests, benches and
/// local runs of a handler keep their output to themselves.
pub fn enabled_from(var: impl Fn(&str) -> Option<String>) -> Result<bool, String> {
    match var(crate::env::EMF).as_deref().map(str::trim) {
        None | Some("") => Ok(var(crate::env::AWS_LAMBDA_FUNCTION_NAME).is_some_and(|n| !n.is_empty())),
        Some("on" | "1" | "true") => Ok(true),
        Some("off" | "0" | "false") => Ok(false),
        Some(other) => Err(format!("{}={other:?}: expected on or off", crate::env::EMF)),
    }
}

/// [`enabled_from`] the environment, read once; a value that is neither on nor off is warned about
/// once and the default applies.
pub fn enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| match enabled_from(|name| std::env::var(name).ok()) {
        Ok(on) => on,
        Err(e) => {
            tracing::warn!("{e}; metric lines follow the default (on under Lambda)");
            enabled_from(|name| (name != crate::env::EMF).then(|| std::env::var(name).ok()).flatten()).unwrap_or(false)
        }
    })
}

/// Prints a record as one line on standard output, where Lambda (and the awslogs driver) hand it to
/// CloudWatch Logs, which extracts the metrics; nothing when [`enabled`] says no.
pub fn emit(record: &Record) {
    use std::io::Write as _;
    if !enabled() {
        return;
    }
    let line = record.line(now_ms());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Why a line is not valid EMF (the specification's rules, checked the way CloudWatch applies them).
pub fn validate(line: &str) -> Result<(), String> {
    let root: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let root = root.as_object().ok_or("not a JSON object")?;
    let aws = root.get("_aws").and_then(Value::as_object).ok_or("no _aws object")?;
    aws.get("Timestamp").and_then(Value::as_i64).filter(|t| *t >= 0).ok_or("_aws.Timestamp is not epoch ms")?;
    let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array).ok_or("no CloudWatchMetrics array")?;
    for directive in directives {
        let namespace = directive.get("Namespace").and_then(Value::as_str).ok_or("a directive has no Namespace")?;
        if namespace.is_empty() || namespace.len() > 1024 {
            return Err(format!("namespace {namespace:?} is not 1 to 1024 characters"));
        }
        for set in directive.get("Dimensions").and_then(Value::as_array).ok_or("no Dimensions array")? {
            let set = set.as_array().ok_or("a dimension set is not an array")?;
            if set.len() > MAX_DIMENSIONS {
                return Err(format!("{} dimensions in a set (at most {MAX_DIMENSIONS})", set.len()));
            }
            for name in set {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                if !root.get(name).is_some_and(Value::is_string) {
                    return Err(format!("dimension {name} has no string value at the root"));
                }
            }
        }
        let metrics = directive.get("Metrics").and_then(Value::as_array).ok_or("no Metrics array")?;
        if metrics.len() > MAX_METRICS {
            return Err(format!("{} metrics in a directive (at most {MAX_METRICS})", metrics.len()));
        }
        for metric in metrics {
            let name = metric.get("Name").and_then(Value::as_str).ok_or("a metric has no Name")?;
            if name.is_empty() || name.len() > 1024 {
                return Err(format!("metric name {name:?} is not 1 to 1024 characters"));
            }
            if !root.get(name).is_some_and(Value::is_number) {
                return Err(format!("metric {name} has no number value at the root"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_valid_emf_with_its_values_at_the_root() {
        let line = Record::new(NAMESPACE)
            .dimension("Function", "registry-sweep")
            .metric("ReconciledVersions", 2.0, Unit::Count)
            .metric("Duration", 12.5, Unit::Milliseconds)
            .metric("Broken", f64::NAN, Unit::None)
            .line(1_767_484_800_000);
        assert_eq!(validate(&line), Ok(()));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (value["Function"].as_str(), value["ReconciledVersions"].as_f64()),
            (Some("registry-sweep"), Some(2.0))
        );
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "DeltaOne");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "ReconciledVersions", "Unit": "Count"}, {"Name": "Duration", "Unit": "Milliseconds"}])
        );
        assert!(value.get("Broken").is_none(), "NaN is not a metric value");
    }

    #[test]
    fn rollups_add_dimension_sets_and_properties_stay_out_of_the_metrics() {
        let line = Record::new(NAMESPACE)
            .dimension("Function", "evaluation")
            .dimension("Model", "fraud")
            .rollup(&["Function", "NotADimension"])
            .property("Outcome", "achieved")
            .metric("Checks", 1.0, Unit::Count)
            .line(0);
        assert_eq!(validate(&line), Ok(()));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function", "Model"], ["Function"]]));
        assert_eq!(value["Outcome"], "achieved");
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Metrics"], json!([{"Name": "Checks", "Unit": "Count"}]));
    }

    #[tokio::test]
    async fn a_checks_record_carries_its_outcome_delta_and_whether_it_recorded() {
        use crate::check::{CheckRequest, Checker};
        let dir = tempfile::tempdir().unwrap();
        let registry = std::sync::Arc::new(
            crate::registry::SnapshotRegistry::from_json(crate::registry::snapshot::SAMPLE_REGISTRY).unwrap(),
        );
        let store = std::sync::Arc::new(crate::store::file::FileVerdictStore::new(dir.path()));
        let checker = Checker::new(registry, Some(store), deltaone::Policy::default());
        let request = CheckRequest { model: "fraud-detector".into(), version: None, dry_run: false };
        let first = checker.check(&request).await.unwrap();
        let line = check_record("evaluation", &first, "fraud-detector", 12.0).line(0);
        assert_eq!(validate(&line), Ok(()));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!((value["Outcome"].as_str(), value["Version"].as_str()), (Some("achieved"), Some("3")));
        assert_eq!(
            (value["Recorded"].as_f64(), value["Achieved"].as_f64(), value["DeltaPp"].as_f64()),
            (Some(1.0), Some(1.0), Some(1.0))
        );
        let again = checker.check(&request).await.unwrap();
        let value: Value =
            serde_json::from_str(&check_record("evaluation", &again, "fraud-detector", 3.0).line(0)).unwrap();
        assert_eq!(value["Recorded"].as_f64(), Some(0.0), "a repeat check records nothing");
    }

    #[test]
    fn lines_are_written_under_lambda_or_when_asked_and_a_bad_value_is_named() {
        let vars = |pairs: &'static [(&str, &str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(enabled_from(vars(&[])), Ok(false));
        assert_eq!(enabled_from(vars(&[("AWS_LAMBDA_FUNCTION_NAME", "d1-evaluation")])), Ok(true));
        assert_eq!(enabled_from(vars(&[("AWS_LAMBDA_FUNCTION_NAME", "f"), ("DELTAONE_EMF", "off")])), Ok(false));
        assert_eq!(enabled_from(vars(&[("DELTAONE_EMF", "on")])), Ok(true));
        assert_eq!(
            enabled_from(vars(&[("DELTAONE_EMF", "loud")])),
            Err("DELTAONE_EMF=\"loud\": expected on or off".into())
        );
    }

    #[test]
    fn the_limits_hold_and_lines_that_break_the_rules_are_named() {
        let mut record = Record::new(NAMESPACE);
        for i in 0..120 {
            record = record.metric(format!("m{i}"), 1.0, Unit::Count).dimension(format!("d{i}"), "x");
        }
        assert_eq!(validate(&record.line(0)), Ok(()));
        let value: Value = serde_json::from_str(&record.line(0)).unwrap();
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), MAX_METRICS);
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0].as_array().unwrap().len(), MAX_DIMENSIONS);

        let missing_value = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}"#;
        assert_eq!(validate(missing_value), Err("metric M has no number value at the root".into()));
        let no_timestamp = r#"{"_aws":{"CloudWatchMetrics":[]}}"#;
        assert_eq!(validate(no_timestamp), Err("_aws.Timestamp is not epoch ms".into()));
        assert_eq!(validate("[]"), Err("not a JSON object".into()));
    }
}
