//! The DeltaOne rule.
//!
//! 1. Candidate: the newest version, or the one requested.
//! 2. Baseline: the newest version *older than the candidate* that carries a `benchmark_value`
//!    tag; if there is none, the model's first version (the verdict says so).
//! 3. Metric: the baseline's `benchmark_metric` tag, else the registered model's.
//! 4. Values: the baseline's `benchmark_value` tag (for the first-version fallback: its run metric,
//!    else a tag named like the metric); the candidate's run metric, else a tag named like it.
//! 5. Scale: a `benchmark_scale` tag (baseline, then model), else the policy, else inferred: both
//!    values in [0, 1] are fractions, both in (1, 100] are percents, anything else is an error.
//! 6. Delta in percentage points, in exact decimal; positive means better (for lower-is-better
//!    metrics the sign is flipped). Achieved when the delta is at least the threshold.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::guardrail::{GUARDRAILS_TAG, Guardrail};
use crate::tags;
use crate::value::{MetricValue, ValueError};
use crate::verdict::{Outcome, Verdict};
use crate::version::VersionNumber;
use crate::{Metrics, Tags};

// The terms the rule is stated in, where they were first declared.
pub use crate::metric::{Direction, Scale, UnknownVariant};
pub use crate::verdict::BaselineSource;

/// Configured defaults; tags on the baseline or the registered model override scale and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    threshold_pp: Decimal,
    pub scale: Option<Scale>,
    pub direction: Direction,
    /// When on, "achieved" also needs the delta's confidence interval to clear the threshold
    /// (its lower bound at least the threshold). Off by default: the rule users know.
    pub require_confidence: bool,
    confidence_level: Decimal,
    /// Guardrails declared in the configuration; a registry tag replaces them per model.
    pub guardrails: Vec<Guardrail>,
}

/// A threshold that is negative or not a finite number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("threshold must be a finite number of percentage points: {0}")]
    Value(#[from] ValueError),
    #[error("threshold must not be negative, got {0} pp")]
    Negative(String),
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            threshold_pp: Decimal::ONE,
            scale: None,
            direction: Direction::Higher,
            require_confidence: false,
            confidence_level: Decimal::new(95, 2),
            guardrails: Vec::new(),
        }
    }
}

impl Policy {
    /// A policy with the given threshold in percentage points.
    pub fn with_threshold(threshold_pp: f64) -> Result<Self, ThresholdError> {
        let value = MetricValue::from_f64(threshold_pp)?;
        if value.decimal().is_sign_negative() && !value.decimal().is_zero() {
            return Err(ThresholdError::Negative(value.to_string()));
        }
        Ok(Self { threshold_pp: value.decimal(), ..Self::default() })
    }

    pub fn threshold_pp(&self) -> Decimal {
        self.threshold_pp
    }

    /// Sets the two-sided confidence level (strictly between 0 and 1; 0.95 by default).
    pub fn with_confidence_level(mut self, level: f64) -> Result<Self, crate::confidence::ConfidenceError> {
        crate::confidence::Level::new(level)?;
        self.confidence_level =
            MetricValue::from_f64(level).map_err(|_| crate::confidence::ConfidenceError::BadLevel(level))?.decimal();
        Ok(self)
    }

    /// The same policy with `require_confidence` set.
    pub fn requiring_confidence(mut self, on: bool) -> Self {
        self.require_confidence = on;
        self
    }

    /// The same policy with configured guardrails.
    pub fn with_guardrails(mut self, guardrails: Vec<Guardrail>) -> Self {
        self.guardrails = guardrails;
        self
    }

    pub fn confidence_level(&self) -> Decimal {
        self.confidence_level
    }
}

/// What the registry knows about one version, as far as the rule needs it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VersionFacts {
    pub version: Option<VersionNumber>,
    #[serde(default)]
    pub tags: Tags,
    /// The MLflow run the version was registered from, when it has one.
    #[serde(default)]
    pub run_id: Option<String>,
    /// That run's metrics; `None` when the version has no run or they were not fetched.
    #[serde(default)]
    pub run_metrics: Option<Metrics>,
}

impl VersionFacts {
    pub fn new(version: VersionNumber) -> Self {
        Self { version: Some(version), ..Self::default() }
    }

    pub fn number(&self) -> VersionNumber {
        self.version.expect("selected versions always carry a number")
    }

    pub fn with_tag(mut self, key: &str, value: &str) -> Self {
        self.tags.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn with_metric(mut self, key: &str, value: f64) -> Self {
        self.run_metrics.get_or_insert_with(Metrics::new).insert(key.to_owned(), value);
        self
    }

    pub fn is_tagged_baseline(&self) -> bool {
        self.tags.contains_key(tags::BENCHMARK_VALUE)
    }
}

/// The versions a check compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub model: String,
    pub requested: Option<VersionNumber>,
    pub candidate: Option<VersionFacts>,
    pub baseline: Option<(VersionFacts, BaselineSource)>,
}

impl Selection {
    /// Whether [`judge`] will read the registered model's tags: the baseline does not name the
    /// metric, scale and direction itself. Lets adapters skip a slow registry call.
    pub fn needs_model_tags(&self) -> bool {
        match &self.baseline {
            Some((baseline, _)) => {
                [tags::BENCHMARK_METRIC, tags::BENCHMARK_SCALE, tags::BENCHMARK_DIRECTION, GUARDRAILS_TAG]
                    .iter()
                    .any(|key| !baseline.tags.contains_key(*key))
            }
            None => false,
        }
    }
}

/// Chooses candidate and baseline among `versions`.
///
/// `versions` may be a model's full version list or any subset that contains the candidate, the
/// newest `benchmark_value`-tagged version older than it, and the model's first version; their
/// order does not matter. Versions without a number are ignored.
pub fn select(model: &str, versions: &[VersionFacts], requested: Option<VersionNumber>) -> Selection {
    let numbered = || versions.iter().filter(|v| v.version.is_some());
    let candidate = match requested {
        Some(wanted) => numbered().find(|v| v.version == Some(wanted)),
        None => numbered().max_by_key(|v| v.version),
    };
    let baseline = candidate.and_then(|candidate| {
        let older = || numbered().filter(|v| v.version < candidate.version);
        older()
            .filter(|v| v.is_tagged_baseline())
            .max_by_key(|v| v.version)
            .map(|v| (v.clone(), BaselineSource::Tagged))
            .or_else(|| older().min_by_key(|v| v.version).map(|v| (v.clone(), BaselineSource::FirstVersion)))
    });
    Selection { model: model.to_owned(), requested, candidate: candidate.cloned(), baseline }
}

/// Like [`select`], but the baseline is `baseline` (the version behind an alias such as
/// `champion`), whatever its tags, when it is among `versions` and is not the candidate itself;
/// otherwise the baseline is chosen as [`select`] does.
pub fn select_with_baseline(
    model: &str,
    versions: &[VersionFacts],
    requested: Option<VersionNumber>,
    baseline: Option<VersionNumber>,
) -> Selection {
    let mut selection = select(model, versions, requested);
    let candidate = selection.candidate.as_ref().and_then(|c| c.version);
    if let Some(wanted) = baseline.filter(|b| Some(*b) != candidate)
        && let Some(found) = versions.iter().find(|v| v.version == Some(wanted))
    {
        selection.baseline = Some((found.clone(), BaselineSource::Alias));
    }
    selection
}

/// Decides the verdict for a selection. `model_tags` are the registered model's tags (pass an empty
/// map when [`Selection::needs_model_tags`] is false).
pub fn judge(selection: &Selection, model_tags: &Tags, policy: &Policy) -> Verdict {
    let mut verdict = Verdict {
        model: selection.model.clone(),
        outcome: Outcome::NoCandidate,
        reason: String::new(),
        candidate_version: None,
        baseline_version: None,
        baseline_source: None,
        metric: None,
        candidate_value: None,
        baseline_value: None,
        delta_pp: None,
        threshold_pp: policy.threshold_pp,
        direction: None,
        scale: None,
        confidence: None,
        guardrails: Vec::new(),
    };
    let (Ok((outcome, reason)) | Err((outcome, reason))) = compare(selection, model_tags, policy, &mut verdict);
    verdict.outcome = outcome;
    verdict.reason = reason;
    verdict
}

/// An outcome and the reason a person reads for it.
type Conclusion = (Outcome, String);

/// Follows the rule's steps, recording each fact on the verdict as it is found; the first fact
/// missing or unusable stops the comparison with its outcome.
fn compare(
    selection: &Selection,
    model_tags: &Tags,
    policy: &Policy,
    verdict: &mut Verdict,
) -> Result<Conclusion, Conclusion> {
    let Some(candidate) = &selection.candidate else {
        let reason = match selection.requested {
            Some(v) => format!("model {:?} has no version {v}", selection.model),
            None => format!("model {:?} has no versions", selection.model),
        };
        return Err((Outcome::NoCandidate, reason));
    };
    let cv = candidate.number();
    verdict.candidate_version = Some(cv);

    let Some((baseline, source)) = &selection.baseline else {
        let reason =
            format!("version {cv} is the first version of {:?}: there is no baseline to compare with", selection.model);
        return Err((Outcome::NoBaseline, reason));
    };
    let bv = baseline.number();
    verdict.baseline_version = Some(bv);
    verdict.baseline_source = Some(*source);
    let fallback_note = fallback_note(*source, cv, bv);
    let settings = BenchmarkSettings { baseline, model_tags };

    let Some((metric, _)) = settings.get(tags::BENCHMARK_METRIC).filter(|(m, _)| !m.trim().is_empty()) else {
        let reason = format!(
            "no {} tag on baseline version {bv} or on the registered model {:?}{fallback_note}",
            tags::BENCHMARK_METRIC,
            selection.model
        );
        return Err((Outcome::MetricMissing, reason));
    };
    let metric = metric.trim().to_owned();
    verdict.metric = Some(metric.clone());

    let direction = settings.parse(tags::BENCHMARK_DIRECTION)?.unwrap_or(policy.direction);
    verdict.direction = Some(direction);

    let baseline_value = baseline_value(baseline, *source, &metric)
        .map_err(|(outcome, reason)| (outcome, format!("{reason}{fallback_note}")))?;
    verdict.baseline_value = Some(baseline_value.decimal());

    let candidate_value = version_value(candidate, &metric)?;
    verdict.candidate_value = Some(candidate_value.decimal());

    let scale = settings.parse(tags::BENCHMARK_SCALE)?.or(policy.scale);
    let scale = resolve_scale(scale, baseline_value.decimal(), candidate_value.decimal())
        .map_err(|e| (Outcome::ScaleMismatch, e.to_string()))?;
    verdict.scale = Some(scale);

    let delta = delta_pp(candidate_value.decimal() - baseline_value.decimal(), scale, direction);
    verdict.delta_pp = Some(delta);

    let achieved = delta >= policy.threshold_pp;
    let comparison = if achieved { "beats" } else { "does not beat" };
    let lower_note = match direction {
        Direction::Higher => "",
        Direction::Lower => ", lower is better",
    };
    let reason = format!(
        "version {cv} {comparison} baseline version {bv} on {metric} by at least {threshold} pp: {candidate_value} vs {baseline_value} \
         is {delta:+} pp ({scale}{lower_note}){fallback_note}",
        threshold = policy.threshold_pp.normalize(),
    );
    Ok((if achieved { Outcome::Achieved } else { Outcome::NotAchieved }, reason))
}

/// What the reasons add when the baseline is not the newest tagged older version.
fn fallback_note(source: BaselineSource, cv: VersionNumber, bv: VersionNumber) -> String {
    match source {
        BaselineSource::Tagged => String::new(),
        BaselineSource::FirstVersion => {
            format!(
                " (no version older than {cv} carries {}, so the first version {bv} is the baseline)",
                tags::BENCHMARK_VALUE
            )
        }
        BaselineSource::Alias => format!(" (baseline version {bv} is the version behind the baseline alias)"),
    }
}

/// The `benchmark_*` settings of a check: the baseline's tags, else the registered model's.
struct BenchmarkSettings<'a> {
    baseline: &'a VersionFacts,
    model_tags: &'a Tags,
}

impl<'a> BenchmarkSettings<'a> {
    /// The setting's text and who carries it.
    fn get(&self, key: &str) -> Option<(&'a str, &'static str)> {
        self.baseline
            .tags
            .get(key)
            .map(|v| (v.as_str(), "baseline version"))
            .or_else(|| self.model_tags.get(key).map(|v| (v.as_str(), "registered model")))
    }

    /// The setting read as a scale or a direction; text naming neither is a bad tag.
    fn parse<T: FromStr<Err = UnknownVariant>>(&self, key: &str) -> Result<Option<T>, Conclusion> {
        match self.get(key) {
            Some((text, owner)) => {
                text.parse().map(Some).map_err(|e| (Outcome::BadTag, format!("{key} tag on the {owner}: {e}")))
            }
            None => Ok(None),
        }
    }
}

/// The baseline's value: its `benchmark_value` tag, or for a first version its own metric; the
/// version behind an alias gives its tag when it has one.
fn baseline_value(baseline: &VersionFacts, source: BaselineSource, metric: &str) -> Result<MetricValue, Conclusion> {
    let tagged = |text: &str| {
        MetricValue::parse(text).map_err(|e| {
            let bv = baseline.number();
            (Outcome::NonFiniteValue, format!("{} tag of baseline version {bv}: {e}", tags::BENCHMARK_VALUE))
        })
    };
    match source {
        BaselineSource::Tagged => tagged(&baseline.tags[tags::BENCHMARK_VALUE]),
        BaselineSource::FirstVersion => version_value(baseline, metric),
        // The champion's benchmark value when it has one, else its own metric.
        BaselineSource::Alias => match baseline.tags.get(tags::BENCHMARK_VALUE) {
            Some(text) => tagged(text),
            None => version_value(baseline, metric),
        },
    }
}

/// The candidate's lead in percentage points; positive is better, whichever way the metric goes.
fn delta_pp(raw: Decimal, scale: Scale, direction: Direction) -> Decimal {
    let pp = match scale {
        Scale::Fraction => raw * Decimal::ONE_HUNDRED,
        Scale::Percent => raw,
    };
    match direction {
        Direction::Higher => pp,
        Direction::Lower => -pp,
    }
    .normalize()
}

/// A version's value for `metric`: its run's metric, else a version tag of that name. The error
/// says whether the value is missing or unusable.
pub(crate) fn version_value(version: &VersionFacts, metric: &str) -> Result<MetricValue, (Outcome, String)> {
    let v = version.number();
    if let Some(x) = version.run_metrics.as_ref().and_then(|m| m.get(metric)) {
        return MetricValue::from_f64(*x)
            .map_err(|e| (Outcome::NonFiniteValue, format!("metric {metric} of version {v}'s run: {e}")));
    }
    if let Some(text) = version.tags.get(metric) {
        return MetricValue::parse(text)
            .map_err(|e| (Outcome::NonFiniteValue, format!("tag {metric} of version {v}: {e}")));
    }
    let run = if version.run_id.as_deref().is_some_and(|r| !r.is_empty()) {
        format!("its run has no metric {metric:?}")
    } else {
        "it has no run".to_owned()
    };
    Err((Outcome::MetricMissing, format!("version {v} has no value for {metric:?}: {run} and no tag of that name")))
}

/// Why two values cannot be compared in percentage points; its text goes into the verdict's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScaleError {
    #[error(
        "scale is fraction but the values are {baseline} (baseline) and {candidate} (candidate); fractions lie in [0, 1]"
    )]
    NotFractions { baseline: Decimal, candidate: Decimal },
    #[error(
        "scale is percent but the values are {baseline} (baseline) and {candidate} (candidate); percents lie in [0, 100]"
    )]
    NotPercents { baseline: Decimal, candidate: Decimal },
    #[error(
        "cannot tell the scale of {baseline} (baseline) and {candidate} (candidate): both must lie in [0, 1] (fractions) \
         or both in (1, 100] (percents); set a {tag} tag or the scale setting to fraction or percent",
        tag = tags::BENCHMARK_SCALE
    )]
    Unknown { baseline: Decimal, candidate: Decimal },
}

pub(crate) fn resolve_scale(
    configured: Option<Scale>,
    baseline: Decimal,
    candidate: Decimal,
) -> Result<Scale, ScaleError> {
    let in_fraction = |x: Decimal| x >= Decimal::ZERO && x <= Decimal::ONE;
    let in_percent_range = |x: Decimal| x >= Decimal::ZERO && x <= Decimal::ONE_HUNDRED;
    let looks_percent = |x: Decimal| x > Decimal::ONE && x <= Decimal::ONE_HUNDRED;
    let (b, c) = (baseline.normalize(), candidate.normalize());
    match configured {
        Some(Scale::Fraction) => {
            if in_fraction(baseline) && in_fraction(candidate) {
                Ok(Scale::Fraction)
            } else {
                Err(ScaleError::NotFractions { baseline: b, candidate: c })
            }
        }
        Some(Scale::Percent) => {
            if in_percent_range(baseline) && in_percent_range(candidate) {
                Ok(Scale::Percent)
            } else {
                Err(ScaleError::NotPercents { baseline: b, candidate: c })
            }
        }
        None if in_fraction(baseline) && in_fraction(candidate) => Ok(Scale::Fraction),
        None if looks_percent(baseline) && looks_percent(candidate) => Ok(Scale::Percent),
        None => Err(ScaleError::Unknown { baseline: b, candidate: c }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u64) -> VersionNumber {
        VersionNumber::new(v).unwrap()
    }

    fn version(v: u64) -> VersionFacts {
        VersionFacts::new(n(v))
    }

    fn baseline(v: u64, value: &str) -> VersionFacts {
        version(v).with_tag(tags::BENCHMARK_VALUE, value).with_tag(tags::BENCHMARK_METRIC, "accuracy")
    }

    fn candidate(v: u64, accuracy: f64) -> VersionFacts {
        let mut facts = version(v).with_metric("accuracy", accuracy);
        facts.run_id = Some(format!("run-{v}"));
        facts
    }

    fn check(versions: &[VersionFacts]) -> Verdict {
        check_with(versions, None, &Tags::new(), &Policy::default())
    }

    fn check_with(versions: &[VersionFacts], requested: Option<u64>, model_tags: &Tags, policy: &Policy) -> Verdict {
        judge(&select("m", versions, requested.map(n)), model_tags, policy)
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn one_and_a_half_points_is_achieved() {
        let v = check(&[version(1), baseline(2, "0.9"), candidate(3, 0.915)]);
        assert_eq!(v.outcome, Outcome::Achieved, "{}", v.reason);
        assert_eq!(v.delta_pp, Some(dec("1.5")));
        assert_eq!((v.candidate_version, v.baseline_version), (Some(n(3)), Some(n(2))));
        assert_eq!(v.baseline_source, Some(BaselineSource::Tagged));
        assert_eq!(v.scale, Some(Scale::Fraction));
        assert_eq!(v.metric.as_deref(), Some("accuracy"));
        assert!(v.reason.contains("+1.5 pp"), "{}", v.reason);
    }

    #[test]
    fn just_under_one_point_is_not_achieved() {
        let v = check(&[baseline(1, "0.9"), candidate(2, 0.9099)]);
        assert_eq!(v.outcome, Outcome::NotAchieved);
        assert_eq!(v.delta_pp, Some(dec("0.99")));
    }

    #[test]
    fn exactly_one_point_at_two_decimals_counts_for_every_pair() {
        for hundredths in 1..100u32 {
            let b = f64::from(hundredths - 1) / 100.0;
            let c = f64::from(hundredths) / 100.0;
            let v = check(&[baseline(1, &b.to_string()), candidate(2, c)]);
            assert_eq!(v.outcome, Outcome::Achieved, "{c} vs {b}: {}", v.reason);
            assert_eq!(v.delta_pp, Some(dec("1")), "{c} vs {b}");
        }
    }

    #[test]
    fn negative_delta_is_not_achieved_and_signed() {
        let v = check(&[baseline(1, "0.9"), candidate(2, 0.85)]);
        assert_eq!(v.outcome, Outcome::NotAchieved);
        assert_eq!(v.delta_pp, Some(dec("-5")));
        assert!(v.reason.contains("-5 pp"), "{}", v.reason);
    }

    #[test]
    fn versions_sort_numerically_when_choosing_the_candidate() {
        let versions: Vec<VersionFacts> =
            [baseline(9, "0.8")].into_iter().chain([candidate(10, 0.95), version(2), version(1)]).collect();
        let v = check(&versions);
        assert_eq!(v.candidate_version, Some(n(10)));
        assert_eq!(v.baseline_version, Some(n(9)));
    }

    #[test]
    fn baseline_is_the_newest_tagged_version_older_than_the_candidate() {
        // Version 5 is tagged but newer than the requested candidate 4: it must not be the baseline.
        let versions = [version(1), baseline(2, "0.80"), baseline(3, "0.85"), candidate(4, 0.87), baseline(5, "0.95")];
        let v = check_with(&versions, Some(4), &Tags::new(), &Policy::default());
        assert_eq!(v.baseline_version, Some(n(3)));
        assert_eq!(v.delta_pp, Some(dec("2")));
        assert_eq!(v.outcome, Outcome::Achieved);
    }

    #[test]
    fn without_a_tagged_older_version_the_first_version_is_the_baseline() {
        let mut model = Tags::new();
        model.insert(tags::BENCHMARK_METRIC.into(), "accuracy".into());
        let v = check_with(&[candidate(1, 0.80), version(2), candidate(3, 0.9)], None, &model, &Policy::default());
        assert_eq!(v.baseline_source, Some(BaselineSource::FirstVersion));
        assert_eq!(v.baseline_version, Some(n(1)));
        assert_eq!(v.outcome, Outcome::Achieved);
        assert!(v.reason.contains("first version 1 is the baseline"), "{}", v.reason);
    }

    #[test]
    fn first_version_is_reported_as_no_baseline() {
        let v = check(&[candidate(1, 0.9)]);
        assert_eq!(v.outcome, Outcome::NoBaseline);
        assert_eq!(v.candidate_version, Some(n(1)));
        assert!(v.delta_pp.is_none());
    }

    #[test]
    fn no_versions_or_unknown_requested_version_is_no_candidate() {
        let v = check(&[]);
        assert_eq!(v.outcome, Outcome::NoCandidate);
        assert!(v.reason.contains("has no versions"));
        let v = check_with(&[baseline(1, "0.9")], Some(7), &Tags::new(), &Policy::default());
        assert_eq!(v.outcome, Outcome::NoCandidate);
        assert!(v.reason.contains("no version 7"), "{}", v.reason);
    }

    #[test]
    fn metric_name_falls_back_to_the_registered_model_tag() {
        let base = version(1).with_tag(tags::BENCHMARK_VALUE, "0.7");
        let mut model = Tags::new();
        model.insert(tags::BENCHMARK_METRIC.into(), "f1".into());
        let cand = version(2).with_metric("f1", 0.75);
        let v = check_with(&[base.clone(), cand.clone()], None, &model, &Policy::default());
        assert_eq!(v.metric.as_deref(), Some("f1"));
        assert_eq!(v.outcome, Outcome::Achieved);

        let v = check_with(&[base, cand], None, &Tags::new(), &Policy::default());
        assert_eq!(v.outcome, Outcome::MetricMissing);
        assert!(v.reason.contains("benchmark_metric"), "{}", v.reason);
    }

    #[test]
    fn baseline_metric_tag_wins_over_the_model_tag() {
        let mut model = Tags::new();
        model.insert(tags::BENCHMARK_METRIC.into(), "f1".into());
        let v = check_with(&[baseline(1, "0.9"), candidate(2, 0.95)], None, &model, &Policy::default());
        assert_eq!(v.metric.as_deref(), Some("accuracy"));
    }

    #[test]
    fn candidate_value_falls_back_to_a_version_tag() {
        let cand = version(2).with_tag("accuracy", "0.93");
        let v = check(&[baseline(1, "0.9"), cand]);
        assert_eq!(v.outcome, Outcome::Achieved);
        assert_eq!(v.candidate_value, Some(dec("0.93")));
    }

    #[test]
    fn run_metric_wins_over_a_version_tag() {
        let cand = candidate(2, 0.95).with_tag("accuracy", "0.1");
        assert_eq!(check(&[baseline(1, "0.9"), cand]).candidate_value, Some(dec("0.95")));
    }

    #[test]
    fn missing_candidate_metric_says_where_it_looked() {
        let v = check(&[baseline(1, "0.9"), candidate(2, 0.9).with_metric("loss", 0.2)]);
        let mut no_accuracy = candidate(2, 0.0);
        no_accuracy.run_metrics = Some(Metrics::from([("loss".to_owned(), 0.2)]));
        let v2 = check(&[baseline(1, "0.9"), no_accuracy]);
        assert_eq!(v.outcome, Outcome::NotAchieved);
        assert_eq!(v2.outcome, Outcome::MetricMissing);
        assert!(v2.reason.contains("its run has no metric \"accuracy\""), "{}", v2.reason);
        let v3 = check(&[baseline(1, "0.9"), version(2)]);
        assert_eq!(v3.outcome, Outcome::MetricMissing);
        assert!(v3.reason.contains("it has no run"), "{}", v3.reason);
    }

    #[test]
    fn nan_and_non_numeric_values_are_rejected_with_the_culprit_named() {
        let v = check(&[baseline(1, "NaN"), candidate(2, 0.9)]);
        assert_eq!(v.outcome, Outcome::NonFiniteValue);
        assert!(v.reason.contains("benchmark_value tag of baseline version 1"), "{}", v.reason);

        let v = check(&[baseline(1, "high"), candidate(2, 0.9)]);
        assert_eq!(v.outcome, Outcome::NonFiniteValue);
        assert!(v.reason.contains("\"high\" is not a number"), "{}", v.reason);

        let v = check(&[baseline(1, "0.9"), candidate(2, f64::NAN)]);
        assert_eq!(v.outcome, Outcome::NonFiniteValue);
        assert!(v.reason.contains("version 2's run"), "{}", v.reason);

        let v = check(&[baseline(1, "0.9"), version(2).with_tag("accuracy", "inf")]);
        assert_eq!(v.outcome, Outcome::NonFiniteValue);
    }

    #[test]
    fn percent_values_are_inferred_and_compared_in_points() {
        let v = check(&[baseline(1, "90"), candidate(2, 91.0)]);
        assert_eq!(v.scale, Some(Scale::Percent));
        assert_eq!(v.delta_pp, Some(dec("1")));
        assert_eq!(v.outcome, Outcome::Achieved);
    }

    #[test]
    fn explicit_percent_scale_tag_is_honoured_for_small_values() {
        let base = baseline(1, "0.5").with_tag(tags::BENCHMARK_SCALE, "percent");
        let v = check(&[base, candidate(2, 0.9)]);
        assert_eq!(v.scale, Some(Scale::Percent));
        assert_eq!(v.delta_pp, Some(dec("0.4")));
        assert_eq!(v.outcome, Outcome::NotAchieved);
    }

    #[test]
    fn scale_from_policy_applies_when_no_tag_says_otherwise() {
        let policy = Policy { scale: Some(Scale::Percent), ..Policy::default() };
        let v = check_with(&[baseline(1, "0.5"), candidate(2, 0.9)], None, &Tags::new(), &policy);
        assert_eq!(v.scale, Some(Scale::Percent));
    }

    #[test]
    fn mixed_or_out_of_range_scales_are_an_error_not_a_guess() {
        for (b, c) in [("0.9", 91.0), ("90", 0.91), ("-0.1", 0.2), ("150", 160.0), ("1", 50.0)] {
            let v = check(&[baseline(1, b), candidate(2, c)]);
            assert_eq!(v.outcome, Outcome::ScaleMismatch, "{b} vs {c}");
            assert!(v.reason.contains("benchmark_scale"), "{}", v.reason);
            assert!(v.delta_pp.is_none());
        }
        let base = baseline(1, "90").with_tag(tags::BENCHMARK_SCALE, "fraction");
        let v = check(&[base, candidate(2, 91.0)]);
        assert_eq!(v.outcome, Outcome::ScaleMismatch);
        assert!(v.reason.contains("fractions lie in [0, 1]"), "{}", v.reason);
    }

    #[test]
    fn unknown_scale_or_direction_tags_are_bad_tags() {
        let v = check(&[baseline(1, "0.9").with_tag(tags::BENCHMARK_SCALE, "ratio"), candidate(2, 0.95)]);
        assert_eq!(v.outcome, Outcome::BadTag);
        assert!(v.reason.contains("\"ratio\""), "{}", v.reason);
        let v = check(&[baseline(1, "0.9").with_tag(tags::BENCHMARK_DIRECTION, "up"), candidate(2, 0.95)]);
        assert_eq!(v.outcome, Outcome::BadTag);
    }

    #[test]
    fn lower_is_better_flips_the_sign() {
        let base = baseline(1, "0.20").with_tag(tags::BENCHMARK_DIRECTION, "lower");
        let v = check(&[base.clone(), candidate(2, 0.185)]);
        assert_eq!(v.direction, Some(Direction::Lower));
        assert_eq!(v.delta_pp, Some(dec("1.5")));
        assert_eq!(v.outcome, Outcome::Achieved);
        let v = check(&[base, candidate(2, 0.25)]);
        assert_eq!(v.delta_pp, Some(dec("-5")));
        assert_eq!(v.outcome, Outcome::NotAchieved);

        let policy = Policy { direction: Direction::Lower, ..Policy::default() };
        let v = check_with(&[baseline(1, "0.2"), candidate(2, 0.1)], None, &Tags::new(), &policy);
        assert_eq!(v.delta_pp, Some(dec("10")));
    }

    #[test]
    fn threshold_is_configurable_and_validated() {
        let policy = Policy::with_threshold(2.0).unwrap();
        let v = check_with(&[baseline(1, "0.9"), candidate(2, 0.915)], None, &Tags::new(), &policy);
        assert_eq!(v.outcome, Outcome::NotAchieved);
        assert_eq!(v.threshold_pp, dec("2"));
        assert!(Policy::with_threshold(0.0).is_ok());
        assert!(matches!(Policy::with_threshold(-1.0), Err(ThresholdError::Negative(_))));
        assert!(matches!(Policy::with_threshold(f64::NAN), Err(ThresholdError::Value(_))));
    }

    #[test]
    fn selection_skips_model_tags_when_the_baseline_names_everything() {
        let full = baseline(1, "0.9")
            .with_tag(tags::BENCHMARK_SCALE, "fraction")
            .with_tag(tags::BENCHMARK_DIRECTION, "higher")
            .with_tag(GUARDRAILS_TAG, "[]");
        assert!(!select("m", &[full, candidate(2, 0.9)], None).needs_model_tags());
        assert!(select("m", &[baseline(1, "0.9"), candidate(2, 0.9)], None).needs_model_tags());
        assert!(!select("m", &[candidate(1, 0.9)], None).needs_model_tags());
    }

    #[test]
    fn an_alias_baseline_replaces_the_tagged_one_and_may_be_newer_than_the_candidate() {
        let champion = candidate(4, 0.90).with_tag(tags::BENCHMARK_METRIC, "accuracy");
        let versions = [baseline(1, "0.8"), candidate(2, 0.95), candidate(3, 0.91), champion];
        let v = judge(&select_with_baseline("m", &versions, Some(n(2)), Some(n(4))), &Tags::new(), &Policy::default());
        assert_eq!((v.baseline_version, v.baseline_source), (Some(n(4)), Some(BaselineSource::Alias)));
        assert_eq!(v.delta_pp, Some(dec("5")), "{}", v.reason);
        assert!(v.reason.contains("behind the baseline alias"), "{}", v.reason);
        // An alias on the candidate itself, or on an unknown version, leaves the ordinary baseline.
        let v = judge(&select_with_baseline("m", &versions, Some(n(2)), Some(n(2))), &Tags::new(), &Policy::default());
        assert_eq!(v.baseline_source, Some(BaselineSource::Tagged));
        let s = select_with_baseline("m", &versions, Some(n(2)), Some(n(9)));
        assert_eq!(s.baseline.unwrap().1, BaselineSource::Tagged);
    }

    #[test]
    fn verdict_round_trips_through_json() {
        let v = check(&[baseline(1, "0.9"), candidate(2, 0.915)]);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["outcome"], "achieved");
        assert_eq!(json["delta_pp"], "1.5");
        assert_eq!(json["candidate_version"], "2");
        let back: Verdict = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
    }
}
