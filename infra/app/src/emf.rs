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

/// One EMF record: a namespace, dimensions and metric values.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    namespace: String,
    dimensions: Vec<(String, String)>,
    metrics: Vec<(String, f64, Unit)>,
}

impl Record {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self { namespace: namespace.into(), dimensions: Vec::new(), metrics: Vec::new() }
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
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.metrics {
            root.insert(name.clone(), json!(value));
        }
        let names: Vec<&str> = self.dimensions.iter().map(|(n, _)| n.as_str()).collect();
        let metrics: Vec<Value> =
            self.metrics.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": self.namespace, "Dimensions": [names], "Metrics": metrics}],
            }),
        );
        Value::Object(root).to_string()
    }
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
