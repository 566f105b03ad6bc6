//! What the Apps Script sends for a cell, modelled in Rust: the cell as
//! Sheets hands it to the script (`Range.getValues`: a `Date` to the
//! millisecond for a date or date-time cell, read in the spreadsheet's
//! zone) and as `values.js` turns it into the contract's JSON.
//!
//! Property tests and end-to-end tests use this model where they cannot
//! run the script; the shared fixtures in `tests/fixtures/roundtrip/` hold
//! its answers, and the script's own tests (`apps-script/test`) check the
//! real script gives the same ones, so the model cannot drift from it.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use serde_json::Value as Json;

use crate::model::SheetCell;
use crate::serial;
use crate::zone::SheetZone;

/// The JSON the script sends for `cell` in a spreadsheet in `zone`; `None`
/// for a date serial no `Date` can hold.
pub fn script_reading(cell: &SheetCell, zone: SheetZone) -> Option<Json> {
    Some(match cell {
        SheetCell::Empty => Json::String(String::new()),
        SheetCell::Bool(b) => Json::Bool(*b),
        SheetCell::Text(s) => Json::String(s.clone()),
        SheetCell::Number(n) => Json::Number(serde_json::Number::from_f64(*n)?),
        SheetCell::Date(s) => {
            // Local midnight; the script formats it back in the same zone.
            let day = serial::to_date(*s)?;
            let shown = zone.wall_clock(zone.instant(day.and_time(NaiveTime::MIN)));
            Json::String(crate::convert::time::format_date(shown.date()))
        }
        SheetCell::DateTime(s) => Json::String(iso_date_time(date_of(*s, zone)?, zone)),
    })
}

/// The script's `Date` for a date-time serial: its wall clock read in
/// `zone` (see [`SheetZone::instant`]), rounded to the millisecond.
pub fn date_of(serial_number: f64, zone: SheetZone) -> Option<DateTime<Utc>> {
    let wall = serial::to_datetime(serial_number)?;
    let micros = i64::from(wall.nanosecond() / 1000);
    // Half a millisecond rounds up, as JavaScript's Math.round does.
    let millis = (micros + 500) / 1000;
    let wall = wall.with_nanosecond(0)? + Duration::milliseconds(millis);
    Some(zone.instant(wall))
}

/// `isoDateTime_`: the wall clock in `zone` to the millisecond, with the
/// zone's offset then as `+01:00` (whole minutes, as `Utilities.formatDate`'s
/// `Z` gives it).
pub fn iso_date_time(instant: DateTime<Utc>, zone: SheetZone) -> String {
    let wall = zone.wall_clock(instant);
    let offset = (wall - instant.naive_utc()).num_minutes();
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    format!(
        "{}{sign}{:02}:{:02}",
        wall.format("%Y-%m-%dT%H:%M:%S%.3f"),
        abs / 60,
        abs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_cells_as_the_script_does() {
        let berlin: SheetZone = "Europe/Berlin".parse().unwrap();
        // 2026-01-01 01:01:07.123456 Berlin: the script has milliseconds.
        let cell = SheetCell::DateTime(46023.0 + 3_667_123_456.0 / 86_400_000_000.0);
        assert_eq!(
            script_reading(&cell, berlin),
            Some(json!("2026-01-01T01:01:07.123+01:00"))
        );
        let kolkata: SheetZone = "Asia/Kolkata".parse().unwrap();
        assert_eq!(
            script_reading(&SheetCell::DateTime(46023.5), kolkata),
            Some(json!("2026-01-01T12:00:00.000+05:30"))
        );
        assert_eq!(
            script_reading(&SheetCell::Date(46357.0), berlin),
            Some(json!("2026-12-01"))
        );
        assert_eq!(script_reading(&SheetCell::Empty, berlin), Some(json!("")));
        let la: SheetZone = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            script_reading(&SheetCell::DateTime(46023.5), la),
            Some(json!("2026-01-01T12:00:00.000-08:00"))
        );
    }
}
