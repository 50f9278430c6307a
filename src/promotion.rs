//! Moving a registry alias (e.g. `champion`) to a candidate that achieved a DeltaOne, safely when
//! two candidates finish at once.
//!
//! MLflow has no compare-and-set on aliases. The adapters serialise DeltaOne's own promotions per
//! model (a conditional write), and inside that critical section re-read the alias: [`next_step`]
//! says whether to move it, whether it already points at the candidate, or whether the champion
//! changed since the check began — then the candidate is checked again against the new champion
//! instead of overwriting it.

use serde::{Deserialize, Serialize};

use crate::version::VersionNumber;

/// What became of the alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    /// The alias now points at the candidate.
    Promoted,
    /// The alias already pointed at the candidate (a repeated check).
    AlreadyChampion,
    /// The candidate did not beat the champion it was (re-)checked against: the alias stays.
    NotPromoted,
}

impl PromotionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promoted => "promoted",
            Self::AlreadyChampion => "already_champion",
            Self::NotPromoted => "not_promoted",
        }
    }
}

/// The promotion decision of a check, recorded with its verdict, attested and announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub alias: String,
    pub status: PromotionStatus,
    /// Where the alias pointed when the promotion was decided (`None`: it was not set).
    pub from_version: Option<VersionNumber>,
    /// Where the alias points afterwards.
    pub to_version: Option<VersionNumber>,
    /// Champions the candidate was checked again against because the alias moved during the check,
    /// in order.
    #[serde(default)]
    pub rechecked_against: Vec<VersionNumber>,
    pub reason: String,
}

/// What to do once the promotion lock is held and the alias re-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The alias is where the check found it: move it to the candidate.
    Move,
    /// The alias already points at the candidate.
    AlreadyThere,
    /// The alias moved to another version since the check began: check against that one first.
    Recheck(VersionNumber),
}

/// The step for a candidate, given the alias when its check began and now.
pub fn next_step(candidate: VersionNumber, at_check: Option<VersionNumber>, now: Option<VersionNumber>) -> Step {
    match now {
        Some(v) if v == candidate => Step::AlreadyThere,
        Some(v) if Some(v) != at_check => Step::Recheck(v),
        // Unchanged, or removed since (nothing to overwrite).
        _ => Step::Move,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: u64) -> VersionNumber {
        VersionNumber::new(n).unwrap()
    }

    #[test]
    fn the_alias_moves_only_when_it_is_where_the_check_found_it() {
        assert_eq!(next_step(v(3), Some(v(1)), Some(v(1))), Step::Move);
        assert_eq!(next_step(v(3), None, None), Step::Move);
        assert_eq!(next_step(v(3), Some(v(1)), None), Step::Move);
        assert_eq!(next_step(v(3), Some(v(1)), Some(v(3))), Step::AlreadyThere);
        assert_eq!(next_step(v(3), Some(v(1)), Some(v(2))), Step::Recheck(v(2)));
        assert_eq!(next_step(v(3), None, Some(v(2))), Step::Recheck(v(2)));
    }

    #[test]
    fn promotions_round_trip_through_json() {
        let p = Promotion {
            alias: "champion".into(),
            status: PromotionStatus::Promoted,
            from_version: Some(v(1)),
            to_version: Some(v(3)),
            rechecked_against: vec![v(2)],
            reason: "r".into(),
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["status"], "promoted");
        assert_eq!(json["rechecked_against"], serde_json::json!(["2"]));
        assert_eq!(serde_json::from_value::<Promotion>(json).unwrap(), p);
    }
}
