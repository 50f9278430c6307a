//! Counting a categorical column's values: text, booleans, integers configured as categorical and
//! dictionaries (counted per key, each category named once).

use std::collections::{BTreeMap, HashMap};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

use super::error::ValueError;

/// Category counts of one column of one window as the scan accumulates them: a hash map while
/// counting (dictionary-encoded batches are counted per key and each used key named once), sorted
/// by category when the window is done.
#[derive(Debug, Clone, Default)]
pub(crate) struct CategoryCounts {
    counts: HashMap<Box<str>, u64, foldhash::fast::FixedState>,
    pub total: u64,
    pub nulls: u64,
}

impl CategoryCounts {
    fn bump(&mut self, value: &str, n: u64) {
        match self.counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                self.counts.insert(value.into(), n);
            }
        }
    }

    fn add_texts<'a>(&mut self, values: impl Iterator<Item = Option<&'a str>>) {
        for value in values {
            match value {
                Some(s) => self.bump(s, 1),
                None => self.nulls += 1,
            }
        }
    }

    /// Adds one batch of the column.
    pub(crate) fn add(&mut self, array: &ArrayRef) -> Result<(), ValueError> {
        self.total += array.len() as u64;
        match array.data_type() {
            DataType::Utf8 => self.add_texts(array.as_string::<i32>().iter()),
            DataType::LargeUtf8 => self.add_texts(array.as_string::<i64>().iter()),
            DataType::Utf8View => self.add_texts(array.as_string_view().iter()),
            DataType::Dictionary(key_type, _) => {
                let dictionary = array.as_any_dictionary();
                // One slot per category and a last one for keys outside the dictionary, which
                // are nulls like null keys (as `visit_categories` says).
                let outside = dictionary.values().len();
                let mut per_key = vec![0u64; outside + 1];
                let mut nulls = 0u64;
                macro_rules! count_keys {
                    ($t:ty) => {{
                        let keys = array.as_dictionary::<$t>().keys();
                        // A negative key wraps to a huge index: outside.
                        let slot = |k| (k as usize).min(outside);
                        match keys.nulls().filter(|n| n.null_count() > 0) {
                            None => keys.values().iter().for_each(|&k| per_key[slot(k)] += 1),
                            Some(valid) => {
                                nulls += valid.null_count() as u64;
                                for (i, &k) in keys.values().iter().enumerate() {
                                    if valid.is_valid(i) {
                                        per_key[slot(k)] += 1;
                                    }
                                }
                            }
                        }
                    }};
                }
                match key_type.as_ref() {
                    DataType::Int8 => count_keys!(Int8Type),
                    DataType::Int16 => count_keys!(Int16Type),
                    DataType::Int32 => count_keys!(Int32Type),
                    DataType::Int64 => count_keys!(Int64Type),
                    DataType::UInt8 => count_keys!(UInt8Type),
                    DataType::UInt16 => count_keys!(UInt16Type),
                    DataType::UInt32 => count_keys!(UInt32Type),
                    DataType::UInt64 => count_keys!(UInt64Type),
                    other => return Err(ValueError::DictionaryKeys(other.clone())),
                }
                nulls += per_key[outside];
                self.nulls += nulls;
                let mut key = 0;
                visit_categories(dictionary.values(), &mut |value| {
                    let n = per_key[key];
                    key += 1;
                    match value {
                        _ if n == 0 => {}
                        Some(s) => self.bump(s, n),
                        None => self.nulls += n,
                    }
                })?;
            }
            _ => {
                let mut nulls = 0;
                visit_categories(array, &mut |value| match value {
                    Some(s) => self.bump(s, 1),
                    None => nulls += 1,
                })?;
                self.nulls += nulls;
            }
        }
        Ok(())
    }

    /// The counts, sorted by category.
    pub fn into_sorted(self) -> BTreeMap<String, u64> {
        self.counts.into_iter().map(|(k, v)| (k.into_string(), v)).collect()
    }
}

/// Calls `f` with each value of a categorical array as text (`None` for nulls); integers (a
/// column configured as categorical) as their decimal text.
pub(crate) fn visit_categories(array: &ArrayRef, f: &mut dyn FnMut(Option<&str>)) -> Result<(), ValueError> {
    macro_rules! ints {
        ($t:ty) => {{
            let mut text = String::new();
            for v in array.as_primitive::<$t>().iter() {
                match v {
                    Some(v) => {
                        use std::fmt::Write;
                        text.clear();
                        write!(text, "{v}").expect("writing to a String");
                        f(Some(&text));
                    }
                    None => f(None),
                }
            }
        }};
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        DataType::Boolean => array.as_boolean().iter().for_each(|b| f(b.map(|b| if b { "true" } else { "false" }))),
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Dictionary(..) => {
            let dictionary = array.as_any_dictionary();
            let mut values: Vec<Option<String>> = Vec::new();
            visit_categories(dictionary.values(), &mut |v| values.push(v.map(str::to_owned)))?;
            let keys = dictionary.normalized_keys();
            for (i, key) in keys.into_iter().enumerate() {
                if array.is_null(i) {
                    f(None);
                } else {
                    f(values.get(key).and_then(|v| v.as_deref()));
                }
            }
        }
        other => return Err(ValueError::NotCategorical(other.clone())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{DictionaryArray, StringArray};

    use super::*;

    fn counted(arrays: &[ArrayRef]) -> (BTreeMap<String, u64>, u64, u64) {
        let mut counts = CategoryCounts::default();
        for a in arrays {
            counts.add(a).unwrap();
        }
        let (total, nulls) = (counts.total, counts.nulls);
        (counts.into_sorted(), total, nulls)
    }

    #[test]
    fn dictionaries_of_every_key_type_count_like_plain_text() {
        let texts = [Some("b"), None, Some("a"), Some("b"), Some("c"), Some("b"), None];
        let plain: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let expected = counted(std::slice::from_ref(&plain));
        assert_eq!(expected.0.get("b"), Some(&3));
        assert_eq!((expected.1, expected.2), (7, 2));
        let with_null_keys: DictionaryArray<Int8Type> = texts.iter().copied().collect();
        let without_nulls: DictionaryArray<UInt16Type> = texts.iter().flatten().copied().collect();
        // Null keys in one batch, none in the next; keys of other widths.
        let split =
            [Arc::new(with_null_keys.slice(0, 3)) as ArrayRef, Arc::new(with_null_keys.slice(3, 4)) as ArrayRef];
        assert_eq!(counted(&split), expected);
        let mut without = counted(&[Arc::new(without_nulls) as ArrayRef]);
        without.1 += 2;
        without.2 += 2;
        assert_eq!(without, expected);
        // A null among the dictionary's values counts as a null wherever a key points at it.
        let keys = arrow_array::Int64Array::from(vec![0, 1, 1, 2]);
        let values = Arc::new(StringArray::from(vec![Some("a"), None, Some("b")]));
        let null_value = DictionaryArray::<Int64Type>::try_new(keys, values).unwrap();
        let (counts, total, nulls) = counted(&[Arc::new(null_value) as ArrayRef]);
        assert_eq!(
            (counts.into_iter().collect::<Vec<_>>(), total, nulls),
            (vec![("a".into(), 1), ("b".into(), 1)], 4, 2)
        );
    }
}
