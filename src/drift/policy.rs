//! Deciding a run's columns together: an effect size decides whether a change is worth a
//! person's attention, a significance test (its p-values adjusted for the number of columns)
//! decides whether the window is large enough to tell. See `docs/drift-decisions.md`.
//!
//! * [`DecisionPolicy::EffectSize`] (the default): a column drifts when its effect size reaches
//!   its threshold (normalised Wasserstein ≥ 0.1 for numbers, Jensen–Shannon distance ≥ 0.1 for
//!   categories, or a configured PSI/JS/Wasserstein threshold) **and** its test's adjusted p-value
//!   is below `alpha`. At production volumes every test is significant, so the effect size alone
//!   decides; on small windows an effect of that size can be noise, and the test holds it back.
//!   A significant change below the threshold is reported as [`ColumnVerdict::Negligible`].
//! * [`DecisionPolicy::PValue`]: the test's p-value decides (KS or chi-square, drift below 0.05),
//!   as the job always did; with [`Correction::None`] exactly the old decisions.
//!
//! Where p-values decide, [`adjust_p_values`] controls false discoveries across the run's
//! columns: Benjamini–Hochberg by default, Bonferroni or none by choice (as statsmodels'
//! `multipletests` methods `fdr_bh` and `bonferroni`).

use serde::{Deserialize, Serialize};

use super::{DEFAULT_P_VALUE_THRESHOLD, DriftError, DriftMethod};

/// Share of the current rows in categories the reference never had from which a categorical
/// column counts as changed whatever its distance (a new upstream value in real volume).
pub const DEFAULT_NEW_CATEGORY_SHARE: f64 = 0.01;

/// How a run's columns are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionPolicy {
    /// An effect size decides; the (adjusted) test p-value only gates it.
    #[default]
    EffectSize,
    /// The test p-value decides (the job's behaviour before effect sizes).
    PValue,
}

impl DecisionPolicy {
    /// The method deciding a numeric column when none is configured.
    pub fn numeric_method(self) -> DriftMethod {
        match self {
            DecisionPolicy::EffectSize => DriftMethod::Wasserstein,
            DecisionPolicy::PValue => DriftMethod::KolmogorovSmirnov,
        }
    }

    /// The method deciding a categorical column when none is configured.
    pub fn categorical_method(self) -> DriftMethod {
        match self {
            DecisionPolicy::EffectSize => DriftMethod::JensenShannon,
            DecisionPolicy::PValue => DriftMethod::ChiSquare,
        }
    }
}

/// Multiple-comparison correction of a run's p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Benjamini–Hochberg: controls the false discovery rate (statsmodels `fdr_bh`).
    #[default]
    BenjaminiHochberg,
    /// Bonferroni: controls the family-wise error rate (statsmodels `bonferroni`).
    Bonferroni,
    /// Each p-value on its own.
    None,
}

/// Adjusted p-values, in the order given. Non-finite entries (a column without a test) are left
/// out of the count of comparisons and come back as NaN.
///
/// * Benjamini–Hochberg: `q_(i) = min_{j ≥ i} min(1, m · p_(j) / j)` over the `m` p-values sorted
///   ascending.
/// * Bonferroni: `min(1, m · p)`.
///
/// Fails on a finite value outside [0, 1], naming its index.
pub fn adjust_p_values(p_values: &[f64], correction: Correction) -> Result<Vec<f64>, DriftError> {
    if let Some((index, &value)) = p_values.iter().enumerate().find(|(_, p)| p.is_finite() && !(0.0..=1.0).contains(*p))
    {
        return Err(DriftError::InvalidPValue { index, value });
    }
    let mut order: Vec<usize> = (0..p_values.len()).filter(|&i| p_values[i].is_finite()).collect();
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; p_values.len()];
    match correction {
        Correction::None => {
            for &i in &order {
                adjusted[i] = p_values[i];
            }
        }
        Correction::Bonferroni => {
            for &i in &order {
                adjusted[i] = (p_values[i] * m).min(1.0);
            }
        }
        Correction::BenjaminiHochberg => {
            // Stable sort: ties keep their order, and get the same adjusted value anyway.
            order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
            let mut running = 1.0f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(p_values[i] * m / (rank + 1) as f64);
                adjusted[i] = running.min(1.0);
            }
        }
    }
    Ok(adjusted)
}

/// What a run's decisions depend on besides each column's own method and threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecisionSettings {
    pub policy: DecisionPolicy,
    pub correction: Correction,
    /// Significance level of the gate (effect-size policy): a test's adjusted p-value below it.
    pub alpha: f64,
    /// A categorical column whose new categories hold at least this share of the current rows
    /// is a large change (effect-size policy).
    pub new_category_share: f64,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self {
            policy: DecisionPolicy::EffectSize,
            correction: Correction::BenjaminiHochberg,
            alpha: DEFAULT_P_VALUE_THRESHOLD,
            new_category_share: DEFAULT_NEW_CATEGORY_SHARE,
        }
    }
}

impl DecisionSettings {
    /// Checks the settings' ranges, naming the one that is wrong.
    pub fn validate(&self) -> Result<(), DecisionSettingsError> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(DecisionSettingsError::Alpha(self.alpha));
        }
        if !(self.new_category_share > 0.0 && self.new_category_share <= 1.0) {
            return Err(DecisionSettingsError::NewCategoryShare(self.new_category_share));
        }
        Ok(())
    }
}

/// Which of the [`DecisionSettings`] is out of its range.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DecisionSettingsError {
    #[error("alpha {0} is not in (0, 1)")]
    Alpha(f64),
    #[error("new_category_share {0} is not in (0, 1]")]
    NewCategoryShare(f64),
}

/// One column's evidence, as computed from its windows.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnEvidence {
    pub column: String,
    /// The deciding method: a p-value test or an effect size.
    pub method: DriftMethod,
    /// The column's threshold for `method`: the column's own, or the method's default.
    pub threshold: f64,
    /// The value of `method` (a p-value or a distance); NaN when it could not be computed.
    pub score: f64,
    /// The significance test's raw p-value (KS for numbers, chi-square for categories); NaN
    /// without one.
    pub p_value: f64,
    /// Share of the current rows in categories the reference never had (0 for numbers).
    pub new_category_share: f64,
}

/// A column's verdict, as `drift.json`, the report and the CLI show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnVerdict {
    /// A change worth a person's attention.
    Drift,
    /// Statistically significant, but smaller than the threshold: not worth attention.
    Negligible,
    /// An effect at or above the threshold that the test cannot tell from noise (few rows).
    NotSignificant,
    /// Neither large nor significant.
    NoDrift,
}

impl ColumnVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnVerdict::Drift => "drift",
            ColumnVerdict::Negligible => "negligible",
            ColumnVerdict::NotSignificant => "not_significant",
            ColumnVerdict::NoDrift => "no_drift",
        }
    }
}

/// How far past its threshold a drifted column is: its effect over its threshold (or its new
/// categories' share over theirs), in doublings. The alert rule re-alerts during a cooldown when
/// it rises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftSeverity {
    /// Under twice the threshold (and every drift decided by a p-value alone).
    Moderate,
    /// Two to four times the threshold.
    High,
    /// Four times the threshold or more.
    Severe,
}

impl DriftSeverity {
    fn of_ratio(ratio: f64) -> Self {
        if ratio >= 4.0 {
            DriftSeverity::Severe
        } else if ratio >= 2.0 {
            DriftSeverity::High
        } else {
            DriftSeverity::Moderate
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DriftSeverity::Moderate => "moderate",
            DriftSeverity::High => "high",
            DriftSeverity::Severe => "severe",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(text: &str) -> Option<Self> {
        [DriftSeverity::Moderate, DriftSeverity::High, DriftSeverity::Severe].into_iter().find(|s| s.as_str() == text)
    }
}

/// One column's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDecision {
    pub column: String,
    pub verdict: ColumnVerdict,
    /// `verdict == Drift`.
    pub drifted: bool,
    /// The test's p-value after the run's correction (NaN without a test).
    pub p_value_adjusted: f64,
    /// Set when drifted.
    pub severity: Option<DriftSeverity>,
    /// Why, in a sentence a person can read.
    pub reason: String,
}

fn short(method: DriftMethod) -> &'static str {
    match method {
        DriftMethod::KolmogorovSmirnov => "KS p",
        DriftMethod::ChiSquare => "chi-square p",
        DriftMethod::Wasserstein => "normalised Wasserstein",
        DriftMethod::JensenShannon => "Jensen-Shannon",
        DriftMethod::Psi => "PSI",
    }
}

fn num(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e4) { format!("{x:.2e}") } else { format!("{x:.4}") }
}

/// Decides every column of a run together (the correction needs all their p-values).
pub fn decide_columns(
    columns: &[ColumnEvidence],
    settings: &DecisionSettings,
) -> Result<Vec<ColumnDecision>, DriftError> {
    let p_values: Vec<f64> = columns.iter().map(|c| c.p_value).collect();
    let adjusted = adjust_p_values(&p_values, settings.correction)?;
    let correction = match settings.correction {
        Correction::BenjaminiHochberg => "Benjamini-Hochberg adjusted",
        Correction::Bonferroni => "Bonferroni adjusted",
        Correction::None => "unadjusted",
    };
    Ok(columns
        .iter()
        .zip(adjusted)
        .map(|(c, p_adj)| {
            let (verdict, severity, reason) = if c.method.is_p_value() {
                // The p-value decides: the deciding test's p-value is `p_value`, adjusted.
                let p = p_adj;
                if p < c.threshold {
                    let reason = format!("{} {} ({correction}) < {}", short(c.method), num(p), num(c.threshold));
                    (ColumnVerdict::Drift, Some(DriftSeverity::Moderate), reason)
                } else if p.is_nan() {
                    (ColumnVerdict::NoDrift, None, "no p-value could be computed".to_owned())
                } else {
                    let reason = format!("{} {} ({correction}) ≥ {}", short(c.method), num(p), num(c.threshold));
                    (ColumnVerdict::NoDrift, None, reason)
                }
            } else {
                let effect_ratio = if c.score.is_finite() { c.score / c.threshold } else { 0.0 };
                // Today's rule (p-value policy) decides a configured distance by itself.
                let effect_policy = settings.policy == DecisionPolicy::EffectSize;
                let new_ratio = if effect_policy { c.new_category_share / settings.new_category_share } else { 0.0 };
                let large = effect_ratio >= 1.0 || new_ratio >= 1.0;
                let effect = if c.score.is_finite() {
                    format!("{} {}", short(c.method), num(c.score))
                } else {
                    format!("{} not computed", short(c.method))
                };
                let size = if new_ratio >= 1.0 && effect_ratio < 1.0 {
                    format!(
                        "new categories hold {:.2}% of current rows (≥ {:.2}%), {effect}",
                        c.new_category_share * 100.0,
                        settings.new_category_share * 100.0
                    )
                } else if large {
                    format!("{effect} ≥ {}", num(c.threshold))
                } else {
                    format!("{effect} < {}", num(c.threshold))
                };
                // A column without a test (not expected: every kind has one) is decided by its
                // effect alone, and says so.
                let (significant, test) = if !effect_policy {
                    // Today's rule: a configured distance decides by itself, ungated.
                    (true, String::new())
                } else if p_adj.is_finite() {
                    (p_adj < settings.alpha, format!("test p {} ({correction})", num(p_adj)))
                } else {
                    (true, "no test p-value".to_owned())
                };
                match (large, significant) {
                    (large, _) if !effect_policy => {
                        let severity = large.then(|| DriftSeverity::of_ratio(effect_ratio));
                        let verdict = if large { ColumnVerdict::Drift } else { ColumnVerdict::NoDrift };
                        (verdict, severity, size)
                    }
                    (true, true) => (
                        ColumnVerdict::Drift,
                        Some(DriftSeverity::of_ratio(effect_ratio.max(new_ratio))),
                        format!("{size}; {test} < {}", num(settings.alpha)),
                    ),
                    (false, true) => (
                        ColumnVerdict::Negligible,
                        None,
                        format!("significant but negligible: {size}; {test} < {}", num(settings.alpha)),
                    ),
                    (true, false) => (
                        ColumnVerdict::NotSignificant,
                        None,
                        format!("{size}, but {test} ≥ {}: too few rows to tell from noise", num(settings.alpha)),
                    ),
                    (false, false) => (ColumnVerdict::NoDrift, None, format!("{size}; {test}")),
                }
            };
            ColumnDecision {
                column: c.column.clone(),
                verdict,
                drifted: verdict == ColumnVerdict::Drift,
                p_value_adjusted: p_adj,
                severity,
                reason,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benjamini_hochberg_steps_up_and_caps_at_one() {
        // By hand: m = 4; sorted 0.01, 0.02, 0.03, 0.5 → 0.04, 0.04, 0.04, 0.5 (monotone from the top).
        let q = adjust_p_values(&[0.03, 0.5, 0.01, 0.02], Correction::BenjaminiHochberg).unwrap();
        let expect = [0.04, 0.5, 0.04, 0.04];
        for (a, b) in q.iter().zip(expect) {
            assert!((a - b).abs() < 1e-15, "{q:?}");
        }
        let b = adjust_p_values(&[0.03, 0.5, f64::NAN], Correction::Bonferroni).unwrap();
        assert_eq!((b[0], b[1]), (0.06, 1.0), "m counts the finite p-values only");
        assert!(b[2].is_nan());
        assert_eq!(adjust_p_values(&[0.2, 0.7], Correction::None).unwrap(), vec![0.2, 0.7]);
        assert!(adjust_p_values(&[], Correction::BenjaminiHochberg).unwrap().is_empty());
    }

    /// statsmodels' `multipletests` (`fdr_bh`, `bonferroni`) on the cases of
    /// `bench/reference/decision_reference.py`: equal within 1e-14 relative (statsmodels divides
    /// by rank/m where we multiply by m/rank, a few ulps apart); NaN where the input is NaN.
    #[test]
    fn corrections_match_statsmodels_multipletests() {
        #[derive(serde::Deserialize)]
        struct Case {
            name: String,
            p_values: Vec<String>,
            fdr_bh: Vec<String>,
            bonferroni: Vec<String>,
        }
        #[derive(serde::Deserialize)]
        struct Fixture {
            cases: Vec<Case>,
        }
        let fixture: Fixture = serde_json::from_str(include_str!("testdata/multiple_testing.json")).unwrap();
        let parse = |v: &[String]| v.iter().map(|x| x.parse::<f64>().unwrap()).collect::<Vec<f64>>();
        assert!(fixture.cases.len() >= 8);
        for case in &fixture.cases {
            let p = parse(&case.p_values);
            for (correction, expected) in
                [(Correction::BenjaminiHochberg, &case.fdr_bh), (Correction::Bonferroni, &case.bonferroni)]
            {
                let actual = adjust_p_values(&p, correction).unwrap();
                for (i, (a, e)) in actual.iter().zip(parse(expected)).enumerate() {
                    let what = format!("{} {correction:?}[{i}]", case.name);
                    if e.is_nan() {
                        assert!(a.is_nan(), "{what}: got {a}, expected NaN");
                    } else {
                        assert!((a - e).abs() <= 1e-14 * e.abs(), "{what}: got {a:e}, expected {e:e}");
                    }
                }
            }
        }
    }

    #[test]
    fn p_values_outside_the_unit_interval_are_named() {
        assert_eq!(
            adjust_p_values(&[0.1, 1.5], Correction::None),
            Err(DriftError::InvalidPValue { index: 1, value: 1.5 })
        );
        assert!(adjust_p_values(&[-0.0, 0.0, 1.0], Correction::BenjaminiHochberg).is_ok());
    }

    fn evidence(column: &str, method: DriftMethod, score: f64, p: f64) -> ColumnEvidence {
        ColumnEvidence {
            column: column.into(),
            method,
            threshold: method.default_threshold(),
            score,
            p_value: p,
            new_category_share: 0.0,
        }
    }

    #[test]
    fn an_effect_decides_and_the_test_gates_it() {
        let columns = [
            evidence("tiny_but_significant", DriftMethod::Wasserstein, 0.01, 1e-44),
            evidence("large_and_significant", DriftMethod::Wasserstein, 0.25, 1e-30),
            evidence("large_but_noise", DriftMethod::JensenShannon, 0.3, 0.2),
            evidence("nothing", DriftMethod::Psi, 0.01, 0.7),
        ];
        let d = decide_columns(&columns, &DecisionSettings::default()).unwrap();
        let verdicts: Vec<ColumnVerdict> = d.iter().map(|d| d.verdict).collect();
        assert_eq!(
            verdicts,
            [ColumnVerdict::Negligible, ColumnVerdict::Drift, ColumnVerdict::NotSignificant, ColumnVerdict::NoDrift]
        );
        assert!(d[0].reason.starts_with("significant but negligible"), "{}", d[0].reason);
        assert_eq!(d[1].severity, Some(DriftSeverity::High), "0.25 is 2.5× the threshold");
        assert!(d[2].reason.contains("too few rows"), "{}", d[2].reason);
        // BH over four p-values: the largest, 0.7, stays 0.7; 0.2 becomes min(0.2·4/3, 0.7).
        assert!((d[2].p_value_adjusted - 0.8 / 3.0).abs() < 1e-15, "{}", d[2].p_value_adjusted);
    }

    #[test]
    fn a_new_category_in_real_volume_is_a_large_change() {
        let mut c = evidence("channel", DriftMethod::JensenShannon, 0.08, 1e-9);
        c.new_category_share = 0.02;
        let d = decide_columns(&[c.clone()], &DecisionSettings::default()).unwrap();
        assert_eq!(d[0].verdict, ColumnVerdict::Drift, "{}", d[0].reason);
        assert_eq!(d[0].severity, Some(DriftSeverity::High), "2 % is twice the 1 % share");
        assert!(d[0].reason.contains("new categories hold 2.00%"), "{}", d[0].reason);
        c.new_category_share = 0.005;
        assert_eq!(decide_columns(&[c], &DecisionSettings::default()).unwrap()[0].verdict, ColumnVerdict::Negligible);
    }

    #[test]
    fn the_p_value_policy_decides_on_adjusted_p_values() {
        let columns = [
            evidence("a", DriftMethod::KolmogorovSmirnov, 0.03, 0.03),
            evidence("b", DriftMethod::ChiSquare, 0.04, 0.04),
            evidence("c", DriftMethod::KolmogorovSmirnov, 0.9, 0.9),
        ];
        let mut settings = DecisionSettings { policy: DecisionPolicy::PValue, ..Default::default() };
        let bh = decide_columns(&columns, &settings).unwrap();
        // BH: 0.03·3/1 = 0.09 → min over ranks (0.09, 0.06, 0.9) = 0.06 for both: no drift at 0.05.
        assert!(bh.iter().all(|d| !d.drifted), "{bh:?}");
        settings.correction = Correction::None;
        let raw = decide_columns(&columns, &settings).unwrap();
        assert_eq!(raw.iter().map(|d| d.drifted).collect::<Vec<_>>(), [true, true, false]);
        assert_eq!(raw[0].severity, Some(DriftSeverity::Moderate));
    }

    #[test]
    fn columns_without_scores_never_drift_and_settings_are_checked() {
        let d = decide_columns(
            &[evidence("ks", DriftMethod::KolmogorovSmirnov, f64::NAN, f64::NAN)],
            &DecisionSettings::default(),
        )
        .unwrap();
        assert_eq!((d[0].verdict, d[0].drifted), (ColumnVerdict::NoDrift, false));
        let bad = DecisionSettings { alpha: 1.0, ..Default::default() };
        assert_eq!(bad.validate(), Err(DecisionSettingsError::Alpha(1.0)));
        assert_eq!(bad.validate().unwrap_err().to_string(), "alpha 1 is not in (0, 1)");
        let bad = DecisionSettings { new_category_share: 0.0, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().to_string(), "new_category_share 0 is not in (0, 1]");
    }

    #[test]
    fn severity_doubles_with_the_effect() {
        assert_eq!(DriftSeverity::of_ratio(1.0), DriftSeverity::Moderate);
        assert_eq!(DriftSeverity::of_ratio(3.9), DriftSeverity::High);
        assert_eq!(DriftSeverity::of_ratio(4.0), DriftSeverity::Severe);
        assert!(DriftSeverity::Severe > DriftSeverity::High);
        assert_eq!(DriftSeverity::parse("high"), Some(DriftSeverity::High));
        assert_eq!(DriftSeverity::parse("huge"), None);
    }
}
