//! Pagination cursors: opaque to clients (URL-safe base64 of a small JSON object), validated when
//! they come back. A cursor names the query it continues (`scope`) and the key of the last item
//! returned; the adapter accepts it only for the same query, partition and key attributes, so a cursor
//! cannot be edited into reading another model's or contributor's items.

use std::collections::BTreeMap;

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

    /// Parses cursor text (syntax only; the adapter checks it fits the query).
    pub fn decode(text: &str) -> Result<Self, CursorError> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_CURSOR_LEN {
            return Err(CursorError(format!("must be 1..={MAX_CURSOR_LEN} characters")));
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError("not URL-safe base64".into()))?;
        serde_json::from_slice(&bytes).map_err(|_| CursorError("not a cursor of this API".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_typed_error_not_a_panic() {
        for text in ["", "!!!", "bm90IGpzb24", &"A".repeat(5000), "eyJxIjoxfQ"] {
            let err = Cursor::decode(text).unwrap_err();
            assert!(err.to_string().starts_with("cursor: "), "{err}");
        }
    }
}
