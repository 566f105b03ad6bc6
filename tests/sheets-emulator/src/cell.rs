//! The typed cell model: what a cell holds, its number format, and how values
//! typed by a user (`USER_ENTERED`) or sent raw (`RAW`) become cells.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::format;
use crate::formula::Formula;

/// One cell of a tab: its user-entered value, format and note.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    #[serde(default)]
    pub value: CellValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<CellFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A cell's user-entered value (Google's `ExtendedValue`, plus empty).
///
/// Serialised as Google's `ExtendedValue` object (`{"numberValue": 1.5}`), `null` when empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum CellValue {
    #[default]
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    /// A formula as typed, with what it shows ([`crate::formula`]: the
    /// emulator computes formulas over constants only).
    Formula(Formula),
}

/// `userEnteredFormat`: the number format is modelled, every other format field
/// (colours, alignment, ...) is kept as sent and returned unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellFormat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_format: Option<NumberFormat>,
    #[serde(flatten)]
    pub other: Map<String, Json>,
}

/// Google's `NumberFormat`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberFormat {
    #[serde(rename = "type")]
    pub kind: NumberFormatType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NumberFormatType {
    NumberFormatTypeUnspecified,
    Text,
    Number,
    Percent,
    Currency,
    Date,
    Time,
    DateTime,
    Scientific,
}

impl NumberFormat {
    pub fn new(kind: NumberFormatType, pattern: &str) -> Self {
        NumberFormat {
            kind,
            pattern: Some(pattern.to_string()),
        }
    }
}

impl Cell {
    pub fn number(n: f64) -> Self {
        CellValue::Number(n).into()
    }

    pub fn text(s: impl Into<String>) -> Self {
        CellValue::Text(s.into()).into()
    }

    pub fn bool(b: bool) -> Self {
        CellValue::Bool(b).into()
    }

    /// A formula cell that shows `result` (`effectiveValue`), which the
    /// emulator does not compute itself (references, functions).
    pub fn formula(text: impl Into<String>, result: CellValue) -> Self {
        CellValue::Formula(Formula::showing(text, result)).into()
    }

    /// What the cell shows: its value, or what its formula computes
    /// (`None`: the formula shows `#ERROR!`).
    pub fn shown(&self) -> Option<&CellValue> {
        match &self.value {
            CellValue::Formula(f) => f.result.as_deref(),
            value => Some(value),
        }
    }

    /// A date as a serial number (days since 1899-12-30) with a `DATE` format.
    pub fn date(serial: f64, pattern: &str) -> Self {
        Cell::number(serial).with_number_format(NumberFormat::new(NumberFormatType::Date, pattern))
    }

    /// A timestamp as a serial number with a `DATE_TIME` format.
    pub fn date_time(serial: f64, pattern: &str) -> Self {
        Cell::number(serial)
            .with_number_format(NumberFormat::new(NumberFormatType::DateTime, pattern))
    }

    pub fn with_number_format(mut self, number_format: NumberFormat) -> Self {
        self.format
            .get_or_insert_with(CellFormat::default)
            .number_format = Some(number_format);
        self
    }

    pub fn number_format(&self) -> Option<&NumberFormat> {
        self.format.as_ref().and_then(|f| f.number_format.as_ref())
    }

    /// True when the cell holds nothing at all (no value, format or note).
    pub fn is_blank(&self) -> bool {
        self.value == CellValue::Empty && self.format.is_none() && self.note.is_none()
    }

    /// The text the sheet shows (`formattedValue`); `None` for an empty cell.
    pub fn formatted(&self) -> Option<String> {
        match self.shown() {
            None => Some(ERROR_TEXT.to_string()),
            Some(CellValue::Empty) => None,
            Some(CellValue::Number(n)) => Some(format::number(*n, self.number_format())),
            Some(CellValue::Text(s)) => Some(s.clone()),
            Some(CellValue::Bool(b)) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
            Some(CellValue::Formula(f)) => Some(f.text.clone()),
        }
    }

    /// The `effectiveValue` as an `ExtendedValue` object (`null` when the
    /// cell shows nothing).
    pub fn effective_json(&self) -> Json {
        match self.shown() {
            None => json!({"errorValue": {
                "type": "ERROR",
                "message": "The Sheets API emulator computes formulas over constants only."
            }}),
            Some(value) => value.to_extended(),
        }
    }

    /// The value as `values.get` renders it with `UNFORMATTED_VALUE` (empty -> "").
    pub fn unformatted_json(&self, dates_as_serial: bool) -> Json {
        let Some(shown) = self.shown() else {
            return json!(ERROR_TEXT);
        };
        match shown {
            CellValue::Empty => json!(""),
            CellValue::Number(n) => {
                let is_date = self.number_format().is_some_and(|f| {
                    matches!(
                        f.kind,
                        NumberFormatType::Date
                            | NumberFormatType::DateTime
                            | NumberFormatType::Time
                    )
                });
                if is_date && !dates_as_serial {
                    json!(format::number(*n, self.number_format()))
                } else {
                    number_json(*n)
                }
            }
            CellValue::Text(s) => json!(s),
            CellValue::Bool(b) => json!(b),
            CellValue::Formula(f) => json!(f.text),
        }
    }

    /// The value as `values.get` renders it with `FORMATTED_VALUE`.
    pub fn formatted_json(&self) -> Json {
        json!(self.formatted().unwrap_or_default())
    }
}

impl From<CellValue> for Cell {
    fn from(value: CellValue) -> Self {
        Cell {
            value,
            format: None,
            note: None,
        }
    }
}

/// What a formula the emulator cannot compute shows.
const ERROR_TEXT: &str = "#ERROR!";

/// A JSON number, integral when the value is (so `42.0` renders as `42`, as Google does).
pub fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

impl CellValue {
    /// Google's `ExtendedValue` object; `null` for empty.
    pub fn to_extended(&self) -> Json {
        match self {
            CellValue::Empty => Json::Null,
            CellValue::Number(n) => json!({"numberValue": number_json(*n)}),
            CellValue::Text(s) => json!({"stringValue": s}),
            CellValue::Bool(b) => json!({"boolValue": b}),
            CellValue::Formula(f) => json!({"formulaValue": f.text}),
        }
    }

    /// Reads an `ExtendedValue` object (exactly one member) or `null`.
    pub fn from_extended(value: &Json) -> Result<CellValue, String> {
        let Some(object) = value.as_object() else {
            return if value.is_null() {
                Ok(CellValue::Empty)
            } else {
                Err(format!("ExtendedValue must be an object, got {value}"))
            };
        };
        if object.len() > 1 {
            return Err("ExtendedValue may set only one of numberValue, stringValue, boolValue, formulaValue".into());
        }
        let Some((name, member)) = object.iter().next() else {
            return Ok(CellValue::Empty);
        };
        let kind_error = || format!("Invalid value at '{name}': {member}");
        match name.as_str() {
            "numberValue" => member
                .as_f64()
                .map(CellValue::Number)
                .ok_or_else(kind_error),
            // An empty string leaves the cell empty, as in Sheets.
            "stringValue" => member
                .as_str()
                .map(|s| {
                    if s.is_empty() {
                        CellValue::Empty
                    } else {
                        CellValue::Text(s.to_string())
                    }
                })
                .ok_or_else(kind_error),
            "boolValue" => member.as_bool().map(CellValue::Bool).ok_or_else(kind_error),
            "formulaValue" => member
                .as_str()
                .map(|s| CellValue::Formula(Formula::new(s)))
                .ok_or_else(kind_error),
            "errorValue" => Err("errorValue cannot be written".into()),
            other => Err(format!(
                "Unknown name \"{other}\" at 'ExtendedValue': Cannot find field."
            )),
        }
    }
}

impl Serialize for CellValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_extended().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CellValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Json::deserialize(deserializer)?;
        CellValue::from_extended(&value).map_err(serde::de::Error::custom)
    }
}

/// How `values.update` and friends interpret incoming values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputOption {
    Raw,
    UserEntered,
}

/// What a `ValueRange` value does to a cell: `null` leaves it alone (Google skips
/// nulls), anything else sets its value and possibly a detected number format.
pub enum ValueWrite {
    Skip,
    Set(CellValue, Option<NumberFormat>),
}

/// Converts one JSON value of a `ValueRange` as Google does for the input option.
pub fn value_write(value: &Json, option: InputOption) -> Result<ValueWrite, String> {
    Ok(match value {
        Json::Null => ValueWrite::Skip,
        Json::Bool(b) => ValueWrite::Set(CellValue::Bool(*b), None),
        Json::Number(n) => ValueWrite::Set(
            CellValue::Number(n.as_f64().ok_or_else(|| format!("Invalid number {n}"))?),
            None,
        ),
        Json::String(s) => match option {
            InputOption::Raw if s.is_empty() => ValueWrite::Set(CellValue::Empty, None),
            InputOption::Raw => ValueWrite::Set(CellValue::Text(s.clone()), None),
            InputOption::UserEntered => {
                let (value, format) = parse_user_entered(s);
                ValueWrite::Set(value, format)
            }
        },
        Json::Array(_) | Json::Object(_) => {
            return Err(format!(
                "Invalid values: a cell value must be a string, number or bool, got {value}"
            ));
        }
    })
}

/// Parses text as if a user typed it into a cell (the en_US locale's rules for
/// numbers, percentages, dollar amounts, booleans, ISO and US dates, formulas).
pub fn parse_user_entered(text: &str) -> (CellValue, Option<NumberFormat>) {
    if text.is_empty() {
        return (CellValue::Empty, None);
    }
    if let Some(rest) = text.strip_prefix('\'') {
        return (CellValue::Text(rest.to_string()), None);
    }
    if text.starts_with('=') && text.len() > 1 {
        return (CellValue::Formula(Formula::new(text)), None);
    }
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        return (CellValue::Bool(true), None);
    }
    if trimmed.eq_ignore_ascii_case("false") {
        return (CellValue::Bool(false), None);
    }
    if let Some(n) = parse_plain_number(trimmed) {
        return (CellValue::Number(n), None);
    }
    if let Some(digits) = trimmed.strip_suffix('%')
        && let Some(n) = parse_plain_number(digits.trim_end())
    {
        let pattern = if digits.contains('.') { "0.00%" } else { "0%" };
        return (
            CellValue::Number(n / 100.0),
            Some(NumberFormat::new(NumberFormatType::Percent, pattern)),
        );
    }
    if let Some((negative, amount)) = dollar_amount(trimmed)
        && let Some(n) = parse_plain_number(amount)
    {
        let pattern = if amount.contains('.') {
            "\"$\"#,##0.00"
        } else {
            "\"$\"#,##0"
        };
        return (
            CellValue::Number(if negative { -n } else { n }),
            Some(NumberFormat::new(NumberFormatType::Currency, pattern)),
        );
    }
    if let Some((serial, format)) = format::parse_date_text(trimmed) {
        return (CellValue::Number(serial), Some(format));
    }
    (CellValue::Text(text.to_string()), None)
}

fn dollar_amount(text: &str) -> Option<(bool, &str)> {
    if let Some(rest) = text.strip_prefix("-$") {
        return Some((true, rest));
    }
    text.strip_prefix('$').map(|rest| (false, rest))
}

/// `-1,234.5e3`-style numbers; thousands separators only in groups of three.
fn parse_plain_number(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let first = body.chars().next()?;
    if !(first.is_ascii_digit() || first == '.') {
        return None;
    }
    let cleaned: String = if body.contains(',') {
        let integer_part = body.split(['.', 'e', 'E']).next().unwrap_or("");
        let groups: Vec<&str> = integer_part.split(',').collect();
        let well_grouped = groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3);
        if !well_grouped {
            return None;
        }
        text.replace(',', "")
    } else {
        text.to_string()
    };
    if cleaned
        .chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_entered_text_becomes_typed_values() {
        assert_eq!(parse_user_entered("42").0, CellValue::Number(42.0));
        assert_eq!(parse_user_entered("-1,234.5").0, CellValue::Number(-1234.5));
        assert_eq!(parse_user_entered("1,23").0, CellValue::Text("1,23".into()));
        assert_eq!(parse_user_entered("TRUE").0, CellValue::Bool(true));
        assert_eq!(parse_user_entered("'42").0, CellValue::Text("42".into()));
        assert_eq!(parse_user_entered("abc").0, CellValue::Text("abc".into()));
        assert_eq!(parse_user_entered("1e3").0, CellValue::Number(1000.0));
        assert_eq!(parse_user_entered("inf").0, CellValue::Text("inf".into()));
        assert_eq!(
            parse_user_entered("=A1").0,
            CellValue::Formula(Formula::new("=A1"))
        );
        let (value, format) = parse_user_entered("12.5%");
        assert_eq!(value, CellValue::Number(0.125));
        assert_eq!(
            format,
            Some(NumberFormat::new(NumberFormatType::Percent, "0.00%"))
        );
        let (value, format) = parse_user_entered("2024-01-05");
        assert_eq!(value, CellValue::Number(45296.0));
        assert_eq!(
            format,
            Some(NumberFormat::new(NumberFormatType::Date, "yyyy-mm-dd"))
        );
    }

    #[test]
    fn raw_strings_stay_strings_and_null_skips() {
        assert!(matches!(
            value_write(&json!("42"), InputOption::Raw),
            Ok(ValueWrite::Set(CellValue::Text(ref s), None)) if s == "42"
        ));
        assert!(matches!(
            value_write(&Json::Null, InputOption::Raw),
            Ok(ValueWrite::Skip)
        ));
        assert!(matches!(
            value_write(&json!(""), InputOption::UserEntered),
            Ok(ValueWrite::Set(CellValue::Empty, None))
        ));
        assert!(value_write(&json!([1]), InputOption::Raw).is_err());
    }

    #[test]
    fn extended_values_round_trip() {
        for value in [
            CellValue::Number(1.5),
            CellValue::Text("x".into()),
            CellValue::Bool(false),
            CellValue::Formula(Formula::new("=1")),
            CellValue::Formula(Formula::new("=A1")),
            CellValue::Empty,
        ] {
            assert_eq!(CellValue::from_extended(&value.to_extended()), Ok(value));
        }
        assert!(CellValue::from_extended(&json!({"numberValue": 1, "boolValue": true})).is_err());
        assert_eq!(
            CellValue::from_extended(&json!({"stringValue": ""})),
            Ok(CellValue::Empty)
        );
    }

    #[test]
    fn dates_render_as_serials_or_text() {
        let cell = Cell::date(45296.0, "yyyy-mm-dd");
        assert_eq!(cell.unformatted_json(true), json!(45296));
        assert_eq!(cell.unformatted_json(false), json!("2024-01-05"));
        assert_eq!(cell.formatted(), Some("2024-01-05".into()));
    }
}
