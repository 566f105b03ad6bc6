//! The row model: what a binding maps, and the typed values its cells hold.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The PostgreSQL types sheetsync converts exactly. Every other type is
/// carried as text (its PostgreSQL text form), which round-trips losslessly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Date,
    Timestamp,
    Timestamptz,
    Uuid,
    Json,
    Jsonb,
}

impl PgType {
    /// Maps a catalog type name (`pg_type.typname`) to the type sheetsync
    /// converts; unknown types travel as text.
    pub fn from_typname(typname: &str) -> PgType {
        match typname {
            "bool" => PgType::Bool,
            "int2" => PgType::Int2,
            "int4" => PgType::Int4,
            "int8" => PgType::Int8,
            "float4" => PgType::Float4,
            "float8" => PgType::Float8,
            "numeric" => PgType::Numeric,
            "date" => PgType::Date,
            "timestamp" => PgType::Timestamp,
            "timestamptz" => PgType::Timestamptz,
            "uuid" => PgType::Uuid,
            "json" => PgType::Json,
            "jsonb" => PgType::Jsonb,
            _ => PgType::Text,
        }
    }
}

/// One column of a bound table, as introspected from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column name exactly as the catalog spells it (never quoted here).
    pub name: String,
    pub pg_type: PgType,
    /// `format_type(atttypid, atttypmod)`: the SQL spelling used in casts.
    pub sql_type: String,
    pub nullable: bool,
    /// Position in the primary key (0-based), `None` for non-key columns.
    pub key_position: Option<usize>,
    /// The column has a default (identity, serial, uuid default, ...).
    pub has_default: bool,
    /// A generated column: never written, only read.
    pub generated: bool,
}

/// How a cell changed on both sides is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The change made later wins, decided per cell by time.
    #[default]
    Latest,
    /// The sheet's value always wins.
    Sheet,
    /// The database's value always wins.
    Db,
}

impl std::str::FromStr for ConflictPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "latest" => Ok(ConflictPolicy::Latest),
            "sheet" => Ok(ConflictPolicy::Sheet),
            "db" => Ok(ConflictPolicy::Db),
            other => Err(format!(
                "conflict policy '{other}' is not one of latest, sheet, db"
            )),
        }
    }
}

impl ConflictPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Latest => "latest",
            ConflictPolicy::Sheet => "sheet",
            ConflictPolicy::Db => "db",
        }
    }
}

/// A typed cell value.
///
/// `Numeric` keeps the exact decimal text (normalised: no leading `+`, no
/// exponent); `Text` also carries types sheetsync does not interpret.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Numeric(String),
    Text(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Uuid(uuid::Uuid),
    Json(serde_json::Value),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A primary key: the key columns' values in key order.
///
/// Keys are compared by their canonical text so that the same key read from
/// the sheet (a JSON number) and from the table (an int8) are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key(pub Vec<String>);
