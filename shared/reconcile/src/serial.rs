//! Google Sheets serial numbers: days since 1899-12-30, the time of day as
//! the fraction. Dates travel to the sheet this way so no locale can misread
//! them.
//!
//! A serial is an `f64`; for dates before about 2079 its resolution is finer
//! than half a microsecond, so a timestamp written as a serial reads back to
//! the same microsecond.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1899, 12, 30) {
    Some(date) => date,
    None => panic!("1899-12-30 is a date"),
};

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// Serials beyond ±3,000,000 days (about year 10113 / BC 6314) are not
/// dates anyone means; refusing them keeps the arithmetic far from overflow.
const MAX_SERIAL: f64 = 3_000_000.0;

pub fn from_date(date: NaiveDate) -> f64 {
    (date - EPOCH).num_days() as f64
}

pub fn from_datetime(value: NaiveDateTime) -> f64 {
    let days = from_date(value.date());
    let micros = (value.time() - NaiveTime::MIN)
        .num_microseconds()
        .unwrap_or(0);
    days + micros as f64 / MICROS_PER_DAY
}

/// The day a serial falls on (its time of day dropped, as PostgreSQL's cast
/// from timestamp to date does).
pub fn to_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || serial.abs() > MAX_SERIAL {
        return None;
    }
    EPOCH.checked_add_signed(Duration::days(serial.floor() as i64))
}

/// The date-time of a serial, to the nearest microsecond.
pub fn to_datetime(serial: f64) -> Option<NaiveDateTime> {
    let date = to_date(serial)?;
    // Exact: a float minus its floor loses no bits.
    let fraction = serial - serial.floor();
    let micros = (fraction * MICROS_PER_DAY).round() as i64;
    date.and_time(NaiveTime::MIN)
        .checked_add_signed(Duration::microseconds(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_serials() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(from_date(day(1899, 12, 30)), 0.0);
        assert_eq!(from_date(day(1900, 1, 1)), 2.0);
        assert_eq!(from_date(day(2026, 12, 1)), 46357.0);
        assert_eq!(to_date(46357.75), Some(day(2026, 12, 1)));
        assert_eq!(to_date(-1.5), Some(day(1899, 12, 28)));
        let noon = day(2026, 12, 1).and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(from_datetime(noon), 46357.5);
        assert_eq!(to_datetime(46357.5), Some(noon));
        assert_eq!(to_date(f64::NAN), None);
        assert_eq!(to_date(1e12), None);
    }

    #[test]
    fn microseconds_survive_the_round_trip() {
        let start = NaiveDate::from_ymd_opt(1950, 1, 1)
            .unwrap()
            .and_time(NaiveTime::MIN);
        // A walk over 120 years in steps that hit every microsecond digit.
        let step = Duration::microseconds(86_400_000_000 * 3 + 1_234_567);
        let mut value = start;
        for _ in 0..15_000 {
            assert_eq!(to_datetime(from_datetime(value)), Some(value), "{value}");
            value += step;
        }
    }
}
