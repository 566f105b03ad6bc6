//! `formattedValue`: numbers, dates and times rendered through Google's number
//! format patterns (the subset a sync tool meets: date/time tokens, `0`/`#`
//! digit placeholders, thousands separators, percent, literal text).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

use crate::cell::{NumberFormat, NumberFormatType};

/// Google's en_US defaults when a format has a type but no pattern.
const DEFAULT_DATE: &str = "M/d/yyyy";
const DEFAULT_DATE_TIME: &str = "M/d/yyyy H:mm:ss";
const DEFAULT_TIME: &str = "h:mm:ss am/pm";

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// Serial number (days since 1899-12-30, fraction = time of day) to a date-time,
/// rounded to the millisecond.
pub fn serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !serial.is_finite() || serial.abs() > 3_000_000.0 {
        return None;
    }
    let millis = (serial * 86_400_000.0).round() as i64;
    epoch().checked_add_signed(Duration::milliseconds(millis))
}

pub fn datetime_to_serial(datetime: NaiveDateTime) -> f64 {
    let span = datetime - epoch();
    span.num_milliseconds() as f64 / 86_400_000.0
}

/// Renders a number with its format (or Sheets' automatic format when none).
pub fn number(n: f64, format: Option<&NumberFormat>) -> String {
    let Some(format) = format else {
        return general(n);
    };
    let pattern = format.pattern.as_deref().filter(|p| !p.is_empty());
    match format.kind {
        NumberFormatType::Date | NumberFormatType::DateTime | NumberFormatType::Time => {
            let default = match format.kind {
                NumberFormatType::Date => DEFAULT_DATE,
                NumberFormatType::Time => DEFAULT_TIME,
                _ => DEFAULT_DATE_TIME,
            };
            match serial_to_datetime(n) {
                Some(datetime) => date_pattern(datetime, pattern.unwrap_or(default)),
                None => general(n),
            }
        }
        NumberFormatType::Percent => numeric_pattern(n, pattern.unwrap_or("0.00%")),
        NumberFormatType::Currency => numeric_pattern(n, pattern.unwrap_or("\"$\"#,##0.00")),
        NumberFormatType::Scientific => scientific(n, 2),
        NumberFormatType::Number => match pattern {
            Some(p) => numeric_pattern(n, p),
            None => numeric_pattern(n, "#,##0.00"),
        },
        NumberFormatType::Text | NumberFormatType::NumberFormatTypeUnspecified => general(n),
    }
}

/// Sheets' automatic format: integers plainly, other numbers to 15 significant digits.
fn general(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    if n.abs() >= 1e15 || n.abs() < 1e-9 {
        return scientific(n, 2);
    }
    if n.fract() == 0.0 {
        return format!("{}", n as i64);
    }
    let magnitude = n.abs().log10().floor() as i32;
    let decimals = (14 - magnitude).clamp(0, 20) as usize;
    trim_zeros(format!("{n:.decimals$}"))
}

fn trim_zeros(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn scientific(n: f64, decimals: usize) -> String {
    let text = format!("{n:.decimals$E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) => {
            let exponent: i32 = exponent.parse().unwrap_or(0);
            let sign = if exponent < 0 { '-' } else { '+' };
            format!("{mantissa}E{sign}{:02}", exponent.abs())
        }
        None => text,
    }
}

/// One section of a numeric pattern such as `#,##0.00`, `0%`, `"$"#,##0.00;("$"#,##0.00)`.
fn numeric_pattern(n: f64, pattern: &str) -> String {
    let sections: Vec<&str> = split_sections(pattern);
    let (section, value, sign) = match sections.as_slice() {
        [positive, negative, ..] if n < 0.0 => (*negative, -n, ""),
        [first, ..] => (*first, n.abs(), if n < 0.0 { "-" } else { "" }),
        [] => return general(n),
    };
    let tokens = literal_split(section);
    let core: String = tokens
        .iter()
        .filter(|t| !t.literal)
        .map(|t| t.text.as_str())
        .collect();
    let value = if core.contains('%') {
        value * 100.0
    } else {
        value
    };
    let digits_part: String = core.chars().filter(|c| "0#,.?".contains(*c)).collect();
    let (integer_spec, decimal_spec) = match digits_part.split_once('.') {
        Some((i, d)) => (i.to_string(), d.replace(',', "")),
        None => (digits_part.clone(), String::new()),
    };
    let required_decimals = decimal_spec.chars().filter(|c| *c == '0').count();
    let max_decimals = decimal_spec
        .chars()
        .filter(|c| *c == '0' || *c == '#')
        .count();
    let min_integer = integer_spec.chars().filter(|c| *c == '0').count();
    let grouped = integer_spec.contains(',');
    // Sheets rounds half away from zero; `format!` alone rounds half to even.
    let scale = 10f64.powi(max_decimals as i32);
    let rounded = format!("{:.max_decimals$}", (value * scale).round() / scale);
    let (integer, mut fraction) = match rounded.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (rounded, String::new()),
    };
    while fraction.len() > required_decimals && fraction.ends_with('0') {
        fraction.pop();
    }
    let mut integer = integer.trim_start_matches('0').to_string();
    while integer.len() < min_integer {
        integer.insert(0, '0');
    }
    if grouped {
        integer = group_thousands(&integer);
    }
    let mut number = integer;
    if !fraction.is_empty() {
        number.push('.');
        number.push_str(&fraction);
    }
    let mut out = String::from(sign);
    let mut placed = false;
    for token in &tokens {
        if token.literal {
            out.push_str(&token.text);
            continue;
        }
        for c in token.text.chars() {
            if "0#,.?".contains(c) {
                if !placed {
                    out.push_str(&number);
                    placed = true;
                }
            } else {
                out.push(c);
            }
        }
    }
    if !placed {
        out.push_str(&number);
    }
    out
}

fn split_sections(pattern: &str) -> Vec<&str> {
    let mut sections = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in pattern.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                sections.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    sections.push(&pattern[start..]);
    sections
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Token {
    text: String,
    literal: bool,
}

/// Splits a pattern into quoted/escaped literals and format code.
fn literal_split(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut code = String::new();
    let mut chars = pattern.chars().peekable();
    let flush = |code: &mut String, tokens: &mut Vec<Token>| {
        if !code.is_empty() {
            tokens.push(Token {
                text: std::mem::take(code),
                literal: false,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                flush(&mut code, &mut tokens);
                let text: String = chars.by_ref().take_while(|c| *c != '"').collect();
                tokens.push(Token {
                    text,
                    literal: true,
                });
            }
            '\\' => {
                flush(&mut code, &mut tokens);
                if let Some(escaped) = chars.next() {
                    tokens.push(Token {
                        text: escaped.to_string(),
                        literal: true,
                    });
                }
            }
            _ => code.push(c),
        }
    }
    flush(&mut code, &mut tokens);
    tokens
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Year(usize),
    MonthOrMinute(usize),
    Day(usize),
    Hour(usize),
    Second(usize),
    Fraction(usize),
    AmPm(bool),
}

/// Renders a date-time with a Sheets date pattern (`yyyy-mm-dd hh:mm:ss`, `M/d/yyyy`, `mmm d`, `h:mm am/pm`).
fn date_pattern(datetime: NaiveDateTime, pattern: &str) -> String {
    enum Item {
        Lit(String),
        Part(Part),
    }
    let mut items = Vec::new();
    for token in literal_split(pattern) {
        if token.literal {
            items.push(Item::Lit(token.text));
            continue;
        }
        let chars: Vec<char> = token.text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let lower: String = chars[i..].iter().collect::<String>().to_lowercase();
            if lower.starts_with("am/pm") {
                items.push(Item::Part(Part::AmPm(true)));
                i += 5;
                continue;
            }
            if lower.starts_with("a/p") {
                items.push(Item::Part(Part::AmPm(false)));
                i += 3;
                continue;
            }
            let run = chars[i..]
                .iter()
                .take_while(|x| x.eq_ignore_ascii_case(&c))
                .count();
            let part = match c.to_ascii_lowercase() {
                'y' => Some(Part::Year(run)),
                'm' => Some(Part::MonthOrMinute(run)),
                'd' => Some(Part::Day(run)),
                'h' => Some(Part::Hour(run)),
                's' => Some(Part::Second(run)),
                '.' => {
                    let zeros = chars[i + 1..].iter().take_while(|x| **x == '0').count();
                    if zeros > 0 && matches!(items.last(), Some(Item::Part(Part::Second(_)))) {
                        items.push(Item::Part(Part::Fraction(zeros)));
                        i += 1 + zeros;
                        continue;
                    }
                    None
                }
                _ => None,
            };
            match part {
                Some(part) => {
                    items.push(Item::Part(part));
                    i += run;
                }
                None => {
                    items.push(Item::Lit(c.to_string()));
                    i += 1;
                }
            }
        }
    }
    let twelve_hour = items.iter().any(|i| matches!(i, Item::Part(Part::AmPm(_))));
    let parts: Vec<Option<Part>> = items
        .iter()
        .map(|i| match i {
            Item::Part(p) => Some(*p),
            Item::Lit(_) => None,
        })
        .collect();
    let mut out = String::new();
    for (index, item) in items.iter().enumerate() {
        let part = match item {
            Item::Lit(text) => {
                out.push_str(text);
                continue;
            }
            Item::Part(part) => *part,
        };
        match part {
            Part::Year(n) if n <= 2 => out.push_str(&format!("{:02}", datetime.year() % 100)),
            Part::Year(_) => out.push_str(&format!("{:04}", datetime.year())),
            Part::MonthOrMinute(n) if n <= 2 && is_minute(&parts, index) => {
                push_number(&mut out, datetime.minute(), n)
            }
            Part::MonthOrMinute(n) => match n {
                1 | 2 => push_number(&mut out, datetime.month(), n),
                3 => out.push_str(&MONTHS[datetime.month0() as usize][..3]),
                4 => out.push_str(MONTHS[datetime.month0() as usize]),
                _ => out.push_str(&MONTHS[datetime.month0() as usize][..1]),
            },
            Part::Day(n) => match n {
                1 | 2 => push_number(&mut out, datetime.day(), n),
                3 => out.push_str(&DAYS[datetime.weekday().num_days_from_monday() as usize][..3]),
                _ => out.push_str(DAYS[datetime.weekday().num_days_from_monday() as usize]),
            },
            Part::Hour(n) => {
                let hour = if twelve_hour {
                    match datetime.hour() % 12 {
                        0 => 12,
                        h => h,
                    }
                } else {
                    datetime.hour()
                };
                push_number(&mut out, hour, n)
            }
            Part::Second(n) => push_number(&mut out, datetime.second(), n),
            Part::Fraction(n) => {
                let millis = datetime.nanosecond() / 1_000_000;
                let text = format!("{millis:03}");
                out.push('.');
                out.push_str(&text[..n.min(3)]);
            }
            Part::AmPm(full) => {
                let pm = datetime.hour() >= 12;
                out.push_str(match (full, pm) {
                    (true, false) => "AM",
                    (true, true) => "PM",
                    (false, false) => "A",
                    (false, true) => "P",
                });
            }
        }
    }
    out
}

/// `m`/`mm` mean minutes right after an hour or right before a second, as in Sheets.
fn is_minute(parts: &[Option<Part>], index: usize) -> bool {
    let before = parts[..index].iter().rev().flatten().next();
    let after = parts[index + 1..].iter().flatten().next();
    matches!(before, Some(Part::Hour(_))) || matches!(after, Some(Part::Second(_)))
}

fn push_number(out: &mut String, value: u32, width: usize) {
    if width >= 2 {
        out.push_str(&format!("{value:02}"));
    } else {
        out.push_str(&value.to_string());
    }
}

/// Dates a user may type: `2024-01-05`, `2024-01-05 13:45[:10]`, `1/5/2024`, `1/5/2024 13:45[:10]`.
pub fn parse_date_text(text: &str) -> Option<(f64, NumberFormat)> {
    let (date_text, time_text) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (text, None),
    };
    let (date, iso) = if let Ok(d) = NaiveDate::parse_from_str(date_text, "%Y-%m-%d") {
        (d, true)
    } else if date_text.matches('/').count() == 2 {
        (
            NaiveDate::parse_from_str(date_text, "%m/%d/%Y").ok()?,
            false,
        )
    } else {
        return None;
    };
    if date.year() < 1000 {
        return None;
    }
    let (time, with_seconds) = match time_text {
        None => (None, false),
        Some(t) => match chrono::NaiveTime::parse_from_str(t, "%H:%M:%S") {
            Ok(time) => (Some(time), true),
            Err(_) => (
                Some(chrono::NaiveTime::parse_from_str(t, "%H:%M").ok()?),
                false,
            ),
        },
    };
    let serial = datetime_to_serial(date.and_time(time.unwrap_or_default()));
    let pattern = match (iso, time.is_some(), with_seconds) {
        (true, false, _) => NumberFormat::new(NumberFormatType::Date, "yyyy-mm-dd"),
        (false, false, _) => NumberFormat::new(NumberFormatType::Date, "M/d/yyyy"),
        (true, true, true) => NumberFormat::new(NumberFormatType::DateTime, "yyyy-mm-dd H:mm:ss"),
        (true, true, false) => NumberFormat::new(NumberFormatType::DateTime, "yyyy-mm-dd H:mm"),
        (false, true, true) => NumberFormat::new(NumberFormatType::DateTime, "M/d/yyyy H:mm:ss"),
        (false, true, false) => NumberFormat::new(NumberFormatType::DateTime, "M/d/yyyy H:mm"),
    };
    Some((serial, pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(kind: NumberFormatType, pattern: &str, n: f64) -> String {
        number(n, Some(&NumberFormat::new(kind, pattern)))
    }

    #[test]
    fn dates_from_serial_numbers() {
        assert_eq!(
            fmt(NumberFormatType::Date, "yyyy-mm-dd", 45296.0),
            "2024-01-05"
        );
        assert_eq!(fmt(NumberFormatType::Date, "M/d/yyyy", 45296.0), "1/5/2024");
        assert_eq!(
            fmt(NumberFormatType::Date, "dddd, mmmm d, yy", 45296.0),
            "Friday, January 5, 24"
        );
        assert_eq!(
            fmt(NumberFormatType::Date, "d mmm yyyy", 1.0),
            "31 Dec 1899"
        );
        assert_eq!(
            fmt(NumberFormatType::DateTime, "yyyy-mm-dd hh:mm:ss", 45296.75),
            "2024-01-05 18:00:00"
        );
        assert_eq!(
            fmt(
                NumberFormatType::DateTime,
                "yyyy-mm-dd\"T\"hh:mm:ss.000",
                45296.5 + 1.5 / 86400.0
            ),
            "2024-01-05T12:00:01.500"
        );
        assert_eq!(fmt(NumberFormatType::Time, "h:mm am/pm", 0.25), "6:00 AM");
        assert_eq!(fmt(NumberFormatType::Time, "", 0.75), "6:00:00 PM");
        assert_eq!(
            number(
                45296.0,
                Some(&NumberFormat {
                    kind: NumberFormatType::Date,
                    pattern: None
                })
            ),
            "1/5/2024"
        );
    }

    #[test]
    fn numbers_with_patterns() {
        assert_eq!(
            fmt(NumberFormatType::Number, "#,##0.00", 1234567.891),
            "1,234,567.89"
        );
        assert_eq!(fmt(NumberFormatType::Number, "0", 2.5), "3");
        assert_eq!(fmt(NumberFormatType::Number, "0.0#", 2.5), "2.5");
        assert_eq!(fmt(NumberFormatType::Number, "#,##0.00", -3.0), "-3.00");
        assert_eq!(fmt(NumberFormatType::Percent, "0.0%", 0.125), "12.5%");
        assert_eq!(
            fmt(NumberFormatType::Currency, "\"$\"#,##0.00", 1234.5),
            "$1,234.50"
        );
        assert_eq!(
            fmt(NumberFormatType::Currency, "\"$\"#,##0;(\"$\"#,##0)", -12.0),
            "($12)"
        );
        assert_eq!(fmt(NumberFormatType::Number, "0.00", 0.004), "0.00");
    }

    #[test]
    fn automatic_format() {
        assert_eq!(number(42.0, None), "42");
        assert_eq!(number(0.1 + 0.2, None), "0.3");
        assert_eq!(number(-1.5, None), "-1.5");
        assert_eq!(number(1e20, None), "1.00E+20");
    }

    #[test]
    fn typed_dates_parse_to_serials() {
        assert_eq!(parse_date_text("1899-12-31").map(|d| d.0), Some(1.0));
        let (serial, format) = parse_date_text("2024-01-05 18:00:00").unwrap();
        assert_eq!(serial, 45296.75);
        assert_eq!(format.kind, NumberFormatType::DateTime);
        assert_eq!(parse_date_text("1/5/2024").map(|d| d.0), Some(45296.0));
        assert_eq!(parse_date_text("2024-13-05"), None);
        assert_eq!(parse_date_text("hello"), None);
    }

    #[test]
    fn serial_round_trip() {
        let dt = serial_to_datetime(45296.75).unwrap();
        assert_eq!(datetime_to_serial(dt), 45296.75);
        assert_eq!(serial_to_datetime(f64::NAN), None);
    }
}
