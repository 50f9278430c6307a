//! The job's TOML configuration file (`--config`, `DELTAONE_DRIFT_CONFIG`). Every key is optional;
//! command-line flags and environment variables win over the file.
//!
//! ```toml
//! prediction_column = "score"
//! label_column = "label"
//! timestamp_column = "ts"
//! drift_share = 0.5              # dataset drift when this share of columns drifted
//! binning = "quantiles"          # or "evidently"
//! positive_threshold = 0.5       # scores at or above count as positive (performance)
//! select = "all"                 # "all": every column of the reference; "configured": only [columns.*]
//! policy = "effect_size"         # or "p_value" (the tests' p-values decide, as before)
//! correction = "benjamini_hochberg"  # or "bonferroni" | "none" (of the run's p-values)
//! alpha = 0.05                   # the effect-size policy's significance gate
//! new_category_share = 0.01      # new categories holding this share of current rows: a large change
//!
//! [alert]                        # with a drift table (the run history)
//! k = 2                          # alert when drifted in k of the last n runs
//! n = 3
//! cooldown_hours = 24            # then hold the same column unless its severity rises
//!
//! [columns.amount]
//! kind = "numeric"               # overrides inference ("numeric" | "categorical")
//! method = "psi"                 # ks | chi2 | psi | js | wasserstein
//! threshold = 0.2                # drift at or above it (a distance), or below it (ks, chi2)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use deltaone::drift::alerting::{AlertRule, AlertRuleError};
use deltaone::drift::{Correction, DecisionPolicy, DriftMethod};
use serde::{Deserialize, Serialize};

use deltaone::drift::Binning;

use super::{ColumnKind, DriftJobError};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    pub prediction_column: Option<String>,
    pub label_column: Option<String>,
    pub timestamp_column: Option<String>,
    pub drift_share: Option<f64>,
    pub binning: Option<BinningChoice>,
    pub positive_threshold: Option<f64>,
    pub policy: Option<DecisionPolicy>,
    pub correction: Option<CorrectionName>,
    pub alpha: Option<f64>,
    pub new_category_share: Option<f64>,
    pub alert: Option<AlertConfig>,
    #[serde(default)]
    pub select: Select,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnConfig>,
}

/// The alert rule's keys (`[alert]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    pub k: Option<u32>,
    pub n: Option<u32>,
    pub cooldown_hours: Option<f64>,
}

impl AlertConfig {
    /// The rule with these keys over `base`.
    pub fn apply(&self, base: AlertRule) -> AlertRule {
        AlertRule {
            k: self.k.unwrap_or(base.k),
            n: self.n.unwrap_or(base.n),
            cooldown_secs: self.cooldown_hours.map_or(base.cooldown_secs, |h| (h * 3600.0).round() as i64),
        }
    }
}

/// Correction names, with the short `bh` accepted for Benjamini–Hochberg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionName {
    #[serde(alias = "bh")]
    #[value(alias = "bh")]
    BenjaminiHochberg,
    Bonferroni,
    None,
}

impl CorrectionName {
    pub fn correction(self) -> Correction {
        match self {
            CorrectionName::BenjaminiHochberg => Correction::BenjaminiHochberg,
            CorrectionName::Bonferroni => Correction::Bonferroni,
            CorrectionName::None => Correction::None,
        }
    }
}

/// Which columns are analysed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// Every column of the reference schema that has a numeric or categorical type.
    #[default]
    All,
    /// Only the columns under `[columns.*]` (and the prediction column).
    Configured,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    pub kind: Option<ColumnKind>,
    pub method: Option<MethodName>,
    pub threshold: Option<f64>,
}

/// The short method names of the configuration and the results table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    Ks,
    Chi2,
    Psi,
    Js,
    Wasserstein,
}

impl MethodName {
    pub fn method(self) -> DriftMethod {
        match self {
            MethodName::Ks => DriftMethod::KolmogorovSmirnov,
            MethodName::Chi2 => DriftMethod::ChiSquare,
            MethodName::Psi => DriftMethod::Psi,
            MethodName::Js => DriftMethod::JensenShannon,
            MethodName::Wasserstein => DriftMethod::Wasserstein,
        }
    }
}

/// The short name of a method, as the results table stores it (`ks`, `chi2`, `psi`, `js`,
/// `wasserstein`).
pub fn short_name(method: DriftMethod) -> &'static str {
    match method {
        DriftMethod::KolmogorovSmirnov => "ks",
        DriftMethod::ChiSquare => "chi2",
        DriftMethod::Psi => "psi",
        DriftMethod::JensenShannon => "js",
        DriftMethod::Wasserstein => "wasserstein",
    }
}

fn invalid(path: &Path, key: impl Into<String>, reason: impl Into<String>) -> DriftJobError {
    DriftJobError::Config { path: path.display().to_string(), key: key.into(), reason: reason.into() }
}

impl JobConfig {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, DriftJobError> {
        let text = std::fs::read_to_string(path).map_err(|e| invalid(path, "(file)", e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses and validates; errors name the key (`path` only labels them).
    pub fn parse(text: &str, path: &Path) -> Result<Self, DriftJobError> {
        let config: JobConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().to_owned();
            let key = key_of(text, e.span()).unwrap_or_else(|| "(syntax)".to_owned());
            invalid(path, key, message)
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), DriftJobError> {
        if let Some(share) = self.drift_share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(invalid(path, "drift_share", format!("{share} is not in (0, 1]")));
        }
        if let Some(t) = self.positive_threshold
            && !(0.0..=1.0).contains(&t)
        {
            return Err(invalid(path, "positive_threshold", format!("{t} is not in [0, 1]")));
        }
        if let Some(alpha) = self.alpha
            && !(alpha > 0.0 && alpha < 1.0)
        {
            return Err(invalid(path, "alpha", format!("{alpha} is not in (0, 1)")));
        }
        if let Some(share) = self.new_category_share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(invalid(path, "new_category_share", format!("{share} is not in (0, 1]")));
        }
        if let Some(alert) = &self.alert {
            if let Some(h) = alert.cooldown_hours
                && !(h.is_finite() && h >= 0.0)
            {
                return Err(invalid(path, "alert.cooldown_hours", format!("{h} is not a number of hours ≥ 0")));
            }
            let rule = alert.apply(AlertRule::default());
            // A k without n (or the reverse) is checked against the default of the other.
            rule.validate().map_err(|e| {
                let key = match e {
                    AlertRuleError::K { .. } => "alert.k",
                    AlertRuleError::N { .. } => "alert.n",
                    AlertRuleError::Cooldown { .. } => "alert.cooldown_hours",
                };
                invalid(path, key, e.to_string())
            })?;
        }
        for (key, value) in [
            ("prediction_column", &self.prediction_column),
            ("label_column", &self.label_column),
            ("timestamp_column", &self.timestamp_column),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(invalid(path, key, "is empty"));
            }
        }
        for (name, column) in &self.columns {
            let key = |field: &str| format!("columns.{name}.{field}");
            if let (Some(kind), Some(method)) = (column.kind, column.method) {
                check_method(kind, method.method()).map_err(|e| invalid(path, key("method"), e.to_string()))?;
            }
            if let Some(threshold) = column.threshold {
                // Without a method the policy decides what the threshold is for; the run checks
                // a p-value threshold then (`plan_for`).
                let method = column.method.map(MethodName::method);
                let p_value = method.is_some_and(DriftMethod::is_p_value);
                if !threshold.is_finite() || threshold <= 0.0 || (p_value && threshold >= 1.0) {
                    let range = if p_value { "(0, 1) for a p-value" } else { "> 0 for a distance" };
                    return Err(invalid(path, key("threshold"), format!("{threshold} is not in {range}")));
                }
            }
        }
        Ok(())
    }
}

/// A drift method configured for a column of a kind it cannot decide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} does not apply to a {} column", short_name(*.method), .kind.as_str())]
pub struct MethodMismatch {
    pub method: DriftMethod,
    pub kind: ColumnKind,
}

/// Whether `method` can decide a column of `kind`.
pub fn check_method(kind: ColumnKind, method: DriftMethod) -> Result<(), MethodMismatch> {
    let fits = match method {
        DriftMethod::KolmogorovSmirnov | DriftMethod::Wasserstein => kind == ColumnKind::Numeric,
        DriftMethod::ChiSquare => kind == ColumnKind::Categorical,
        DriftMethod::Psi | DriftMethod::JensenShannon => true,
    };
    if fits { Ok(()) } else { Err(MethodMismatch { method, kind }) }
}

/// The dotted key at a byte span of a TOML document: the enclosing `[table]` and the key on the
/// line, as far as a line-based look can tell.
fn key_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let at = span?.start.min(text.len());
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    if line.starts_with('[') {
        // `[` or `[]` names no table: the error is about syntax.
        let table = line.trim_matches(|c| c == '[' || c == ']').trim();
        return (!table.is_empty()).then(|| table.to_owned());
    }
    let key = line.split('=').next().map(str::trim).filter(|k| !k.is_empty())?;
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

/// How to bin numeric columns for PSI and Jensen–Shannon distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum BinningChoice {
    /// Ten reference-quantile bins (open-ended outer bins).
    #[default]
    Quantiles,
    /// Evidently's binning (Sturges equal-width bins, or one per value for ≤ 20 distinct values).
    Evidently,
}

impl BinningChoice {
    pub fn binning(self) -> Binning {
        match self {
            BinningChoice::Quantiles => Binning::default(),
            BinningChoice::Evidently => Binning::EvidentlyCompatible,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JobConfig, DriftJobError> {
        JobConfig::parse(text, Path::new("drift.toml"))
    }

    fn key(err: DriftJobError) -> String {
        match err {
            DriftJobError::Config { key, .. } => key,
            other => panic!("not a config error: {other}"),
        }
    }

    // Found by fuzzing (tests/fuzz/regressions/drift_config_toml/): "[" was refused naming key ``.
    #[test]
    fn a_table_header_without_a_name_is_a_syntax_error_not_an_empty_key() {
        for text in ["[", "[]", "[[]]\nx = 1"] {
            let err = JobConfig::parse(text, Path::new("drift.toml")).unwrap_err().to_string();
            assert!(err.starts_with("configuration drift.toml: key `(syntax)`: "), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(
            r#"
prediction_column = "score"
label_column = "y"
timestamp_column = "ts"
drift_share = 0.3
binning = "evidently"
select = "configured"
policy = "p_value"
correction = "bh"
alpha = 0.01

[alert]
k = 2
n = 3
cooldown_hours = 12

[columns.amount]
kind = "numeric"
method = "psi"
threshold = 0.25

[columns.channel]
kind = "categorical"
"#,
        )
        .unwrap();
        assert_eq!(c.prediction_column.as_deref(), Some("score"));
        assert_eq!(
            (c.drift_share, c.binning, c.select),
            (Some(0.3), Some(BinningChoice::Evidently), Select::Configured)
        );
        assert_eq!(c.columns["amount"].method, Some(MethodName::Psi));
        assert_eq!(
            (c.policy, c.correction.map(CorrectionName::correction), c.alpha),
            (Some(DecisionPolicy::PValue), Some(Correction::BenjaminiHochberg), Some(0.01))
        );
        assert_eq!(c.alert.unwrap().apply(AlertRule::default()), AlertRule { k: 2, n: 3, cooldown_secs: 12 * 3600 });
        assert_eq!(c.columns["channel"].kind, Some(ColumnKind::Categorical));
        assert_eq!(parse("").unwrap(), JobConfig::default());
    }

    #[test]
    fn bad_configs_name_the_key() {
        assert_eq!(key(parse("drift_share = 1.5").unwrap_err()), "drift_share");
        assert_eq!(
            key(parse("[columns.age]\nkind = \"numeric\"\nmethod = \"chi2\"").unwrap_err()),
            "columns.age.method"
        );
        assert_eq!(key(parse("[columns.age]\nthreshold = -2.0").unwrap_err()), "columns.age.threshold");
        assert_eq!(key(parse("[columns.age]\nmethod = \"ks\"\nthreshold = 2.0").unwrap_err()), "columns.age.threshold");
        assert_eq!(key(parse("alpha = 1.0").unwrap_err()), "alpha");
        assert_eq!(key(parse("new_category_share = 0").unwrap_err()), "new_category_share");
        assert_eq!(key(parse("policy = \"vibes\"").unwrap_err()), "policy");
        assert_eq!(key(parse("[alert]\nk = 4\nn = 3").unwrap_err()), "alert.k");
        assert_eq!(key(parse("[alert]\nn = 30").unwrap_err()), "alert.n");
        assert_eq!(key(parse("[alert]\ncooldown_hours = -1").unwrap_err()), "alert.cooldown_hours");
        assert_eq!(key(parse("[alert]\nwindow = 3").unwrap_err()), "alert.window");
        assert_eq!(key(parse("[columns.age]\nkind = \"text\"").unwrap_err()), "columns.age.kind");
        assert_eq!(key(parse("drift_shar = 0.5").unwrap_err()), "drift_shar");
        assert_eq!(
            key(parse("[columns.age]\nmethod = \"ks\"\nthreshhold = 0.1").unwrap_err()),
            "columns.age.threshhold"
        );
        let err = parse("binning = \"fancy\"").unwrap_err();
        assert!(err.to_string().contains("binning") && err.to_string().contains("drift.toml"), "{err}");
    }
}
