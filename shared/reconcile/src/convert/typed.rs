//! Text a person typed, read as the spreadsheet's locale writes numbers,
//! dates and TRUE/FALSE (`1.234,5 €`, `12,5 %`, `(1,234.50)`, `3.12.2026`,
//! `WAHR`). Only text reaches here: Sheets has already parsed what it
//! recognised, and the script sends that typed.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::{decimal, time};
use crate::locale::{DateOrder, SheetLocale};

/// Grouping separators besides the one that is not the decimal separator:
/// spaces (`1 234,5`) and apostrophes (`1'234.5`).
const GROUP_MARKS: &[char] = &[' ', '\u{a0}', '\u{202f}', '\'', '’'];

/// Currency signs that may stand before or after a number.
const CURRENCY_SIGNS: &[char] = &[
    '$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪', '₫', '฿', '₴', '₦', '₱', '₡', '₲', '₵', '₸', '₼',
    '₾', '¢', '₿',
];

/// Currency names written as letters (`CHF 12.50`, `12,50 zł`).
const CURRENCY_WORDS: &[&str] = &["kr", "zł", "Kč", "Ft", "lei", "Rs", "Rp", "RM", "R", "Fr."];

/// The canonical decimal (see [`decimal::normalize`]) of a number a person
/// typed in `locale`: grouping separators, a currency sign or code before
/// or after it, a trailing `%` (a hundredth), a leading minus or
/// parentheses for a negative amount. `None` when it is not such a number.
pub fn number(text: &str, locale: SheetLocale) -> Option<String> {
    let mut rest = trim(text);
    let mut negative = false;
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        rest = trim(inner);
    }
    let mut take_sign = |rest: &mut &str| {
        if let Some(unsigned) = rest.strip_prefix(['-', '−']) {
            negative = !negative;
            *rest = trim(unsigned);
        } else if let Some(unsigned) = rest.strip_prefix('+') {
            *rest = trim(unsigned);
        }
    };
    take_sign(&mut rest);
    rest = strip_currency_before(rest)?;
    take_sign(&mut rest);
    let percent = rest.ends_with('%');
    rest = if percent {
        trim(&rest[..rest.len() - 1])
    } else {
        strip_currency_after(rest)?
    };
    let digits = grouped_digits(rest, locale.decimal())?;
    let sign = if negative { "-" } else { "" };
    let shift = if percent { "e-2" } else { "" };
    decimal::normalize(&format!("{sign}{digits}{shift}"))
}

/// `digits[.fraction]` from `1.234.567,89` (decimal `,`): every group
/// after the first has three digits, or two before the last for Indian
/// grouping (`1,00,000`); a number without separators is digits alone.
fn grouped_digits(text: &str, decimal_mark: char) -> Option<String> {
    let (whole, fraction) = match text.split_once(decimal_mark) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let group_mark = if decimal_mark == ',' { '.' } else { ',' };
    let groups: Vec<&str> = whole
        .split(|c| c == group_mark || GROUP_MARKS.contains(&c))
        .collect();
    let used: Vec<char> = whole
        .chars()
        .filter(|c| *c == group_mark || GROUP_MARKS.contains(c))
        .collect();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| all_digits(g)) || used.windows(2).any(|w| w[0] != w[1]) {
        return None;
    }
    if groups.len() > 1 {
        let (first, later) = groups.split_first()?;
        let (last, middle) = later.split_last()?;
        let thousands = middle.iter().all(|g| g.len() == 3) && first.len() <= 3;
        let indian = middle.iter().all(|g| g.len() == 2) && first.len() <= 2;
        if last.len() != 3 || !(thousands || indian) {
            return None;
        }
    }
    let mut out: String = groups.concat();
    if let Some(fraction) = fraction {
        if !all_digits(fraction) {
            return None;
        }
        out.push('.');
        out.push_str(fraction);
    }
    Some(out)
}

fn strip_currency_before(text: &str) -> Option<&str> {
    let at = text
        .find(|c: char| c.is_ascii_digit() || "-−+(".contains(c))
        .unwrap_or(text.len());
    currency(&text[..at]).then(|| trim(&text[at..]))
}

fn strip_currency_after(text: &str) -> Option<&str> {
    let at = text
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(0, |at| at + 1);
    currency(&text[at..]).then(|| trim(&text[..at]))
}

/// Whether `affix` is nothing, or a currency: a sign with letters around it
/// (`$`, `US$`, `R$`), an ISO code (`EUR`) or a currency word (`zł`).
fn currency(affix: &str) -> bool {
    let affix = trim(affix);
    if affix.is_empty() {
        return true;
    }
    if affix.contains(CURRENCY_SIGNS) {
        return affix
            .chars()
            .all(|c| CURRENCY_SIGNS.contains(&c) || c.is_alphabetic() || c == '.');
    }
    let iso_code = affix.len() == 3 && affix.bytes().all(|b| b.is_ascii_uppercase());
    iso_code || CURRENCY_WORDS.contains(&affix)
}

/// TRUE or FALSE in the locale's words or in English (any case), as a
/// checkbox with custom values (`yes`/`no`, `1`/`0`) writes them.
pub fn boolean(text: &str, locale: SheetLocale) -> Option<bool> {
    let word = trim(text).to_uppercase();
    let (yes, no) = locale.boolean_words().unwrap_or(("TRUE", "FALSE"));
    match word.as_str() {
        "TRUE" | "YES" | "Y" | "1" => Some(true),
        "FALSE" | "NO" | "N" | "0" => Some(false),
        w if w == yes => Some(true),
        w if w == no => Some(false),
        _ => None,
    }
}

/// A date, or a date and time, as the locale writes it: `3.12.2026`,
/// `03/12/2026 14:30`, `12/3/2026 2:30:05 PM` (en_US), `2026/12/03`. The
/// year has four digits (a two-digit year is refused, not guessed); a date
/// that starts with it is year-month-day in every locale. The bool is true
/// for a date alone.
pub fn date_time(text: &str, locale: SheetLocale) -> Option<(NaiveDateTime, bool)> {
    let order = locale.date_order()?;
    let text = trim(text);
    // The time starts after the last space or comma before its first colon.
    let (date_text, clock) = match text.find(':') {
        None => (text, None),
        Some(colon) => {
            let at = text[..colon].rfind([' ', ','])?;
            (&text[..at], Some(trim(&text[at + 1..])))
        }
    };
    let date = local_date(date_text.trim_end_matches([',', '.', ' ']), order)?;
    match clock {
        None => Some((date.and_time(NaiveTime::MIN), true)),
        Some(clock) => Some((date.and_time(clock_time(clock)?), false)),
    }
}

fn local_date(text: &str, order: DateOrder) -> Option<NaiveDate> {
    let sep = text.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<&str> = text.split(sep).map(trim).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str, max_len: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, 4)?, number(b, 2)?, number(c, 2)?)
    } else if c.len() == 4 {
        match order {
            DateOrder::DayMonthYear => (number(c, 4)?, number(b, 2)?, number(a, 2)?),
            DateOrder::MonthDayYear => (number(c, 4)?, number(a, 2)?, number(b, 2)?),
        }
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// `14:30`, `14:30:05`, `14:30:05.250`, `2:30 PM`, `2:30:05 a.m.`.
fn clock_time(text: &str) -> Option<NaiveTime> {
    let lower = text.to_ascii_lowercase().replace('.', "");
    let (clock, half) = if let Some(clock) = lower.strip_suffix("pm") {
        (trim(clock), Some(12))
    } else if let Some(clock) = lower.strip_suffix("am") {
        (trim(clock), Some(0))
    } else {
        (trim(text), None)
    };
    let clock = if half.is_some() {
        clock.to_owned()
    } else {
        clock.replace(',', ".")
    };
    let (time, carry) = time::parse_clock(&clock)?;
    if carry != 0 {
        return None;
    }
    match half {
        None => Some(time),
        Some(add) => {
            let hour = time.hour();
            if !(1..=12).contains(&hour) {
                return None;
            }
            time.with_hour(hour % 12 + add)
        }
    }
}

fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> SheetLocale {
        SheetLocale::from_tag("de_DE")
    }

    fn us() -> SheetLocale {
        SheetLocale::from_tag("en_US")
    }

    #[test]
    fn reads_numbers_as_the_locale_writes_them() {
        let cases = [
            ("1.234,5", de(), Some("1234.5")),
            ("1 234,5", SheetLocale::from_tag("fr_FR"), Some("1234.5")),
            (
                "1\u{202f}234,5",
                SheetLocale::from_tag("fr_FR"),
                Some("1234.5"),
            ),
            ("1'234.50", SheetLocale::from_tag("de_CH"), Some("1234.5")),
            ("1,234.5", us(), Some("1234.5")),
            ("1,00,000", SheetLocale::from_tag("en_IN"), Some("100000")),
            ("1.234", de(), Some("1234")),
            ("1,234", de(), Some("1.234")),
            ("42", de(), Some("42")),
            ("-0,5", de(), Some("-0.5")),
            ("−7", us(), Some("-7")),
        ];
        for (text, locale, want) in cases {
            assert_eq!(number(text, locale).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn reads_percent_and_currency() {
        let cases = [
            ("50%", us(), Some("0.5")),
            ("12,5 %", de(), Some("0.125")),
            ("-3%", us(), Some("-0.03")),
            ("$1,234.50", us(), Some("1234.5")),
            ("-$1,234.50", us(), Some("-1234.5")),
            ("$-1,234.50", us(), Some("-1234.5")),
            ("($1,234.50)", us(), Some("-1234.5")),
            ("1.234,50 €", de(), Some("1234.5")),
            ("€ 12,50", de(), Some("12.5")),
            ("US$ 9.99", us(), Some("9.99")),
            ("CHF 12.50", SheetLocale::from_tag("de_CH"), Some("12.5")),
            ("12,50 zł", SheetLocale::from_tag("pl_PL"), Some("12.5")),
            ("EUR 3", de(), Some("3")),
        ];
        for (text, locale, want) in cases {
            assert_eq!(number(text, locale).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn refuses_what_a_person_did_not_write_as_a_number() {
        for text in [
            "12 apples",
            "1,5",
            "1,23,4",
            "1.234.5",
            "12e",
            "$",
            "%",
            "1,,234",
            "1,234.5.6",
            "1 234,5",
            "(12",
            "12 34",
            "1,234 567",
            "abc",
            "",
        ] {
            assert_eq!(number(text, us()), None, "{text}");
        }
        // Not the locale's writing (the plain form, read after it, is).
        assert_eq!(number("1.5", de()), None);
        assert_eq!(number("1.234,5.6", de()), None);
    }

    #[test]
    fn reads_true_and_false_in_the_locale_and_in_english() {
        assert_eq!(boolean("wahr", de()), Some(true));
        assert_eq!(boolean("FALSCH", de()), Some(false));
        assert_eq!(boolean("true", de()), Some(true));
        assert_eq!(boolean("Yes", us()), Some(true));
        assert_eq!(boolean("0", us()), Some(false));
        assert_eq!(boolean("wahr", us()), None);
        assert_eq!(boolean("maybe", us()), None);
    }

    #[test]
    fn reads_dates_in_the_locales_order() {
        let day = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_time(NaiveTime::MIN)
        };
        assert_eq!(date_time("3.12.2026", de()), Some((day(2026, 12, 3), true)));
        assert_eq!(
            date_time("3. 12. 2026", de()),
            Some((day(2026, 12, 3), true))
        );
        assert_eq!(date_time("12/3/2026", us()), Some((day(2026, 12, 3), true)));
        let gb = SheetLocale::from_tag("en_GB");
        assert_eq!(date_time("12/3/2026", gb), Some((day(2026, 3, 12), true)));
        assert_eq!(
            date_time("2026/12/03", SheetLocale::from_tag("ja_JP")),
            Some((day(2026, 12, 3), true))
        );
        let at = |h: i64, m: i64, s: i64| {
            day(2026, 12, 3) + chrono::Duration::seconds(h * 3600 + m * 60 + s)
        };
        assert_eq!(
            date_time("3.12.2026 14:30", de()),
            Some((at(14, 30, 0), false))
        );
        assert_eq!(
            date_time("03.12.2026, 14:30:05", de()),
            Some((at(14, 30, 5), false))
        );
        assert_eq!(
            date_time("12/3/2026 2:30 PM", us()),
            Some((at(14, 30, 0), false))
        );
        assert_eq!(
            date_time("12/3/2026 12:05 am", us()),
            Some((at(0, 5, 0), false))
        );
    }

    #[test]
    fn refuses_dates_it_would_have_to_guess() {
        for text in [
            "3.12.26",
            "31.2.2026",
            "3.12",
            "3/12-2026",
            "13:00",
            "3.12.2026 25:00",
        ] {
            assert_eq!(date_time(text, de()), None, "{text}");
        }
        assert_eq!(date_time("12/3/2026 13:00 PM", us()), None);
        assert_eq!(date_time("3.12.2026", SheetLocale::UNKNOWN), None);
    }
}
