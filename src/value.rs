//! Metric values in exact decimal arithmetic.
//!
//! Metrics arrive as binary floats (MLflow run metrics) or as text (version tags). Subtracting two
//! floats and comparing with 1 pp gets about one pair in five of two-decimal values wrong
//! (`0.88 - 0.87 = 0.010000000000000009`, `0.57 - 0.56 = 0.009999999999999898`). We therefore
//! take each value's *shortest decimal form* — the shortest digit string that reads back as the
//! same float, which is what a person wrote or saw — and do all arithmetic in decimal.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

/// A finite metric value, held exactly as its shortest decimal form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MetricValue(Decimal);

/// Why a metric value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{text:?} is not a number")]
    NotANumber { text: String },
    #[error("{text} is not a finite number")]
    NotFinite { text: String },
    #[error("{text} is too large to compare exactly (more than 28 significant digits)")]
    OutOfRange { text: String },
}

impl MetricValue {
    /// The value of a float, through its shortest round-tripping decimal form.
    pub fn from_f64(x: f64) -> Result<Self, ValueError> {
        if !x.is_finite() {
            return Err(ValueError::NotFinite { text: x.to_string() });
        }
        // Rust's `Display` for floats prints the shortest string that parses back to `x`,
        // without an exponent.
        let shortest = x.to_string();
        Decimal::from_str(&shortest).map(Self).map_err(|_| ValueError::OutOfRange { text: shortest })
    }

    /// The value of a tag's text. The text must be a plain decimal or scientific number;
    /// it is read as a float first so that `"0.880"` and `0.88` are the same value.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let trimmed = text.trim();
        let x: f64 = trimmed.parse().map_err(|_| ValueError::NotANumber { text: text.to_owned() })?;
        if !x.is_finite() {
            return Err(ValueError::NotFinite { text: text.to_owned() });
        }
        Self::from_f64(x)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn two_decimal_differences_are_exact() {
        // Every pair of two-decimal values one hundredth apart differs by exactly 0.01, although
        // float subtraction misses for many of them.
        let mut float_misses = 0;
        for hundredths in 1..100 {
            let hi = f64::from(hundredths) / 100.0;
            let lo = f64::from(hundredths - 1) / 100.0;
            if hi - lo < 0.01 {
                float_misses += 1;
            }
            let diff = MetricValue::from_f64(hi).unwrap().decimal() - MetricValue::from_f64(lo).unwrap().decimal();
            assert_eq!(diff, d("0.01"), "{hi} - {lo}");
        }
        assert!(float_misses > 0, "the float pitfall this type exists for did not show up");
    }

    #[test]
    fn text_and_float_agree() {
        assert_eq!(MetricValue::parse("0.880").unwrap(), MetricValue::from_f64(0.88).unwrap());
        assert_eq!(MetricValue::parse(" 8.8e-1 ").unwrap(), MetricValue::from_f64(0.88).unwrap());
        assert_eq!(MetricValue::parse("91").unwrap().to_string(), "91");
    }

    #[test]
    fn rejects_nan_infinity_and_words() {
        for text in ["NaN", "nan", "inf", "-Infinity"] {
            assert!(matches!(MetricValue::parse(text), Err(ValueError::NotFinite { .. })), "{text}");
        }
        for text in ["", "abc", "0.9.1", "ninety", "0x10", "1,5"] {
            assert!(matches!(MetricValue::parse(text), Err(ValueError::NotANumber { .. })), "{text}");
        }
        assert!(matches!(MetricValue::from_f64(f64::NAN), Err(ValueError::NotFinite { .. })));
        assert!(matches!(MetricValue::from_f64(f64::NEG_INFINITY), Err(ValueError::NotFinite { .. })));
    }

    #[test]
    fn huge_values_are_an_error_not_a_wrong_answer() {
        assert!(matches!(MetricValue::from_f64(1e300), Err(ValueError::OutOfRange { .. })));
    }

    #[test]
    fn error_messages_name_the_input() {
        assert_eq!(MetricValue::parse("abc").unwrap_err().to_string(), "\"abc\" is not a number");
        assert_eq!(MetricValue::parse("NaN").unwrap_err().to_string(), "NaN is not a finite number");
    }
}
