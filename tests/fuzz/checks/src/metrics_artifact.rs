//! Evaluation artifacts as the evaluation function reads them: routed by key template
//! (`deltaone_app::artifact::route`), then a metrics JSON (`MetricsArtifact::parse`) or a
//! predictions Parquet file (`deltaone_fn_evaluation::read_artifact`).

use std::collections::BTreeMap;

use deltaone_app::artifact::{KeyTemplate, META_KIND, META_MODEL, META_VERSION, MetricsArtifact, route};
use deltaone_app::s3event::CreatedObject;
use deltaone_fn_evaluation::read_artifact;

use crate::support::{self, first_line, rejected};

/// The object key on the first line, the object's bytes after it:
///
/// * the key is routed (model and version from the default template, or a refusal naming the key);
///   the key read as a template is accepted or refused naming the template;
/// * the bytes are read as the function reads them, or refused naming the key;
/// * a metrics JSON that is read has finite metrics, and written back and read again is the same
///   artifact (the format is ours: schema version 1).
pub fn metrics_artifact(data: &[u8]) {
    support::caught_panics_are_handled();
    let (key, bytes) = first_line(data);
    let quoted = format!("{key:?}");
    let template = KeyTemplate::default();

    match key.parse::<KeyTemplate>() {
        Ok(parsed) => assert_eq!(parsed.as_str(), key),
        Err(e) => rejected("metrics_artifact", &e, &[&quoted]),
    }
    match route(&key, &BTreeMap::new(), &template) {
        Ok(target) => {
            assert!(!target.model.is_empty(), "key {quoted} routed to a model with no name");
            assert!(template.match_key(&key).is_some());
        }
        Err(e) => rejected("metrics_artifact", &e, &[&quoted]),
    }
    // Metadata names the target whatever the key.
    let metadata = BTreeMap::from([
        (META_MODEL.to_owned(), "fraud".to_owned()),
        (META_VERSION.to_owned(), "3".to_owned()),
        (META_KIND.to_owned(), "metrics".to_owned()),
    ]);
    let routed = route(&key, &metadata, &template).expect("metadata routes any key");
    assert_eq!((routed.model.as_str(), routed.version.get()), ("fraud", 3));

    let object = CreatedObject {
        bucket: "evaluations".into(),
        key: key.clone(),
        size: Some(bytes.len() as u64),
        etag: None,
        sequencer: None,
        event_name: "ObjectCreated:Put".into(),
    };
    match read_artifact(&object, &BTreeMap::new(), bytes::Bytes::copy_from_slice(bytes), &template) {
        Ok((_, metrics, _)) => assert!(metrics.values().all(|v| v.is_finite()), "{metrics:?}"),
        Err(e) => rejected("metrics_artifact", &e, &[&quoted]),
    }

    match MetricsArtifact::parse(&key, bytes) {
        Ok(artifact) => {
            assert!(!artifact.metrics.is_empty() && artifact.metrics.values().all(|v| v.is_finite()));
            let written = serde_json::to_vec(&artifact).expect("an artifact serialises");
            let again = MetricsArtifact::parse(&key, &written).expect("a written artifact reads back");
            assert_eq!(again, artifact, "a metrics artifact written and read back differs");
        }
        Err(e) => rejected("metrics_artifact", &e, &[&quoted]),
    }
}
