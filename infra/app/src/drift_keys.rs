//! The drift table's key layout (env `DELTAONE_DRIFT_TABLE`), written by the drift job and read by
//! the query API: both build keys here, so they cannot drift apart.
//!
//! * column item: `pk = {model}#COLUMN#{column}`, `sk = {window_end}#{run_id}` — the drift history
//!   of feature X of model M is one Query on `M#COLUMN#X` (newest first with
//!   `ScanIndexForward=false`);
//! * run summary: `pk = {model}#RUN`, `sk = {window_end}#{run_id}`.
//!
//! `window_end` is RFC 3339 UTC in whole seconds, so sort keys order by time.

/// The partition key attribute (a string).
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute (a string).
pub const SORT_KEY: &str = "sk";
/// The TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The partition of a column's drift history.
pub fn column_pk(model: &str, column: &str) -> String {
    format!("{model}#COLUMN#{column}")
}

/// The partition of a model's run summaries.
pub fn run_pk(model: &str) -> String {
    format!("{model}#RUN")
}

/// The sort key of a run's items: ordered by the window's end, then the run.
pub fn sort_key(window_end: &str, run_id: &str) -> String {
    format!("{window_end}#{run_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_put_the_model_first_and_sort_by_window_end() {
        assert_eq!(column_pk("fraud", "amount"), "fraud#COLUMN#amount");
        assert_eq!(run_pk("fraud"), "fraud#RUN");
        assert_eq!(sort_key("2026-11-02T00:00:00Z", "r1"), "2026-11-02T00:00:00Z#r1");
    }
}
