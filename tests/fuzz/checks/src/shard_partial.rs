//! Shard partials of a sharded drift run: the domain's mergeable state
//! (`deltaone::drift::partial::PartialState`) and the drift job's partial file around it
//! (`deltaone_drift::shard::RunPartial`), read, merged and finished as the reduce step does.

use deltaone::drift::partial::PartialState;
use deltaone_drift::RunOptions;
use deltaone_drift::shard::{RunPartial, finish, merge_partials};

use crate::support::rejected;

/// The bytes as a partial state and as a shard's partial file:
///
/// * each is read, or refused with a reason;
/// * one that is read, encoded and read again is the same (the format is ours);
/// * a state merges with a copy of itself, or the merge is refused with a reason;
/// * a partial file is finished into a report alone and merged with a copy of itself as another
///   shard, or refused with a reason.
pub fn shard_partial(data: &[u8]) {
    match PartialState::decode(data) {
        Ok(state) => {
            let again = PartialState::decode(&state.encode()).expect("an encoded state reads back");
            assert_eq!(again, state, "a partial state encoded and read back differs");
            let mut doubled = state.clone();
            if let Err(e) = doubled.merge(&state) {
                rejected("shard_partial", &e, &[]);
            }
        }
        Err(e) => rejected("shard_partial", &e, &[]),
    }

    let partial = match RunPartial::decode(data) {
        Ok(partial) => partial,
        Err(e) => return rejected("shard_partial", &e, &[]),
    };
    let again = RunPartial::decode(&partial.encode()).expect("an encoded partial reads back");
    assert_eq!(again, partial, "a shard partial encoded and read back differs");
    let options = RunOptions::new(Vec::new(), Vec::new());
    if let Err(e) = finish(&options, partial.clone()) {
        rejected("shard_partial", &e, &[]);
    }
    let order = |_: &str| 0;
    match merge_partials(vec![(0, partial.clone()), (1, partial)], &order) {
        Ok(merged) => {
            if let Err(e) = finish(&options, merged) {
                rejected("shard_partial", &e, &[]);
            }
        }
        Err(e) => rejected("shard_partial", &e, &["partial of shard "]),
    }
}
