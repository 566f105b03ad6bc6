//! ISO 8601 dates and date-times as the script sends them and PostgreSQL's
//! `to_jsonb` renders them, and back.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// A parsed ISO 8601 date or date-time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iso {
    /// As written (the wall-clock time, before any offset is applied).
    pub local: NaiveDateTime,
    /// Seconds east of UTC, when the text had an offset (`Z` is 0).
    pub offset: Option<i32>,
    /// The text was a date alone.
    pub date_only: bool,
}

impl Iso {
    /// The instant, reading a time without offset as UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        let shift = Duration::seconds(i64::from(self.offset.unwrap_or(0)));
        (self.local - shift).and_utc()
    }
}

/// Parses `2026-12-01`, `2026-11-25T13:35`, `2026-11-25 13:35:00.123Z`,
/// `2026-11-25T14:10:03.232828+00:00`, `…+05:30`, `…+01`, with PostgreSQL's
/// ` BC` suffix. Fractions beyond microseconds are rounded, as PostgreSQL does.
pub fn parse(text: &str) -> Option<Iso> {
    let text = text.trim();
    let (text, bc) = match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let split = text.find(['T', 't', ' ']);
    let (date_text, time_text) = match split {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None => (text, None),
    };
    let date = parse_date(date_text, bc)?;
    let Some(time_text) = time_text else {
        return Some(Iso {
            local: date.and_time(NaiveTime::MIN),
            offset: None,
            date_only: true,
        });
    };
    let (clock, offset) = split_offset(time_text)?;
    let (time, carry) = parse_clock(clock)?;
    let local = date
        .and_time(time)
        .checked_add_signed(Duration::seconds(carry))?;
    Some(Iso {
        local,
        offset,
        date_only: false,
    })
}

fn parse_date(text: &str, bc: bool) -> Option<NaiveDate> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || year.len() < 4
        || year.len() > 6
        || !(1..=2).contains(&month.len())
        || !(1..=2).contains(&day.len())
    {
        return None;
    }
    let year: i32 = digits(year)?.try_into().ok()?;
    let year = if bc { 1 - year } else { year };
    NaiveDate::from_ymd_opt(year, digits(month)? as u32, digits(day)? as u32)
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Splits `13:35:00.123+05:30` into the clock and the offset in seconds.
fn split_offset(text: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock.trim_end(), Some(0)));
    }
    let Some(at) = text.rfind(['+', '-']) else {
        return Some((text, None));
    };
    let sign = if text.as_bytes()[at] == b'-' { -1 } else { 1 };
    let offset = &text[at + 1..];
    // Only digits and colons can form an offset; checking first also keeps
    // the slicing below on character boundaries (`+2ᗩ` is four bytes).
    if !offset.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let fields: Vec<&str> = if offset.contains(':') {
        offset.split(':').collect()
    } else if offset.len() == 4 {
        vec![&offset[..2], &offset[2..]]
    } else {
        vec![offset]
    };
    if fields.is_empty() || fields.len() > 3 || fields.iter().any(|f| f.len() != 2) {
        return None;
    }
    let mut seconds = 0i64;
    for (field, unit) in fields.iter().zip([3600, 60, 1]) {
        seconds += digits(field)? as i64 * unit;
    }
    if seconds > 16 * 3600 {
        return None;
    }
    Some((text[..at].trim_end(), Some((sign * seconds) as i32)))
}

/// `HH:MM[:SS[.fraction]]`; returns the time and a carry of whole seconds
/// (a fraction rounding up to the next second).
pub(crate) fn parse_clock(text: &str) -> Option<(NaiveTime, i64)> {
    let mut fields = text.split(':');
    let hour = fields.next()?;
    let minute = fields.next()?;
    let second = fields.next().unwrap_or("00");
    if fields.next().is_some() || hour.len() > 2 || minute.len() != 2 {
        return None;
    }
    let (whole, fraction) = match second.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (second, ""),
    };
    if whole.len() != 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Round to microseconds from at most nine significant digits.
    let mut nanos_text: String = fraction.chars().take(9).collect();
    while nanos_text.len() < 9 {
        nanos_text.push('0');
    }
    let nanos: u64 = nanos_text.parse().ok()?;
    let micros = (nanos + 500) / 1000;
    let (micros, carry) = if micros == 1_000_000 {
        (0, 1)
    } else {
        (micros, 0)
    };
    let time = NaiveTime::from_hms_micro_opt(
        digits(hour)? as u32,
        digits(minute)? as u32,
        digits(whole)? as u32,
        micros as u32,
    )?;
    Some((time, carry))
}

/// `2026-12-01`, or `0044-03-15 BC` before year 1, as PostgreSQL writes dates.
pub fn format_date(date: NaiveDate) -> String {
    let (year, bc) = match date.year() {
        y if y >= 1 => (y, ""),
        y => (1 - y, " BC"),
    };
    format!("{year:04}-{:02}-{:02}{bc}", date.month(), date.day())
}

/// `2026-11-25T14:10:03.232828`: `to_jsonb`'s form, trailing fractional
/// zeros dropped as PostgreSQL does.
pub fn format_timestamp(value: NaiveDateTime) -> String {
    format_with_offset(value, "")
}

/// `2026-11-25T14:10:03.232828+00:00`: `to_jsonb`'s form in UTC.
pub fn format_timestamptz(value: DateTime<Utc>) -> String {
    format_with_offset(value.naive_utc(), "+00:00")
}

fn format_with_offset(value: NaiveDateTime, offset: &str) -> String {
    let date = format_date(value.date());
    let (date, bc) = match date.strip_suffix(" BC") {
        Some(d) => (d.to_owned(), " BC"),
        None => (date, ""),
    };
    let micros = value.nanosecond() / 1000;
    let mut fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    while fraction.ends_with('0') {
        fraction.pop();
    }
    format!(
        "{date}T{:02}:{:02}:{:02}{fraction}{offset}{bc}",
        value.hour(),
        value.minute(),
        value.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_micro_opt(h, mi, s, us)
            .unwrap()
    }

    #[test]
    fn parses_the_forms_the_script_and_postgres_write() {
        let cases = [
            ("2026-12-01", at(2026, 12, 1, 0, 0, 0, 0), None, true),
            (
                "2026-11-25T13:35",
                at(2026, 11, 25, 13, 35, 0, 0),
                None,
                false,
            ),
            (
                "2026-11-25 13:35:00.123Z",
                at(2026, 11, 25, 13, 35, 0, 123_000),
                Some(0),
                false,
            ),
            (
                "2026-11-25T14:10:03.232828+00:00",
                at(2026, 11, 25, 14, 10, 3, 232_828),
                Some(0),
                false,
            ),
            (
                "2026-11-25T14:10:03+05:30",
                at(2026, 11, 25, 14, 10, 3, 0),
                Some(19_800),
                false,
            ),
            (
                "2026-11-25 14:10:03-08",
                at(2026, 11, 25, 14, 10, 3, 0),
                Some(-28_800),
                false,
            ),
            (
                "2026-11-25T23:59:59.9999996",
                at(2026, 11, 26, 0, 0, 0, 0),
                None,
                false,
            ),
            ("0044-03-15 BC", at(-43, 3, 15, 0, 0, 0, 0), None, true),
        ];
        for (text, local, offset, date_only) in cases {
            assert_eq!(
                parse(text),
                Some(Iso {
                    local,
                    offset,
                    date_only
                }),
                "{text}"
            );
        }
        assert_eq!(
            parse("2026-11-25T14:10:03+05:30").unwrap().utc(),
            at(2026, 11, 25, 8, 40, 3, 0).and_utc()
        );
    }

    #[test]
    fn refuses_what_is_not_iso() {
        for text in [
            "",
            "25/11/2026",
            "2026-13-01",
            "2026-02-30",
            "26-11-25",
            "2026-11-25T25:00",
            "2026-11-25T13:5",
            "2026-11-25T13:35:00+5",
            "tomorrow",
            "2026-11-25T13:35:00.x",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn formats_like_to_jsonb() {
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            "2026-12-01"
        );
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(-43, 3, 15).unwrap()),
            "0044-03-15 BC"
        );
        assert_eq!(
            format_timestamp(at(2026, 11, 25, 14, 10, 3, 232_800)),
            "2026-11-25T14:10:03.2328"
        );
        assert_eq!(
            format_timestamp(at(2026, 11, 25, 14, 10, 3, 0)),
            "2026-11-25T14:10:03"
        );
        assert_eq!(
            format_timestamptz(at(2026, 11, 25, 14, 10, 3, 232_828).and_utc()),
            "2026-11-25T14:10:03.232828+00:00"
        );
    }

    /// Found by the value_conversion fuzz target: a four-byte "offset" with
    /// a multi-byte character was sliced inside it (a panic on user input).
    #[test]
    fn an_offset_with_other_characters_is_not_a_time() {
        assert_eq!(parse("2026-11-25 13:3-2ᗩ"), None);
        assert_eq!(parse("2026-11-25 13:35+é1"), None);
        assert_eq!(parse("2026-11-25 13:35+0x:0"), None);
        assert!(parse("2026-11-25 13:35+0530").is_some());
    }
}
