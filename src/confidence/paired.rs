//! Paired evaluation rows: the candidate's and the baseline's predictions on the same rows with
//! the same labels. Rows are paired by a row id; everything that prevents pairing is a typed
//! [`PairingError`] naming what was wrong.

use std::collections::HashMap;

/// One model's predictions on the paired rows, in row order.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Probability of the positive class, finite.
    Scores(Vec<f64>),
    /// Hard predicted labels.
    Labels(Vec<bool>),
}

impl Predictions {
    pub fn len(&self) -> usize {
        match self {
            Self::Scores(s) => s.len(),
            Self::Labels(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hard predictions: scores are positive from 0.5 up (the classification metrics' threshold).
    pub fn predicted_labels(&self) -> Vec<bool> {
        match self {
            Self::Scores(s) => s.iter().map(|&x| x >= crate::classification::DEFAULT_THRESHOLD).collect(),
            Self::Labels(l) => l.clone(),
        }
    }
}

/// One row of one model's predictions file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrediction {
    pub row_id: String,
    pub label: bool,
    pub value: Value,
}

/// A row's prediction: a score or a hard label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Score(f64),
    Label(bool),
}

/// Why two models' predictions cannot be paired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingError {
    #[error("the candidate has {candidate} rows and the baseline {baseline}; paired rows must match one to one")]
    LengthMismatch { candidate: usize, baseline: usize },
    #[error("{side}'s predictions have no row-id column, so rows cannot be paired")]
    NoRowId { side: &'static str },
    #[error("row id {row_id:?} appears more than once in the {side}'s predictions")]
    DuplicateRowId { side: &'static str, row_id: String },
    #[error(
        "the evaluation sets differ: {only_candidate} row(s) only in the candidate's predictions, {only_baseline} only in \
         the baseline's (e.g. row id {example:?})"
    )]
    Unpaired { only_candidate: usize, only_baseline: usize, example: String },
    #[error("row id {row_id:?} has label {candidate} in the candidate's predictions and {baseline} in the baseline's")]
    LabelMismatch { row_id: String, candidate: bool, baseline: bool },
    #[error("the {side}'s predictions mix scores and hard labels")]
    MixedValues { side: &'static str },
    #[error("the {side}'s score at row id {row_id:?} is {value}; scores must be finite")]
    NonFiniteScore { side: &'static str, row_id: String, value: String },
}

/// Paired rows: labels and both models' predictions, index by index the same row.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedRows {
    labels: Vec<bool>,
    candidate: Predictions,
    baseline: Predictions,
}

impl PairedRows {
    /// Rows already aligned (for instance one file holding both models' scores).
    pub fn new(labels: Vec<bool>, candidate: Predictions, baseline: Predictions) -> Result<Self, PairingError> {
        for (side, p) in [("candidate", &candidate), ("baseline", &baseline)] {
            if p.len() != labels.len() {
                return Err(PairingError::LengthMismatch { candidate: candidate.len(), baseline: baseline.len() });
            }
            if let Predictions::Scores(s) = p
                && let Some((i, x)) = s.iter().enumerate().find(|(_, x)| !x.is_finite())
            {
                return Err(PairingError::NonFiniteScore { side, row_id: format!("#{i}"), value: x.to_string() });
            }
        }
        Ok(Self { labels, candidate, baseline })
    }

    /// Pairs two predictions files by row id. Every id must be in both, once, with the same label;
    /// the paired rows are ordered by row id, so the result (and the seeded bootstrap on it) does
    /// not depend on the order in which either file lists its rows.
    pub fn pair_by_row_id(candidate: &[RowPrediction], baseline: &[RowPrediction]) -> Result<Self, PairingError> {
        let index = |side: &'static str, rows: &[RowPrediction]| -> Result<HashMap<String, usize>, PairingError> {
            let mut map = HashMap::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                if map.insert(row.row_id.clone(), i).is_some() {
                    return Err(PairingError::DuplicateRowId { side, row_id: row.row_id.clone() });
                }
            }
            Ok(map)
        };
        let base_index = index("baseline", baseline)?;
        index("candidate", candidate)?;
        let only_candidate: Vec<&RowPrediction> =
            candidate.iter().filter(|r| !base_index.contains_key(&r.row_id)).collect();
        let paired = candidate.len() - only_candidate.len();
        if !only_candidate.is_empty() || paired != baseline.len() {
            let cand_ids: std::collections::HashSet<&str> = candidate.iter().map(|r| r.row_id.as_str()).collect();
            let only_baseline: Vec<&RowPrediction> =
                baseline.iter().filter(|r| !cand_ids.contains(r.row_id.as_str())).collect();
            let example =
                only_candidate.first().or(only_baseline.first()).map(|r| r.row_id.clone()).unwrap_or_default();
            return Err(PairingError::Unpaired {
                only_candidate: only_candidate.len(),
                only_baseline: only_baseline.len(),
                example,
            });
        }
        let mut order: Vec<usize> = (0..candidate.len()).collect();
        order.sort_unstable_by(|&a, &b| candidate[a].row_id.cmp(&candidate[b].row_id));

        let mut labels = Vec::with_capacity(order.len());
        let mut cand = Side::new("candidate", order.len());
        let mut base = Side::new("baseline", order.len());
        for &i in &order {
            let c = &candidate[i];
            let b = &baseline[base_index[&c.row_id]];
            if c.label != b.label {
                return Err(PairingError::LabelMismatch {
                    row_id: c.row_id.clone(),
                    candidate: c.label,
                    baseline: b.label,
                });
            }
            labels.push(c.label);
            cand.push(c)?;
            base.push(b)?;
        }
        Self::new(labels, cand.finish(), base.finish())
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    pub fn candidate(&self) -> &Predictions {
        &self.candidate
    }

    pub fn baseline(&self) -> &Predictions {
        &self.baseline
    }
}

/// Collects one side's values, refusing a file that mixes scores and labels.
struct Side {
    name: &'static str,
    scores: Vec<f64>,
    labels: Vec<bool>,
}

impl Side {
    fn new(name: &'static str, capacity: usize) -> Self {
        Self { name, scores: Vec::with_capacity(capacity), labels: Vec::new() }
    }

    fn push(&mut self, row: &RowPrediction) -> Result<(), PairingError> {
        match row.value {
            Value::Score(x) if self.labels.is_empty() => {
                if !x.is_finite() {
                    return Err(PairingError::NonFiniteScore {
                        side: self.name,
                        row_id: row.row_id.clone(),
                        value: x.to_string(),
                    });
                }
                self.scores.push(x);
            }
            Value::Label(l) if self.scores.is_empty() => self.labels.push(l),
            _ => return Err(PairingError::MixedValues { side: self.name }),
        }
        Ok(())
    }

    fn finish(self) -> Predictions {
        if self.labels.is_empty() { Predictions::Scores(self.scores) } else { Predictions::Labels(self.labels) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, label: bool, score: f64) -> RowPrediction {
        RowPrediction { row_id: id.to_owned(), label, value: Value::Score(score) }
    }

    #[test]
    fn rows_pair_by_id_whatever_their_order() {
        let cand = [row("b", true, 0.9), row("a", false, 0.2), row("c", true, 0.4)];
        let base = [row("c", true, 0.6), row("b", true, 0.7), row("a", false, 0.1)];
        let p = PairedRows::pair_by_row_id(&cand, &base).unwrap();
        assert_eq!(p.labels(), &[false, true, true]);
        assert_eq!(p.candidate(), &Predictions::Scores(vec![0.2, 0.9, 0.4]));
        assert_eq!(p.baseline(), &Predictions::Scores(vec![0.1, 0.7, 0.6]));
        let reversed: Vec<RowPrediction> = cand.iter().rev().cloned().collect();
        assert_eq!(PairedRows::pair_by_row_id(&reversed, &base).unwrap(), p);
    }

    #[test]
    fn every_pairing_failure_is_named() {
        let base = [row("a", true, 0.5), row("b", false, 0.5)];
        let err = PairedRows::pair_by_row_id(&[row("a", true, 0.5), row("x", false, 0.5)], &base).unwrap_err();
        assert_eq!(err, PairingError::Unpaired { only_candidate: 1, only_baseline: 1, example: "x".into() });
        let err = PairedRows::pair_by_row_id(&[row("a", true, 0.5)], &base).unwrap_err();
        assert!(matches!(err, PairingError::Unpaired { only_candidate: 0, only_baseline: 1, .. }), "{err}");
        let err = PairedRows::pair_by_row_id(&[row("a", true, 0.5), row("a", true, 0.5)], &base).unwrap_err();
        assert!(matches!(err, PairingError::DuplicateRowId { side: "candidate", .. }), "{err}");
        let err = PairedRows::pair_by_row_id(&[row("a", true, 0.5), row("b", true, 0.5)], &base).unwrap_err();
        assert!(err.to_string().contains("row id \"b\" has label true"), "{err}");
        let mixed =
            [row("a", true, 0.5), RowPrediction { row_id: "b".into(), label: false, value: Value::Label(true) }];
        assert_eq!(
            PairedRows::pair_by_row_id(&mixed, &base).unwrap_err(),
            PairingError::MixedValues { side: "candidate" }
        );
        let err = PairedRows::pair_by_row_id(&[row("a", true, f64::NAN), row("b", false, 0.5)], &base).unwrap_err();
        assert!(matches!(err, PairingError::NonFiniteScore { side: "candidate", .. }), "{err}");
        let err =
            PairedRows::new(vec![true], Predictions::Labels(vec![true]), Predictions::Labels(vec![])).unwrap_err();
        assert!(matches!(err, PairingError::LengthMismatch { .. }));
    }
}
