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
    /// Every type sheetsync converts, for exhaustive tests and fuzzing.
    pub const ALL: [PgType; 14] = [
        PgType::Bool,
        PgType::Int2,
        PgType::Int4,
        PgType::Int8,
        PgType::Float4,
        PgType::Float8,
        PgType::Numeric,
        PgType::Text,
        PgType::Date,
        PgType::Timestamp,
        PgType::Timestamptz,
        PgType::Uuid,
        PgType::Json,
        PgType::Jsonb,
    ];

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

    /// The type's SQL spelling, as `format_type` prints it without a modifier.
    pub fn sql_name(self) -> &'static str {
        match self {
            PgType::Bool => "boolean",
            PgType::Int2 => "smallint",
            PgType::Int4 => "integer",
            PgType::Int8 => "bigint",
            PgType::Float4 => "real",
            PgType::Float8 => "double precision",
            PgType::Numeric => "numeric",
            PgType::Text => "text",
            PgType::Date => "date",
            PgType::Timestamp => "timestamp without time zone",
            PgType::Timestamptz => "timestamp with time zone",
            PgType::Uuid => "uuid",
            PgType::Json => "json",
            PgType::Jsonb => "jsonb",
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

impl Column {
    /// A nullable, non-key column of a type without modifier: what a message
    /// or a test knows about a column when the catalog is not at hand.
    pub fn new(name: impl Into<String>, pg_type: PgType) -> Column {
        Column {
            name: name.into(),
            pg_type,
            sql_type: pg_type.sql_name().to_owned(),
            nullable: true,
            key_position: None,
            has_default: false,
            generated: false,
        }
    }

    pub fn is_key(&self) -> bool {
        self.key_position.is_some()
    }
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
/// `Numeric` keeps the exact decimal in canonical form (no sign but `-`, no
/// exponent, no leading zeros, no trailing fractional zeros; or `NaN`,
/// `Infinity`, `-Infinity`), so `1.50` from one side and `1.5` from the
/// other are equal. `Text` also carries types sheetsync does not interpret.
/// `Float`s are equal when numerically equal or both NaN, so a NaN cell does
/// not look changed forever.
#[derive(Debug, Clone)]
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

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Numeric(a), Numeric(b)) => a == b,
            (Text(a), Text(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Timestamp(a), Timestamp(b)) => a == b,
            (TimestampTz(a), TimestampTz(b)) => a == b,
            (Uuid(a), Uuid(b)) => a == b,
            (Json(a), Json(b)) => a == b,
            _ => false,
        }
    }
}

/// A cell as the writer puts it into the sheet.
///
/// `Date` and `DateTime` are Google serial numbers (days since 1899-12-30,
/// the time as a fraction of the day); the writer gives them a date format so
/// no locale can misread them.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetCell {
    Empty,
    Number(f64),
    Bool(bool),
    Text(String),
    Date(f64),
    DateTime(f64),
}

pub use crate::key::{Key, KeyPart};
