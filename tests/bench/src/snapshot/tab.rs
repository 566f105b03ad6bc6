//! The generated tab: 100,000 rows × 20 columns of the types a business
//! sheet holds, each cell both as the Apps Script sends it and as
//! PostgreSQL prints it back, so the table can be checked against the tab.

use chrono::{Days, NaiveDate, NaiveDateTime, TimeDelta};
use serde_json::{Value as Json, json};

pub const TABLE: &str = "bench_snapshot";

pub const CREATE_TABLE: &str = "CREATE TABLE bench_snapshot (
    id bigint PRIMARY KEY, name text, email text, city text, country text,
    qty integer, price numeric(12,2), active boolean, due date, created timestamptz,
    note text, code text, score integer, category text, level integer,
    rating numeric(12,2), zip text, phone text, shipped boolean, shipped_on date)";

pub const HEADER: [&str; 20] = [
    "id",
    "name",
    "email",
    "city",
    "country",
    "qty",
    "price",
    "active",
    "due",
    "created",
    "note",
    "code",
    "score",
    "category",
    "level",
    "rating",
    "zip",
    "phone",
    "shipped",
    "shipped_on",
];

const CITIES: [&str; 8] = [
    "Berlin", "Paris", "Lisbon", "Chennai", "Osaka", "Toronto", "Nairobi", "Lima",
];
const COUNTRIES: [&str; 5] = ["DE", "FR", "US", "IN", "JP"];
const CATEGORIES: [&str; 6] = ["hardware", "software", "services", "books", "food", "toys"];

/// One cell as the script reads it from `getValues()`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    Text(String),
    /// An amount in cents (a `numeric(12,2)` column).
    Cents(i64),
    Bool(bool),
    Date(NaiveDate),
    /// A date-time in a spreadsheet whose zone is UTC.
    Instant(NaiveDateTime),
    Empty,
}

impl Cell {
    /// As `cellToJson_` (apps-script/values.js) sends it.
    pub fn to_json(&self) -> Json {
        match self {
            Cell::Int(i) => json!(i),
            // JavaScript prints a whole number without a fraction.
            Cell::Cents(c) if c % 100 == 0 => json!(c / 100),
            Cell::Cents(c) => json!(*c as f64 / 100.0),
            Cell::Text(s) => json!(s),
            Cell::Bool(b) => json!(b),
            Cell::Date(d) => json!(d.format("%Y-%m-%d").to_string()),
            Cell::Instant(t) => json!(format!("{}+00:00", t.format("%Y-%m-%dT%H:%M:%S%.3f"))),
            Cell::Empty => json!(""),
        }
    }

    /// As PostgreSQL's `::text` prints the stored value (TimeZone UTC,
    /// DateStyle ISO), `\N` for NULL; what [`super::verify`] compares.
    pub fn pg_text(&self) -> String {
        match self {
            Cell::Int(i) => i.to_string(),
            Cell::Cents(c) => format!(
                "{}{}.{:02}",
                if *c < 0 { "-" } else { "" },
                c.abs() / 100,
                c.abs() % 100
            ),
            Cell::Text(s) => s.clone(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Instant(t) => format!("{}+00", t.format("%Y-%m-%d %H:%M:%S")),
            Cell::Empty => "\\N".into(),
        }
    }
}

/// What the tab holds in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Every row as first written.
    Original,
    /// Every 100th row (ids ≡ 7 mod 100) with its `qty` and `city` changed.
    OnePercentChanged,
    /// As `OnePercentChanged`, and every 100th row (ids ≡ 13 mod 100) deleted.
    OnePercentDeleted,
}

impl Variant {
    pub fn changed(self, id: i64) -> bool {
        self != Variant::Original && id % 100 == 7
    }

    pub fn deleted(self, id: i64) -> bool {
        self == Variant::OnePercentDeleted && id % 100 == 13
    }
}

/// The row with key `id` as the tab holds it.
pub fn row(id: i64, variant: Variant) -> Vec<Cell> {
    let day0 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let date = |offset: i64| day0 + Days::new(offset.unsigned_abs());
    let changed = variant.changed(id);
    let shipped = id % 2 == 0;
    vec![
        Cell::Int(id),
        Cell::Text(format!("Customer {id}")),
        Cell::Text(format!("customer{id}@example.com")),
        Cell::Text(CITIES[(id as usize + usize::from(changed)) % CITIES.len()].into()),
        Cell::Text(COUNTRIES[id as usize % COUNTRIES.len()].into()),
        Cell::Int(id % 100 + if changed { 1000 } else { 0 }),
        Cell::Cents((id * 37) % 100_000),
        Cell::Bool(id % 3 == 0),
        Cell::Date(date(id % 365)),
        Cell::Instant(day0.and_time(Default::default()) + TimeDelta::seconds(id * 61)),
        if id % 7 == 0 {
            Cell::Empty
        } else {
            Cell::Text(format!("Note for order {id}: handle with care"))
        },
        Cell::Text(format!("C-{id:06}")),
        Cell::Int((id * 7919) % 1000),
        Cell::Text(CATEGORIES[id as usize % CATEGORIES.len()].into()),
        Cell::Int(id % 10),
        Cell::Cents((id * 13) % 500),
        Cell::Text(format!("{:05}", (id * 31) % 100_000)),
        Cell::Text(format!("+49 30 {id:07}")),
        Cell::Bool(shipped),
        if shipped {
            Cell::Date(date(id % 365 + 3))
        } else {
            Cell::Empty
        },
    ]
}

/// The tab's rows top to bottom: keys 1..=`rows`, less those the variant
/// deleted.
pub fn rows(rows: i64, variant: Variant) -> Vec<Vec<Cell>> {
    (1..=rows)
        .filter(|&id| !variant.deleted(id))
        .map(|id| row(id, variant))
        .collect()
}
