//! Model version numbers. MLflow reports them as strings; they order numerically ("10" > "9").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A registered model's version number: a positive integer, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionNumber(u64);

/// A version string that is not a positive integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model version {input:?} is not a positive whole number")]
pub struct VersionParseError {
    pub input: String,
}

impl VersionNumber {
    pub fn new(n: u64) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for VersionNumber {
    type Err = VersionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionParseError { input: s.to_owned() };
        let trimmed = s.trim();
        if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        trimmed.parse::<u64>().ok().and_then(Self::new).ok_or_else(err)
    }
}

impl fmt::Display for VersionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for VersionNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::Number(n) => Self::new(n).ok_or_else(|| serde::de::Error::custom("model version 0 is not positive")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> VersionNumber {
        s.parse().unwrap()
    }

    #[test]
    fn orders_numerically_not_lexically() {
        let mut versions = [v("9"), v("10"), v("1"), v("100"), v("2")];
        versions.sort();
        let shown: Vec<String> = versions.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["1", "2", "9", "10", "100"]);
        assert!(v("10") > v("9"));
    }

    #[test]
    fn rejects_non_numeric_zero_and_negative() {
        for bad in ["", " ", "abc", "1.5", "-3", "0", "+4", "1e3", "99999999999999999999999"] {
            let err = bad.parse::<VersionNumber>().unwrap_err();
            assert_eq!(err.input, bad, "{bad:?}");
        }
    }

    #[test]
    fn accepts_surrounding_whitespace_and_leading_zeros() {
        assert_eq!(v(" 7 ").get(), 7);
        assert_eq!(v("007").get(), 7);
    }

    #[test]
    fn serializes_as_string_and_reads_strings_or_numbers() {
        assert_eq!(serde_json::to_string(&v("12")).unwrap(), "\"12\"");
        assert_eq!(serde_json::from_str::<VersionNumber>("\"12\"").unwrap(), v("12"));
        assert_eq!(serde_json::from_str::<VersionNumber>("12").unwrap(), v("12"));
        assert!(serde_json::from_str::<VersionNumber>("0").is_err());
        assert!(serde_json::from_str::<VersionNumber>("\"x\"").is_err());
    }
}
