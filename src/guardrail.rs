//! Guardrails: metrics besides the benchmark one that a candidate may not make worse than allowed.
//! Declared as JSON, in the registered model's [`GUARDRAILS_TAG`] tag or in the configuration:
//! `[{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10},
//! {"metric": "ece", "direction": "lower", "max_regression_pp": 0.5}]`. The policy carries them;
//! [`crate::evidence`] evaluates them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::metric::Direction;
use crate::verdict::Allowance;

/// The registered model's tag (or the baseline version's) holding the guardrails as JSON.
pub const GUARDRAILS_TAG: &str = crate::tags::BENCHMARK_GUARDRAILS;

/// A declared guardrail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardrail {
    pub metric: String,
    pub direction: Direction,
    pub allowed: Allowance,
}

/// The JSON a guardrail is declared in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardrailSpec {
    metric: String,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    max_regression_pp: Option<f64>,
    #[serde(default)]
    max_regression_pct: Option<f64>,
}

/// A guardrail declaration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guardrails: {0}")]
pub struct GuardrailSpecError(pub String);

/// Reads guardrails from their JSON declaration (an array of objects, see the module docs).
pub fn parse_guardrails(json: &str) -> Result<Vec<Guardrail>, GuardrailSpecError> {
    let specs: Vec<GuardrailSpec> = serde_json::from_str(json).map_err(|e| GuardrailSpecError(e.to_string()))?;
    specs
        .into_iter()
        .map(|spec| {
            let metric = spec.metric.trim().to_owned();
            if metric.is_empty() {
                return Err(GuardrailSpecError("a guardrail has an empty metric name".into()));
            }
            let direction = match spec.direction.as_deref() {
                None => Direction::Higher,
                Some(text) => text.parse().map_err(|e| GuardrailSpecError(format!("{metric}: direction {e}")))?,
            };
            let amount = |x: f64, key: &str| -> Result<Decimal, GuardrailSpecError> {
                let value = crate::MetricValue::from_f64(x)
                    .map_err(|e| GuardrailSpecError(format!("{metric}: {key} {e}")))?
                    .decimal();
                if value.is_sign_negative() && !value.is_zero() {
                    return Err(GuardrailSpecError(format!("{metric}: {key} must not be negative, got {value}")));
                }
                Ok(value)
            };
            let allowed = match (spec.max_regression_pp, spec.max_regression_pct) {
                (Some(pp), None) => Allowance::AbsolutePp(amount(pp, "max_regression_pp")?),
                (None, Some(pct)) => Allowance::RelativePercent(amount(pct, "max_regression_pct")?),
                _ => {
                    return Err(GuardrailSpecError(format!(
                        "{metric}: give exactly one of max_regression_pp and max_regression_pct"
                    )));
                }
            };
            Ok(Guardrail { metric, direction, allowed })
        })
        .collect()
}
