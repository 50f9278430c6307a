//! Evaluation artifacts uploaded to S3: where they belong (key template or object metadata) and
//! what they say (a metrics JSON, or a predictions Parquet file from which we compute the metrics).

use std::collections::BTreeMap;

use deltaone::VersionNumber;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Object metadata (`x-amz-meta-…`) that names the model, version and kind, overriding the key.
pub const META_MODEL: &str = "deltaone-model";
pub const META_VERSION: &str = "deltaone-version";
pub const META_KIND: &str = "deltaone-kind";

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// `{"schema_version": 1, "metrics": {...}, ...}`
    MetricsJson,
    /// Parquet with a true-label column and a score or predicted-label column.
    Predictions,
}

/// A `deltaone-kind` that names no artifact kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("artifact kind {0:?} is not metrics or predictions")]
pub struct UnknownArtifactKind(pub String);

impl std::str::FromStr for ArtifactKind {
    type Err = UnknownArtifactKind;
    fn from_str(s: &str) -> Result<Self, UnknownArtifactKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "metrics" | "metrics_json" | "metrics-json" => Ok(Self::MetricsJson),
            "predictions" | "parquet" => Ok(Self::Predictions),
            other => Err(UnknownArtifactKind(other.to_owned())),
        }
    }
}

/// The model version an artifact belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactTarget {
    pub model: String,
    pub version: VersionNumber,
    pub kind: ArtifactKind,
}

/// A key template such as `evaluations/{model}/{version}/{file}`: `/`-separated segments, each a
/// literal, `{model}`, `{version}`, or `{file}` / `{*}` (any one segment). A final `{**}` matches
/// the rest of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    segments: Vec<Segment>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Model,
    Version,
    Any,
    Rest,
}

/// A key template that cannot route objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyTemplateError {
    #[error("key template {template:?}: unknown placeholder {placeholder:?}")]
    UnknownPlaceholder { template: String, placeholder: String },
    #[error("key template {template:?}: empty segment")]
    EmptySegment { template: String },
    #[error("key template {template:?} needs exactly one {{model}} and one {{version}}")]
    NotOneModelAndVersion { template: String },
}

impl std::str::FromStr for KeyTemplate {
    type Err = KeyTemplateError;
    fn from_str(text: &str) -> Result<Self, KeyTemplateError> {
        let parts: Vec<&str> = text.trim_matches('/').split('/').collect();
        let mut segments = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "{model}" => Segment::Model,
                "{version}" => Segment::Version,
                "{file}" | "{*}" => Segment::Any,
                "{**}" if i + 1 == parts.len() => Segment::Rest,
                p if p.contains('{') || p.contains('}') => {
                    return Err(KeyTemplateError::UnknownPlaceholder {
                        template: text.to_owned(),
                        placeholder: p.to_owned(),
                    });
                }
                "" => return Err(KeyTemplateError::EmptySegment { template: text.to_owned() }),
                p => Segment::Literal(p.to_owned()),
            });
        }
        let count = |s: &Segment| segments.iter().filter(|x| *x == s).count();
        if count(&Segment::Model) != 1 || count(&Segment::Version) != 1 {
            return Err(KeyTemplateError::NotOneModelAndVersion { template: text.to_owned() });
        }
        Ok(Self { segments, text: text.to_owned() })
    }
}

impl Default for KeyTemplate {
    fn default() -> Self {
        "evaluations/{model}/{version}/{file}".parse().expect("the default template is valid")
    }
}

impl KeyTemplate {
    /// The model and version named by `key`, if it fits the template.
    pub fn match_key(&self, key: &str) -> Option<(String, String)> {
        let parts: Vec<&str> = key.split('/').collect();
        let (mut model, mut version) = (None, None);
        for (i, segment) in self.segments.iter().enumerate() {
            if *segment == Segment::Rest {
                return (parts.len() > i).then_some(()).and(model.zip(version));
            }
            let part = *parts.get(i)?;
            match segment {
                Segment::Literal(l) if l != part => return None,
                // No placeholder matches an empty segment: `a//3/x.json` names no model.
                _ if part.is_empty() => return None,
                Segment::Model => model = Some(part.to_owned()),
                Segment::Version => version = Some(part.to_owned()),
                _ => {}
            }
        }
        (parts.len() == self.segments.len()).then_some(()).and(model.zip(version))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Why an artifact cannot be used. Always permanent: the same bytes will fail again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactError {
    #[error(
        "object {key:?} matches neither the key template {template:?} nor carries deltaone-model/-version metadata"
    )]
    Unrouted { key: String, template: String },
    #[error("object {key:?}: version {version:?} is not a positive whole number")]
    BadVersion { key: String, version: String },
    #[error(
        "object {key:?}: cannot tell the artifact kind (name it .json or .parquet, or set deltaone-kind metadata): {detail}"
    )]
    UnknownKind { key: String, detail: String },
    #[error("metrics JSON {key:?} is invalid: {reason}")]
    InvalidMetrics { key: String, reason: String },
    #[error("predictions Parquet {key:?} is unreadable: {reason}")]
    CorruptParquet { key: String, reason: String },
    #[error("predictions Parquet {key:?} does not fit: {reason}")]
    UnfitPredictions { key: String, reason: String },
}

/// Where an object belongs, from its metadata first, then from the key template.
pub fn route(
    key: &str,
    metadata: &BTreeMap<String, String>,
    template: &KeyTemplate,
) -> Result<ArtifactTarget, ArtifactError> {
    let from_meta = metadata.get(META_MODEL).cloned().zip(metadata.get(META_VERSION).cloned());
    let (model, version) = from_meta
        .or_else(|| template.match_key(key))
        .ok_or_else(|| ArtifactError::Unrouted { key: key.to_owned(), template: template.as_str().to_owned() })?;
    let version =
        version.parse::<VersionNumber>().map_err(|_| ArtifactError::BadVersion { key: key.to_owned(), version })?;
    let kind = match metadata.get(META_KIND) {
        Some(kind) => kind.parse().map_err(|e: UnknownArtifactKind| ArtifactError::UnknownKind {
            key: key.to_owned(),
            detail: e.to_string(),
        })?,
        None => {
            let lower = key.to_ascii_lowercase();
            if lower.ends_with(".json") {
                ArtifactKind::MetricsJson
            } else if lower.ends_with(".parquet") || lower.ends_with(".pq") {
                ArtifactKind::Predictions
            } else {
                return Err(ArtifactError::UnknownKind {
                    key: key.to_owned(),
                    detail: "no .json or .parquet suffix".into(),
                });
            }
        }
    };
    Ok(ArtifactTarget { model, version, kind })
}

/// The metrics JSON, schema version 1. Unknown fields are kept in `extra`.
///
/// ```json
/// {"schema_version": 1,
///  "metrics": {"accuracy": 0.91, "f1": 0.88},
///  "contributor": {"id": "0xabc…", "name": "Ada"},     // or "contributors": [{…}, …]
///  "dataset": {"name": "holdout-2026-11", "sha256": "…"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsArtifact {
    /// 1. Absent means 1; any other value is refused rather than misread.
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    pub metrics: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributor: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn schema_v1() -> u32 {
    1
}

impl MetricsArtifact {
    pub fn parse(key: &str, bytes: &[u8]) -> Result<Self, ArtifactError> {
        let invalid = |reason: String| ArtifactError::InvalidMetrics { key: key.to_owned(), reason };
        // NaN and Infinity are not JSON; serde_json refuses them with a position, which we keep.
        let value: Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let raw_metrics = value.get("metrics").ok_or_else(|| invalid("no \"metrics\" object".into()))?;
        let Some(raw_metrics) = raw_metrics.as_object() else {
            return Err(invalid("\"metrics\" must be an object of name → number".into()));
        };
        if raw_metrics.is_empty() {
            return Err(invalid("\"metrics\" is empty".into()));
        }
        for (name, v) in raw_metrics {
            if !v.is_number() {
                return Err(invalid(format!("metric {name:?} is {v}, not a number")));
            }
        }
        let artifact: Self = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        if artifact.schema_version != 1 {
            return Err(invalid(format!("schema_version {} is not supported (expected 1)", artifact.schema_version)));
        }
        if let Some((name, v)) = artifact.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(invalid(format!("metric {name:?} is {v}, not finite")));
        }
        Ok(artifact)
    }

    /// Everyone credited: `contributor` and `contributors` together.
    pub fn all_contributors(&self) -> Vec<Value> {
        self.contributor.iter().cloned().chain(self.contributors.iter().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by the fuzz checks (tests/fuzz/regressions/metrics_artifact/): the key routed to model "".
    #[test]
    fn an_empty_model_segment_routes_nowhere() {
        let t = KeyTemplate::default();
        assert_eq!(t.match_key("evaluations//12/metrics.json"), None);
        let err = route("evaluations//12/metrics.json", &BTreeMap::new(), &t).unwrap_err();
        assert!(matches!(err, ArtifactError::Unrouted { .. }), "{err}");
        assert!(err.to_string().contains("\"evaluations//12/metrics.json\""), "{err}");
    }

    #[test]
    fn template_matches_model_and_version() {
        let t = KeyTemplate::default();
        assert_eq!(t.match_key("evaluations/fraud/12/metrics.json"), Some(("fraud".into(), "12".into())));
        assert_eq!(t.match_key("evaluations/fraud/12/sub/metrics.json"), None);
        assert_eq!(t.match_key("other/fraud/12/metrics.json"), None);
        assert_eq!(t.match_key("evaluations/fraud/12"), None);
        let rest: KeyTemplate = "evals/{version}/{model}/{**}".parse().unwrap();
        assert_eq!(rest.match_key("evals/3/m/a/b/c.parquet"), Some(("m".into(), "3".into())));
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!("evaluations/{model}/{file}".parse::<KeyTemplate>().is_err());
        assert!("e/{model}/{version}/{name}".parse::<KeyTemplate>().unwrap_err().to_string().contains("{name}"));
        assert!("e/{**}/{model}/{version}".parse::<KeyTemplate>().is_err());
    }

    #[test]
    fn metadata_overrides_the_key_and_kind_comes_from_the_suffix() {
        let t = KeyTemplate::default();
        let none = BTreeMap::new();
        let target = route("evaluations/m/3/preds.parquet", &none, &t).unwrap();
        assert_eq!((target.model.as_str(), target.version.get(), target.kind), ("m", 3, ArtifactKind::Predictions));
        let meta = BTreeMap::from([
            (META_MODEL.to_owned(), "other".to_owned()),
            (META_VERSION.to_owned(), "7".to_owned()),
            (META_KIND.to_owned(), "metrics".to_owned()),
        ]);
        let target = route("uploads/blob.bin", &meta, &t).unwrap();
        assert_eq!((target.model.as_str(), target.version.get(), target.kind), ("other", 7, ArtifactKind::MetricsJson));
        assert!(matches!(route("uploads/blob.bin", &none, &t), Err(ArtifactError::Unrouted { .. })));
        assert!(matches!(route("evaluations/m/x/a.json", &none, &t), Err(ArtifactError::BadVersion { .. })));
        assert!(matches!(route("evaluations/m/3/a.csv", &none, &t), Err(ArtifactError::UnknownKind { .. })));
    }

    #[test]
    fn metrics_json_is_validated_and_keeps_unknown_fields() {
        let ok = br#"{"metrics": {"accuracy": 0.91}, "contributor": {"id": "ada"}, "contributors": [{"id": "bob"}], "dataset": {"name": "d"}}"#;
        let artifact = MetricsArtifact::parse("k", ok).unwrap();
        assert_eq!(artifact.schema_version, 1);
        assert_eq!(artifact.metrics["accuracy"], 0.91);
        assert_eq!(artifact.extra["dataset"]["name"], "d");
        assert_eq!(artifact.all_contributors().len(), 2);
        let round_trip = serde_json::to_value(&artifact).unwrap();
        assert_eq!(round_trip["dataset"]["name"], "d");

        for (bad, why) in [
            (&b"{\"metrics\": {\"accuracy\": NaN}}"[..], "not JSON"),
            (b"{\"metrics\": {\"accuracy\": \"high\"}}", "not a number"),
            (b"{\"metrics\": {}}", "empty"),
            (b"{\"accuracy\": 0.9}", "no \"metrics\" object"),
            (b"{\"schema_version\": 2, \"metrics\": {\"a\": 1}}", "schema_version 2"),
            (b"\xff\xfe", "not JSON"),
        ] {
            let err = MetricsArtifact::parse("k", bad).unwrap_err().to_string();
            assert!(err.contains(why), "{err} / {why}");
        }
    }
}
