//! Page cursors of the read model: the DynamoDB key a page ended at, and back.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use deltaone_app::query::cursor::{Cursor, CursorError, KeyValue};

/// A cursor for the item `item` of query `scope`, keyed by `key_names`.
pub fn cursor_after(scope: &str, item: &HashMap<String, AttributeValue>, key_names: &[&str]) -> Option<Cursor> {
    let mut key = BTreeMap::new();
    for name in key_names {
        let value = match item.get(*name)? {
            AttributeValue::S(s) => KeyValue::S(s.clone()),
            AttributeValue::N(n) => KeyValue::N(n.clone()),
            _ => return None,
        };
        key.insert((*name).to_owned(), value);
    }
    Some(Cursor { scope: scope.to_owned(), key })
}

/// The ExclusiveStartKey this cursor stands for, if it belongs to query `scope` on the partition
/// `partition = (name, value)` with key attributes `key_names` (the sort key a number when
/// `numeric_sort`).
pub fn start_key(
    cursor: &Cursor,
    scope: &str,
    partition: (&str, &str),
    sort: (&str, bool),
) -> Result<HashMap<String, AttributeValue>, CursorError> {
    if cursor.scope != scope {
        return Err(CursorError(format!("it belongs to another query ({})", cursor.scope)));
    }
    if cursor.key.len() != 2 {
        return Err(CursorError("it does not name a key of this table".into()));
    }
    match cursor.key.get(partition.0) {
        Some(KeyValue::S(value)) if value == partition.1 => {}
        _ => return Err(CursorError("it belongs to another path".into())),
    }
    let sort_value = match (cursor.key.get(sort.0), sort.1) {
        (Some(KeyValue::N(n)), true) if n.parse::<u64>().is_ok() => AttributeValue::N(n.clone()),
        (Some(KeyValue::S(s)), false) => AttributeValue::S(s.clone()),
        _ => return Err(CursorError("it does not name a key of this table".into())),
    };
    Ok(HashMap::from([
        (partition.0.to_owned(), AttributeValue::S(partition.1.to_owned())),
        (sort.0.to_owned(), sort_value),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltaone_app::query::cursor::KeyValue;

    fn item(model: &str, version: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("model".to_owned(), AttributeValue::S(model.to_owned())),
            ("version".to_owned(), AttributeValue::N(version.to_owned())),
            ("outcome".to_owned(), AttributeValue::S("achieved".to_owned())),
        ])
    }

    #[test]
    fn a_cursor_round_trips_and_gives_back_the_start_key() {
        let cursor = cursor_after("verdicts", &item("fraud model", "17"), &["model", "version"]).unwrap();
        let text = cursor.encode();
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
        let back = Cursor::decode(&text).unwrap();
        assert_eq!(back, cursor);
        let key = start_key(&back, "verdicts", ("model", "fraud model"), ("version", true)).unwrap();
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
        let cursor = cursor_after("verdicts", &item("a", "3"), &["model", "version"]).unwrap();
        assert!(
            start_key(&cursor, "credits", ("model", "a"), ("version", true)).unwrap_err().0.contains("another query")
        );
        assert!(
            start_key(&cursor, "verdicts", ("model", "b"), ("version", true)).unwrap_err().0.contains("another path")
        );
        assert!(start_key(&cursor, "verdicts", ("model", "a"), ("version", false)).is_err());
        let mut bad = cursor.clone();
        bad.key.insert("version".into(), KeyValue::N("1e9".into()));
        assert!(start_key(&bad, "verdicts", ("model", "a"), ("version", true)).is_err());
    }
}
