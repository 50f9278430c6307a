//! Pagination cursors: opaque to clients (URL-safe base64 of a small JSON object), validated when
//! they come back. A cursor names the query it continues (`scope`) and the key of the last item
//! returned; the adapter accepts it only for the same query, partition and key attributes, so a cursor
//! cannot be edited into reading another model's or contributor's items.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Longest cursor text accepted (keys are small; anything longer is not ours).
const MAX_CURSOR_LEN: usize = 2048;

/// A key attribute value: DynamoDB keys are strings or numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyValue {
    S(String),
    N(String),
}

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The query it continues, e.g. `verdicts`.
    #[serde(rename = "q")]
    pub scope: String,
    /// The key of the last item returned.
    #[serde(rename = "k")]
    pub key: BTreeMap<String, KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor: {0}; pass the next_cursor of the previous page unchanged")]
pub struct CursorError(pub String);

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursors serialize"))
    }

    /// Parses cursor text (syntax only; [`Cursor::start_key`] checks it fits the query).
    pub fn decode(text: &str) -> Result<Self, CursorError> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_CURSOR_LEN {
            return Err(CursorError(format!("must be 1..={MAX_CURSOR_LEN} characters")));
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError("not URL-safe base64".into()))?;
        serde_json::from_slice(&bytes).map_err(|_| CursorError("not a cursor of this API".into()))
    }

    /// A cursor for the item `item` of query `scope`, keyed by `key_names`.
    pub fn after(scope: &str, item: &HashMap<String, AttributeValue>, key_names: &[&str]) -> Option<Self> {
        let mut key = BTreeMap::new();
        for name in key_names {
            let value = match item.get(*name)? {
                AttributeValue::S(s) => KeyValue::S(s.clone()),
                AttributeValue::N(n) => KeyValue::N(n.clone()),
                _ => return None,
            };
            key.insert((*name).to_owned(), value);
        }
        Some(Self { scope: scope.to_owned(), key })
    }

    /// The ExclusiveStartKey this cursor stands for, if it belongs to query `scope` on the partition
    /// `partition = (name, value)` with key attributes `key_names` (the sort key a number when
    /// `numeric_sort`).
    pub fn start_key(
        &self,
        scope: &str,
        partition: (&str, &str),
        sort: (&str, bool),
    ) -> Result<HashMap<String, AttributeValue>, CursorError> {
        if self.scope != scope {
            return Err(CursorError(format!("it belongs to another query ({})", self.scope)));
        }
        if self.key.len() != 2 {
            return Err(CursorError("it does not name a key of this table".into()));
        }
        match self.key.get(partition.0) {
            Some(KeyValue::S(value)) if value == partition.1 => {}
            _ => return Err(CursorError("it belongs to another path".into())),
        }
        let sort_value = match (self.key.get(sort.0), sort.1) {
            (Some(KeyValue::N(n)), true) if n.parse::<u64>().is_ok() => AttributeValue::N(n.clone()),
            (Some(KeyValue::S(s)), false) => AttributeValue::S(s.clone()),
            _ => return Err(CursorError("it does not name a key of this table".into())),
        };
        Ok(HashMap::from([
            (partition.0.to_owned(), AttributeValue::S(partition.1.to_owned())),
            (sort.0.to_owned(), sort_value),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(model: &str, version: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("model".to_owned(), AttributeValue::S(model.to_owned())),
            ("version".to_owned(), AttributeValue::N(version.to_owned())),
            ("outcome".to_owned(), AttributeValue::S("achieved".to_owned())),
        ])
    }

    #[test]
    fn a_cursor_round_trips_and_gives_back_the_start_key() {
        let cursor = Cursor::after("verdicts", &item("fraud model", "17"), &["model", "version"]).unwrap();
        let text = cursor.encode();
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
        let back = Cursor::decode(&text).unwrap();
        assert_eq!(back, cursor);
        let key = back.start_key("verdicts", ("model", "fraud model"), ("version", true)).unwrap();
        assert_eq!(
            key,
            HashMap::from([
                ("model".to_owned(), AttributeValue::S("fraud model".to_owned())),
                ("version".to_owned(), AttributeValue::N("17".to_owned())),
            ])
        );
    }

    #[test]
    fn cursors_of_other_queries_paths_or_shapes_are_refused() {
        let cursor = Cursor::after("verdicts", &item("a", "3"), &["model", "version"]).unwrap();
        assert!(
            cursor.start_key("credits", ("model", "a"), ("version", true)).unwrap_err().0.contains("another query")
        );
        assert!(
            cursor.start_key("verdicts", ("model", "b"), ("version", true)).unwrap_err().0.contains("another path")
        );
        assert!(cursor.start_key("verdicts", ("model", "a"), ("version", false)).is_err());
        let mut bad = cursor.clone();
        bad.key.insert("version".into(), KeyValue::N("1e9".into()));
        assert!(bad.start_key("verdicts", ("model", "a"), ("version", true)).is_err());
    }

    #[test]
    fn garbage_is_a_typed_error_not_a_panic() {
        for text in ["", "!!!", "bm90IGpzb24", &"A".repeat(5000), "eyJxIjoxfQ"] {
            let err = Cursor::decode(text).unwrap_err();
            assert!(err.to_string().starts_with("cursor: "), "{err}");
        }
    }
}
