//! Which columns a run analyses: each column's kind (numeric, categorical) and role (feature,
//! prediction) from the reference schema, and the columns left out with the reason.

use arrow_schema::{DataType, Schema};
use deltaone::drift::{DecisionPolicy, DriftMethod};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }

    /// The kind of an Arrow type, `None` for types that are not analysed.
    pub fn of(data_type: &DataType) -> Option<Self> {
        match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => Some(ColumnKind::Numeric),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean => {
                Some(ColumnKind::Categorical)
            }
            DataType::Dictionary(_, values)
                if matches!(values.as_ref(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
            {
                Some(ColumnKind::Categorical)
            }
            _ => None,
        }
    }

    /// Whether a column of `data_type` can be read as this kind: its own kind, or integers and
    /// booleans configured as categorical.
    pub fn accepts(self, data_type: &DataType) -> bool {
        match (self, Self::of(data_type)) {
            (kind, Some(inferred)) if kind == inferred => true,
            (ColumnKind::Categorical, _) => data_type.is_integer(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Feature,
    Prediction,
}

/// A column to analyse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnPlan {
    pub name: String,
    pub kind: ColumnKind,
    pub role: Role,
    /// The deciding method (default: KS for numeric, chi-square for categorical columns).
    pub method: Option<DriftMethod>,
    /// The column's threshold (default: the method's).
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedColumn {
    pub column: String,
    pub reason: String,
}

/// Whether a column name looks like an identifier: `id`, `*_id`, `*-id`, `*Id`, `*ID`.
fn looks_like_id(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "id"
        || lower.ends_with("_id")
        || lower.ends_with("-id")
        || lower == "uuid"
        || (name.ends_with("Id") || name.ends_with("ID")) && name.len() > 2
}

/// The columns to analyse in schema order, and the skipped ones with their reasons.
pub fn plan_columns(schema: &Schema, prediction: &str, label: &str) -> (Vec<ColumnPlan>, Vec<SkippedColumn>) {
    let mut plan = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |column: &str, reason: String| skipped.push(SkippedColumn { column: column.to_owned(), reason });
    for field in schema.fields() {
        let name = field.name();
        let data_type = field.data_type();
        if name == label {
            skip(name, "the label column".to_owned());
            continue;
        }
        let role = if name == prediction { Role::Prediction } else { Role::Feature };
        if role == Role::Feature {
            if matches!(
                data_type,
                DataType::Timestamp(..)
                    | DataType::Date32
                    | DataType::Date64
                    | DataType::Time32(_)
                    | DataType::Time64(_)
            ) {
                skip(name, format!("a time column ({data_type})"));
                continue;
            }
            if looks_like_id(name) {
                skip(name, "named like an identifier".to_owned());
                continue;
            }
        }
        match ColumnKind::of(data_type) {
            Some(kind) => plan.push(ColumnPlan { name: name.clone(), kind, role, method: None, threshold: None }),
            None => skip(name, unanalysed_reason(data_type)),
        }
    }
    (plan, skipped)
}

/// Why a column of `data_type` is not analysed (a type [`ColumnKind::of`] gives no kind).
fn unanalysed_reason(data_type: &DataType) -> String {
    let kind = match data_type {
        DataType::Struct(_) => Some("a struct"),
        DataType::List(_) | DataType::LargeList(_) | DataType::ListView(_) | DataType::LargeListView(_) => {
            Some("a list")
        }
        DataType::FixedSizeList(..) => Some("a fixed-size list"),
        DataType::Map(..) => Some("a map"),
        DataType::Union(..) => Some("a union"),
        DataType::RunEndEncoded(..) => Some("a run-end encoded array"),
        _ => None,
    };
    if let Some(kind) = kind {
        return format!(
            "a nested column ({kind}, {data_type}): only flat numeric and categorical columns are analysed"
        );
    }
    match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            format!(
                "binary values ({data_type}): categories are read from text; cast the column to a string to analyse it"
            )
        }
        _ => format!("type {data_type} is neither numeric nor categorical"),
    }
}

/// The method deciding a column: its configured one, else the policy's for its kind.
pub(crate) fn method_of(column: &ColumnPlan, policy: DecisionPolicy) -> DriftMethod {
    column.method.unwrap_or(match column.kind {
        ColumnKind::Numeric => policy.numeric_method(),
        ColumnKind::Categorical => policy.categorical_method(),
    })
}
