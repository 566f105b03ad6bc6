//! The spreadsheet's locale: how a person writes numbers, dates and
//! TRUE/FALSE in it.
//!
//! Sheets parses what a person types by the spreadsheet's locale and the
//! script then sends typed values (numbers, booleans, ISO dates), whatever
//! the locale. Text reaches the webhook only from cells formatted as plain
//! text, or pasted as text: `1.234,5`, `50 %`, `3.12.2026` in a German
//! spreadsheet. The locale (`getSpreadsheetLocale()`, e.g. `de_DE`) says how
//! to read such text the way the person meant it.

/// Which part of a date a person writes first (the year is always written
/// with four digits, and a date that starts with one is year-month-day in
/// every locale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    DayMonthYear,
    MonthDayYear,
}

/// A spreadsheet locale's writing of numbers, dates and booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLocale {
    /// The decimal separator: `.` or `,`.
    decimal: char,
    /// When `None`, dates are only read as `YYYY-MM-DD` (no locale known).
    date_order: Option<DateOrder>,
    /// TRUE and FALSE in the locale's language (besides `TRUE`/`FALSE`).
    words: Option<(&'static str, &'static str)>,
}

/// Languages that write `1.234,5` (CLDR); the others write `1,234.5`.
const DECIMAL_COMMA: &[&str] = &[
    "az", "be", "bg", "bs", "ca", "cs", "da", "de", "el", "es", "et", "eu", "fi", "fr", "gl", "hr",
    "hu", "id", "is", "it", "kk", "lt", "lv", "mk", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru",
    "sk", "sl", "sq", "sr", "sv", "tr", "uk", "vi",
];

/// Locales of those languages that write a decimal point after all.
const DECIMAL_POINT_REGIONS: &[&str] = &[
    "de_CH", "de_LI", "it_CH", "fr_CH", "es_MX", "es_US", "es_PR", "es_GT", "es_HN", "es_NI",
    "es_PA", "es_SV", "es_DO",
];

/// Locales that write month before day (`12/3/2026` is December 3).
const MONTH_FIRST: &[&str] = &["en_US", "en_PH", "fil_PH", "en"];

/// TRUE and FALSE as Sheets shows them in a language.
const BOOLEAN_WORDS: &[(&str, &str, &str)] = &[
    ("de", "WAHR", "FALSCH"),
    ("fr", "VRAI", "FAUX"),
    ("es", "VERDADERO", "FALSO"),
    ("it", "VERO", "FALSO"),
    ("pt", "VERDADEIRO", "FALSO"),
    ("nl", "WAAR", "ONWAAR"),
    ("sv", "SANT", "FALSKT"),
    ("da", "SAND", "FALSK"),
    ("nb", "SANN", "USANN"),
    ("no", "SANN", "USANN"),
    ("fi", "TOSI", "EPÄTOSI"),
    ("pl", "PRAWDA", "FAŁSZ"),
    ("tr", "DOĞRU", "YANLIŞ"),
    ("ru", "ИСТИНА", "ЛОЖЬ"),
];

/// Every locale tag Google offers is short; a longer one is not a locale.
const MAX_TAG_LEN: usize = 16;

impl SheetLocale {
    /// Requests that name no locale (scripts from before it was sent):
    /// `1,234.5` numbers and `YYYY-MM-DD` dates only, as before.
    pub const UNKNOWN: SheetLocale = SheetLocale {
        decimal: '.',
        date_order: None,
        words: None,
    };

    /// The locale Google names `tag` (`de_DE`, `pt_BR`, `en`); a tag it
    /// does not look like is [`SheetLocale::UNKNOWN`].
    pub fn from_tag(tag: &str) -> SheetLocale {
        let tag = tag.trim();
        let language = tag.split(['_', '-']).next().unwrap_or("");
        let plausible = !language.is_empty()
            && tag.len() <= MAX_TAG_LEN
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !plausible {
            return SheetLocale::UNKNOWN;
        }
        let language = language.to_ascii_lowercase();
        let region_tag = tag.replace('-', "_");
        let decimal = if DECIMAL_COMMA.contains(&language.as_str())
            && !DECIMAL_POINT_REGIONS.contains(&region_tag.as_str())
        {
            ','
        } else {
            '.'
        };
        let order = if MONTH_FIRST.contains(&region_tag.as_str()) {
            DateOrder::MonthDayYear
        } else {
            DateOrder::DayMonthYear
        };
        let words = BOOLEAN_WORDS
            .iter()
            .find(|(l, _, _)| *l == language)
            .map(|(_, t, f)| (*t, *f));
        SheetLocale {
            decimal,
            date_order: Some(order),
            words,
        }
    }

    /// The request named its locale (not [`SheetLocale::UNKNOWN`]).
    pub fn is_known(self) -> bool {
        self.date_order.is_some()
    }

    pub fn decimal(self) -> char {
        self.decimal
    }

    pub fn date_order(self) -> Option<DateOrder> {
        self.date_order
    }

    /// The locale's TRUE and FALSE words, when its language has its own.
    pub fn boolean_words(self) -> Option<(&'static str, &'static str)> {
        self.words
    }

    /// How a number is written here, for messages: `1,234.5` or `1.234,5`.
    pub fn number_example(self) -> &'static str {
        if self.decimal == ',' {
            "1.234,5"
        } else {
            "1,234.5"
        }
    }

    /// How a date is written here, for messages.
    pub fn date_example(self) -> &'static str {
        match (self.date_order, self.decimal) {
            (None, _) => "YYYY-MM-DD",
            (Some(DateOrder::MonthDayYear), _) => "MM/DD/YYYY or YYYY-MM-DD",
            (Some(DateOrder::DayMonthYear), ',') => "DD.MM.YYYY or YYYY-MM-DD",
            (Some(DateOrder::DayMonthYear), _) => "DD/MM/YYYY or YYYY-MM-DD",
        }
    }

    /// How a date and time is written here, for messages.
    pub fn date_time_example(self) -> &'static str {
        match (self.date_order, self.decimal) {
            (None, _) => "YYYY-MM-DD HH:MM:SS",
            (Some(DateOrder::MonthDayYear), _) => "MM/DD/YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS",
            (Some(DateOrder::DayMonthYear), ',') => "DD.MM.YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS",
            (Some(DateOrder::DayMonthYear), _) => "DD/MM/YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS",
        }
    }
}

impl Default for SheetLocale {
    fn default() -> SheetLocale {
        SheetLocale::UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_separators_and_date_order_of_a_locale() {
        let de = SheetLocale::from_tag("de_DE");
        assert_eq!(de.decimal(), ',');
        assert_eq!(de.date_order(), Some(DateOrder::DayMonthYear));
        assert_eq!(de.boolean_words(), Some(("WAHR", "FALSCH")));
        let us = SheetLocale::from_tag("en_US");
        assert_eq!(us.decimal(), '.');
        assert_eq!(us.date_order(), Some(DateOrder::MonthDayYear));
        assert_eq!(us.boolean_words(), None);
        assert_eq!(
            SheetLocale::from_tag("en_GB").date_order(),
            Some(DateOrder::DayMonthYear)
        );
        assert_eq!(SheetLocale::from_tag("de_CH").decimal(), '.');
        assert_eq!(SheetLocale::from_tag("es_MX").decimal(), '.');
        assert_eq!(SheetLocale::from_tag("es_ES").decimal(), ',');
        assert_eq!(SheetLocale::from_tag("pt-BR").decimal(), ',');
    }

    #[test]
    fn an_implausible_tag_is_no_locale() {
        assert_eq!(SheetLocale::from_tag(""), SheetLocale::UNKNOWN);
        assert_eq!(
            SheetLocale::from_tag("'; DROP TABLE x"),
            SheetLocale::UNKNOWN
        );
        assert_eq!(SheetLocale::from_tag(&"x".repeat(40)), SheetLocale::UNKNOWN);
        assert_eq!(SheetLocale::UNKNOWN.date_order(), None);
    }
}
