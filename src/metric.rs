//! What a metric's numbers mean: the scale they are written on and which way is better. The rule
//! reads both from tags and settings; verdicts and guardrails report them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How metric values are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// 0 to 1; one percentage point is 0.01.
    Fraction,
    /// 0 to 100; one percentage point is 1.
    Percent,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Higher,
    Lower,
}

/// A setting's text that names no known variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not one of: {expected}")]
pub struct UnknownVariant {
    pub input: String,
    pub expected: &'static str,
}

impl FromStr for Scale {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fraction" => Ok(Self::Fraction),
            "percent" => Ok(Self::Percent),
            _ => Err(UnknownVariant { input: s.to_owned(), expected: "fraction, percent" }),
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "higher" | "higher_is_better" | "max" => Ok(Self::Higher),
            "lower" | "lower_is_better" | "min" => Ok(Self::Lower),
            _ => Err(UnknownVariant { input: s.to_owned(), expected: "higher, lower" }),
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fraction => "fraction",
            Self::Percent => "percent",
        })
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Higher => "higher",
            Self::Lower => "lower",
        })
    }
}
