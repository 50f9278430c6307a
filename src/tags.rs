//! The registry tags DeltaOne reads and writes.

/// On a version: the value that version scored on the benchmark; marks it as a baseline.
pub const BENCHMARK_VALUE: &str = "benchmark_value";
/// On a baseline version or the registered model: which metric the benchmark compares.
pub const BENCHMARK_METRIC: &str = "benchmark_metric";
/// On a baseline version or the registered model: `fraction` (0–1) or `percent` (0–100).
pub const BENCHMARK_SCALE: &str = "benchmark_scale";
/// On a baseline version or the registered model: `higher` (default) or `lower` is better.
pub const BENCHMARK_DIRECTION: &str = "benchmark_direction";
/// On the registered model or a baseline version: guardrail metrics as JSON (`crate::evidence`).
pub const BENCHMARK_GUARDRAILS: &str = "benchmark_guardrails";

/// Written by DeltaOne after a check: `true` or `false`.
pub const DELTAONE_ACHIEVED: &str = "deltaone_achieved";
/// Written by DeltaOne after a check: the improvement in percentage points.
pub const DELTA_VALUE: &str = "delta_value";
/// Written by DeltaOne after a check: the version it compared against.
pub const DELTAONE_BASELINE_VERSION: &str = "deltaone_baseline_version";
/// Written by DeltaOne after a check: when, as RFC 3339 UTC.
pub const DELTAONE_CHECKED_AT: &str = "deltaone_checked_at";

/// Tags DeltaOne writes itself. A change to one of them must never trigger a check.
pub const WRITTEN_BY_DELTAONE: [&str; 4] =
    [DELTAONE_ACHIEVED, DELTA_VALUE, DELTAONE_BASELINE_VERSION, DELTAONE_CHECKED_AT];

/// Whether setting `key` on a version can change a DeltaOne verdict, so that a registry event for
/// it should trigger a check. `metric` is the benchmark metric's name when known.
pub fn tag_triggers_check(key: &str, metric: Option<&str>) -> bool {
    if WRITTEN_BY_DELTAONE.contains(&key) || key.starts_with("deltaone_") {
        return false;
    }
    matches!(key, BENCHMARK_VALUE | BENCHMARK_METRIC | BENCHMARK_SCALE | BENCHMARK_DIRECTION | BENCHMARK_GUARDRAILS)
        || metric == Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tags_never_trigger_even_if_named_as_the_metric() {
        for key in WRITTEN_BY_DELTAONE {
            assert!(!tag_triggers_check(key, Some(key)), "{key}");
        }
        assert!(!tag_triggers_check("deltaone_future_tag", None));
    }

    #[test]
    fn benchmark_tags_and_the_metric_trigger() {
        assert!(tag_triggers_check(BENCHMARK_VALUE, None));
        assert!(tag_triggers_check(BENCHMARK_METRIC, None));
        assert!(tag_triggers_check(BENCHMARK_GUARDRAILS, None), "guardrails can change a verdict");
        assert!(tag_triggers_check("accuracy", Some("accuracy")));
        assert!(!tag_triggers_check("accuracy", Some("f1")));
        assert!(!tag_triggers_check("owner", None));
    }
}
