//! What a verdict rests on besides the two point values: the delta's confidence interval from
//! paired predictions, and guardrail metrics that must not regress.
//!
//! [`judge_with_evidence`] runs the rule ([`crate::judge`]) and then, for a comparison only:
//!
//! * **Confidence** — with paired predictions, the interval of the delta at the policy's level
//!   ([`crate::confidence::paired_interval`]), in pp and flipped for lower-is-better metrics. When
//!   the point estimate achieves but the lower bound does not reach the threshold, the reason says
//!   "achieved on the point estimate; not significant at 95 %"; under `require_confidence` the
//!   outcome is then `not_achieved`, as it is when no interval could be computed (unpaired,
//!   mismatched or too-small sets are typed in [`ConfidenceStatus`], never guessed around).
//! * **Guardrails** — each declared metric is compared between the two versions; "achieved" needs
//!   every one to pass. A regression beyond the allowance makes the verdict `not_achieved`; a
//!   guardrail metric without a value makes it `metric_missing` (not final: a later event that
//!   brings the value replaces it); an unusable value, `non_finite_value`.
//!
//! Guardrails are declared as JSON, in the registered model's [`GUARDRAILS_TAG`] tag or in the
//! configuration: `[{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10},
//! {"metric": "ece", "direction": "lower", "max_regression_pp": 0.5}]`.

use std::fmt::Write as _;

use rust_decimal::Decimal;

// Guardrails were declared here first; their paths stay.
pub use crate::guardrail::{GUARDRAILS_TAG, Guardrail, GuardrailSpecError, parse_guardrails};

use crate::Tags;
use crate::confidence::{ConfidenceError, Interval, Level, PairedRows, PairingError, paired_interval};
use crate::rule::{Direction, Policy, Scale, Selection, judge, resolve_scale, version_value};
use crate::verdict::{Allowance, Confidence, ConfidenceStatus, GuardrailResult, GuardrailStatus, Outcome, Verdict};

/// What the adapters found beyond the registry's values.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Paired predictions of the candidate and the baseline, or why they could not be paired;
    /// `None` when predictions were not looked for.
    pub paired: Option<Result<PairedRows, Unavailable>>,
}

/// Why the adapters have no paired rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub status: ConfidenceStatus,
    pub reason: String,
}

impl Unavailable {
    pub fn no_predictions(reason: impl Into<String>) -> Self {
        Self { status: ConfidenceStatus::NoPredictions, reason: reason.into() }
    }
}

impl From<PairingError> for Unavailable {
    fn from(e: PairingError) -> Self {
        let status = match e {
            PairingError::LengthMismatch { .. }
            | PairingError::NoRowId { .. }
            | PairingError::DuplicateRowId { .. }
            | PairingError::Unpaired { .. } => ConfidenceStatus::Unpaired,
            PairingError::LabelMismatch { .. }
            | PairingError::MixedValues { .. }
            | PairingError::NonFiniteScore { .. } => ConfidenceStatus::Mismatched,
        };
        Self { status, reason: e.to_string() }
    }
}

impl From<ConfidenceError> for Unavailable {
    fn from(e: ConfidenceError) -> Self {
        let status = match &e {
            ConfidenceError::Pairing(p) => return p.clone().into(),
            ConfidenceError::TooSmall { .. } | ConfidenceError::OneClass(_) => ConfidenceStatus::TooSmall,
            ConfidenceError::NonFinite { .. } => ConfidenceStatus::Mismatched,
            ConfidenceError::NeedsScores { .. }
            | ConfidenceError::UnsupportedMetric(_)
            | ConfidenceError::BadLevel(_) => ConfidenceStatus::Unsupported,
        };
        Self { status, reason: e.to_string() }
    }
}

/// Percentage points from a difference of fractions, to 6 decimals (the shortest form after rounding).
fn pp(fraction: f64) -> Decimal {
    let text = format!("{:.6}", fraction * 100.0);
    text.parse::<Decimal>().map(|d| d.normalize()).unwrap_or_default()
}

/// "95 %" for 0.95.
pub fn level_text(level: Decimal) -> String {
    format!("{} %", (level * Decimal::ONE_HUNDRED).normalize())
}

/// The rule's verdict, with the confidence interval and the guardrails applied (see module docs).
pub fn judge_with_evidence(selection: &Selection, model_tags: &Tags, policy: &Policy, evidence: &Evidence) -> Verdict {
    let mut verdict = judge(selection, model_tags, policy);
    if !verdict.outcome.is_comparison() {
        return verdict;
    }
    apply_confidence(&mut verdict, policy, evidence);
    apply_guardrails(&mut verdict, selection, model_tags, policy);
    verdict
}

fn apply_confidence(verdict: &mut Verdict, policy: &Policy, evidence: &Evidence) {
    let level = policy.confidence_level();
    let level_f64: f64 = level.to_string().parse().unwrap_or(crate::confidence::DEFAULT_LEVEL);
    let metric = verdict.metric.clone().unwrap_or_default();
    let computed: Option<Result<Interval, Unavailable>> = evidence.paired.as_ref().map(|paired| {
        let rows = paired.as_ref().map_err(Clone::clone)?;
        let level = Level::new(level_f64).map_err(Unavailable::from)?;
        paired_interval(&metric, rows, level).map_err(Unavailable::from)
    });
    let unavailable = |u: &Unavailable| Confidence {
        status: u.status,
        level,
        lower_pp: None,
        upper_pp: None,
        method: None,
        rows: None,
        estimate_pp: None,
        significant: None,
        reason: Some(u.reason.clone()),
    };
    let confidence = match &computed {
        None if policy.require_confidence => {
            unavailable(&Unavailable::no_predictions("no paired predictions of the two versions were provided"))
        }
        None => return,
        Some(Err(u)) => unavailable(u),
        Some(Ok(interval)) => {
            let (lower, upper, estimate) = match verdict.direction.unwrap_or_default() {
                Direction::Higher => (pp(interval.lower), pp(interval.upper), pp(interval.estimate)),
                Direction::Lower => (-pp(interval.upper), -pp(interval.lower), -pp(interval.estimate)),
            };
            Confidence {
                status: ConfidenceStatus::Computed,
                level,
                lower_pp: Some(lower),
                upper_pp: Some(upper),
                method: Some(interval.method),
                rows: Some(interval.rows),
                estimate_pp: Some(estimate),
                significant: Some(lower >= verdict.threshold_pp),
                reason: None,
            }
        }
    };
    let level_text = level_text(level);
    let mut note = String::new();
    match (confidence.status, confidence.significant) {
        (ConfidenceStatus::Computed, significant) => {
            let _ = write!(
                note,
                "; {level_text} interval [{:+}, {:+}] pp ({}, {} paired rows)",
                confidence.lower_pp.unwrap_or_default(),
                confidence.upper_pp.unwrap_or_default(),
                confidence.method.map(|m| m.as_str()).unwrap_or_default(),
                confidence.rows.unwrap_or_default(),
            );
            if verdict.outcome == Outcome::Achieved && significant == Some(false) {
                let _ = write!(note, "; achieved on the point estimate; not significant at {level_text}");
                if policy.require_confidence {
                    let _ = write!(
                        note,
                        " (require_confidence: the lower bound must reach {} pp)",
                        verdict.threshold_pp.normalize()
                    );
                    verdict.outcome = Outcome::NotAchieved;
                }
            }
        }
        (status, _) => {
            let _ = write!(
                note,
                "; no confidence interval ({}): {}",
                status.as_str(),
                confidence.reason.as_deref().unwrap_or_default()
            );
            if policy.require_confidence && verdict.outcome == Outcome::Achieved {
                let _ = write!(
                    note,
                    "; achieved on the point estimate only, and require_confidence needs an interval at {level_text}"
                );
                verdict.outcome = Outcome::NotAchieved;
            }
        }
    }
    verdict.reason.push_str(&note);
    verdict.confidence = Some(confidence);
}

fn apply_guardrails(verdict: &mut Verdict, selection: &Selection, model_tags: &Tags, policy: &Policy) {
    let (Some(candidate), Some((baseline, _))) = (&selection.candidate, &selection.baseline) else {
        return;
    };
    let declared = baseline.tags.get(GUARDRAILS_TAG).or_else(|| model_tags.get(GUARDRAILS_TAG));
    let guardrails = match declared {
        Some(json) => match parse_guardrails(json) {
            Ok(g) => g,
            Err(e) => {
                verdict.outcome = Outcome::BadTag;
                let _ = write!(verdict.reason, "; {GUARDRAILS_TAG} tag: {e}");
                return;
            }
        },
        None => policy.guardrails.clone(),
    };
    if guardrails.is_empty() {
        return;
    }
    let results: Vec<GuardrailResult> = guardrails.iter().map(|g| evaluate(g, candidate, baseline)).collect();
    let worst = |status| results.iter().filter(|r| r.status == status).map(|r| r.reason.as_str()).collect::<Vec<_>>();
    let (regressed, missing, invalid) =
        (worst(GuardrailStatus::Regressed), worst(GuardrailStatus::Missing), worst(GuardrailStatus::Invalid));
    if verdict.outcome == Outcome::Achieved {
        if !missing.is_empty() {
            verdict.outcome = Outcome::MetricMissing;
        } else if !invalid.is_empty() {
            verdict.outcome = Outcome::NonFiniteValue;
        } else if !regressed.is_empty() {
            verdict.outcome = Outcome::NotAchieved;
        }
    }
    let failing: Vec<&str> = regressed.into_iter().chain(missing).chain(invalid).collect();
    if failing.is_empty() {
        let _ = write!(verdict.reason, "; all {} guardrail(s) passed", results.len());
    } else {
        let _ = write!(verdict.reason, "; guardrail {}", failing.join("; guardrail "));
    }
    verdict.guardrails = results;
}

fn evaluate(g: &Guardrail, candidate: &crate::VersionFacts, baseline: &crate::VersionFacts) -> GuardrailResult {
    let mut result = GuardrailResult {
        metric: g.metric.clone(),
        direction: g.direction,
        allowed: g.allowed,
        baseline_value: None,
        candidate_value: None,
        regression: None,
        status: GuardrailStatus::Missing,
        reason: String::new(),
    };
    let (b, c) = match (version_value(baseline, &g.metric), version_value(candidate, &g.metric)) {
        (Ok(b), Ok(c)) => (b.decimal(), c.decimal()),
        (Err((outcome, why)), _) | (_, Err((outcome, why))) => {
            result.status =
                if outcome == Outcome::MetricMissing { GuardrailStatus::Missing } else { GuardrailStatus::Invalid };
            result.reason = format!("{} missing or unusable: {why}", g.metric);
            return result;
        }
    };
    result.baseline_value = Some(b);
    result.candidate_value = Some(c);
    // How much worse the candidate is, in the metric's units.
    let worse = match g.direction {
        Direction::Higher => b - c,
        Direction::Lower => c - b,
    };
    let (regression, limit, unit) = match g.allowed {
        Allowance::AbsolutePp(limit) => match resolve_scale(None, b, c) {
            Ok(Scale::Fraction) => (worse * Decimal::ONE_HUNDRED, limit, "pp"),
            Ok(Scale::Percent) => (worse, limit, "pp"),
            Err(why) => {
                result.status = GuardrailStatus::Invalid;
                result.reason = format!("{}: an allowance in pp needs fractions or percents: {why}", g.metric);
                return result;
            }
        },
        Allowance::RelativePercent(limit) => {
            if b.is_zero() {
                result.status = GuardrailStatus::Invalid;
                result.reason = format!("{}: a relative allowance needs a non-zero baseline value", g.metric);
                return result;
            }
            (worse / b.abs() * Decimal::ONE_HUNDRED, limit, "%")
        }
    };
    let regression = regression.round_dp(6).normalize();
    result.regression = Some(regression);
    let passed = regression <= limit;
    result.status = if passed { GuardrailStatus::Passed } else { GuardrailStatus::Regressed };
    result.reason = format!(
        "{} {} {c} vs {b}: regression {regression} {unit} (allowed {} {unit}, {} is better)",
        g.metric,
        if passed { "passed," } else { "regressed:" },
        limit.normalize(),
        g.direction,
    );
    result
}

#[cfg(test)]
mod tests;
