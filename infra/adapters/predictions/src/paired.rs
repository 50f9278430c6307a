//! Reads the predictions files that versions' `predictions_uri` tags name, from S3 (when an object
//! store is given) or local paths, and pairs them: the Parquet adapter of
//! [`deltaone_app::paired::PairedPredictions`].

use std::sync::Arc;

use async_trait::async_trait;
use deltaone::confidence::PairedRows;
use deltaone::evidence::Unavailable;
use deltaone::{ConfidenceStatus, VersionFacts};
use deltaone_app::artifact::ArtifactError;
use deltaone_app::objects::{ObjectError, ObjectStore};
use deltaone_app::paired::{PREDICTIONS_URI, PairedPredictions, Pairing};

use crate::{paired_from_parquet, rows_from_parquet};

/// Reads predictions files from S3 (when an object store is given) or local paths.
#[derive(Clone, Default)]
pub struct PredictionsReader {
    objects: Option<Arc<dyn ObjectStore>>,
}

impl PredictionsReader {
    pub fn new(objects: Option<Arc<dyn ObjectStore>>) -> Self {
        Self { objects }
    }
}

#[async_trait]
impl PairedPredictions for PredictionsReader {
    async fn pair(&self, candidate: &VersionFacts, baseline: &VersionFacts) -> Result<Option<Pairing>, ObjectError> {
        let (c_uri, b_uri) = (candidate.tags.get(PREDICTIONS_URI), baseline.tags.get(PREDICTIONS_URI));
        if c_uri.is_none() && b_uri.is_none() {
            return Ok(None);
        }
        let missing = |facts: &VersionFacts| {
            Unavailable::no_predictions(format!("version {} has no {PREDICTIONS_URI} tag", facts.number()))
        };
        let Some(c_uri) = c_uri else { return Ok(Some(Err(missing(candidate)))) };
        let c_bytes = match self.read(c_uri).await? {
            Ok(bytes) => bytes,
            Err(u) => return Ok(Some(Err(u))),
        };
        // One file with both models' scores pairs itself.
        match paired_from_parquet(c_uri, c_bytes.clone()) {
            Ok(Some(rows)) => return Ok(Some(Ok(rows))),
            Ok(None) => {}
            Err(e) => return Ok(Some(Err(unreadable(&e)))),
        }
        let Some(b_uri) = b_uri else { return Ok(Some(Err(missing(baseline)))) };
        let b_bytes = match self.read(b_uri).await? {
            Ok(bytes) => bytes,
            Err(u) => return Ok(Some(Err(u))),
        };
        let rows = |uri: &str, bytes, side| match rows_from_parquet(uri, bytes, side) {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(pairing)) => Err(Unavailable::from(pairing)),
            Err(e) => Err(unreadable(&e)),
        };
        let paired = rows(c_uri, c_bytes, "candidate").and_then(|c| {
            let b = rows(b_uri, b_bytes, "baseline")?;
            PairedRows::pair_by_row_id(&c, &b).map_err(Unavailable::from)
        });
        Ok(Some(paired))
    }
}

impl PredictionsReader {
    /// The file's bytes, or why there are none (a missing object is not an error of the check).
    async fn read(&self, uri: &str) -> Result<Result<bytes::Bytes, Unavailable>, ObjectError> {
        if let Some(rest) = uri.strip_prefix("s3://") {
            let Some((bucket, key)) = rest.split_once('/') else {
                return Ok(Err(Unavailable::no_predictions(format!("{uri:?} names no object (s3://bucket/key)"))));
            };
            let Some(objects) = &self.objects else {
                return Ok(Err(Unavailable::no_predictions(format!("{uri}: no S3 client is configured"))));
            };
            return match objects.get(bucket, key).await {
                Ok(object) => Ok(Ok(object.bytes)),
                Err(e @ ObjectError::NotFound { .. }) => Ok(Err(Unavailable::no_predictions(e.to_string()))),
                Err(e) if e.is_retryable() => Err(e),
                Err(e) => Ok(Err(Unavailable::no_predictions(e.to_string()))),
            };
        }
        let path = uri.strip_prefix("file://").unwrap_or(uri);
        match tokio::fs::read(path).await {
            Ok(bytes) => Ok(Ok(bytes.into())),
            Err(e) => Ok(Err(Unavailable::no_predictions(format!("cannot read {path}: {e}")))),
        }
    }
}

fn unreadable(e: &ArtifactError) -> Unavailable {
    Unavailable { status: ConfidenceStatus::Mismatched, reason: e.to_string() }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
    use deltaone::VersionNumber;
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        out
    }

    fn version(v: u64, uri: Option<&std::path::Path>) -> VersionFacts {
        let facts = VersionFacts::new(VersionNumber::new(v).unwrap());
        match uri {
            Some(p) => facts.with_tag(PREDICTIONS_URI, p.to_str().unwrap()),
            None => facts,
        }
    }

    #[tokio::test]
    async fn local_files_pair_by_row_id_and_failures_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<i64> = (0..50).collect();
        let labels: Vec<bool> = ids.iter().map(|i| i % 2 == 0).collect();
        let write = |name: &str, ids: Vec<i64>, labels: Vec<bool>| {
            let scores: Vec<f64> = ids.iter().map(|&i| (i as f64) / 50.0).collect();
            let path = dir.path().join(name);
            std::fs::write(
                &path,
                parquet(vec![
                    ("row_id", Arc::new(Int64Array::from(ids)) as ArrayRef),
                    ("label", Arc::new(BooleanArray::from(labels)) as ArrayRef),
                    ("score", Arc::new(Float64Array::from(scores)) as ArrayRef),
                ]),
            )
            .unwrap();
            path
        };
        let c = write("c.parquet", ids.clone(), labels.clone());
        let reversed = write("b.parquet", ids.iter().rev().copied().collect(), labels.iter().rev().copied().collect());
        let reader = PredictionsReader::default();
        let paired = reader.pair(&version(2, Some(&c)), &version(1, Some(&reversed))).await.unwrap().unwrap().unwrap();
        assert_eq!(paired.len(), 50);

        assert!(reader.pair(&version(2, None), &version(1, None)).await.unwrap().is_none());
        let no_tag = reader.pair(&version(2, Some(&c)), &version(1, None)).await.unwrap().unwrap().unwrap_err();
        assert_eq!(no_tag.status, ConfidenceStatus::NoPredictions);
        assert!(no_tag.reason.contains("version 1 has no predictions_uri tag"), "{}", no_tag.reason);

        let shorter = write("s.parquet", ids[..40].to_vec(), labels[..40].to_vec());
        let unpaired =
            reader.pair(&version(2, Some(&c)), &version(1, Some(&shorter))).await.unwrap().unwrap().unwrap_err();
        assert_eq!(unpaired.status, ConfidenceStatus::Unpaired, "{}", unpaired.reason);

        let flipped = write("f.parquet", ids.clone(), labels.iter().map(|l| !l).collect());
        let mismatched =
            reader.pair(&version(2, Some(&c)), &version(1, Some(&flipped))).await.unwrap().unwrap().unwrap_err();
        assert_eq!(mismatched.status, ConfidenceStatus::Mismatched, "{}", mismatched.reason);

        let no_ids = dir.path().join("n.parquet");
        std::fs::write(
            &no_ids,
            parquet(vec![
                ("label", Arc::new(BooleanArray::from(labels.clone())) as ArrayRef),
                ("score", Arc::new(Float64Array::from(vec![0.5; 50])) as ArrayRef),
            ]),
        )
        .unwrap();
        let unpaired =
            reader.pair(&version(2, Some(&no_ids)), &version(1, Some(&c))).await.unwrap().unwrap().unwrap_err();
        assert_eq!(unpaired.status, ConfidenceStatus::Unpaired);
        assert!(unpaired.reason.contains("no row-id column"), "{}", unpaired.reason);

        let gone = reader.pair(&version(2, Some(&dir.path().join("nope.parquet"))), &version(1, Some(&c))).await;
        assert_eq!(gone.unwrap().unwrap().unwrap_err().status, ConfidenceStatus::NoPredictions);

        // One file with both models' scores pairs itself, whatever the baseline's tag says.
        let both = dir.path().join("both.parquet");
        std::fs::write(
            &both,
            parquet(vec![
                ("id", Arc::new(StringArray::from_iter_values(ids.iter().map(|i| format!("r{i}")))) as ArrayRef),
                ("label", Arc::new(BooleanArray::from(labels)) as ArrayRef),
                ("candidate_score", Arc::new(Float64Array::from(vec![0.7; 50])) as ArrayRef),
                ("baseline_score", Arc::new(Float64Array::from(vec![0.4; 50])) as ArrayRef),
            ]),
        )
        .unwrap();
        let paired = reader.pair(&version(2, Some(&both)), &version(1, None)).await.unwrap().unwrap().unwrap();
        assert_eq!(paired.len(), 50);
    }
}
