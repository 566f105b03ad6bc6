//! Exact decimal text: the canonical form of `numeric` values and the way
//! floating-point numbers are shown.

/// The canonical form of a decimal literal (`+1.50e2` → `150`, `-0.0` →
/// `0`, `.5` → `0.5`), or the special values PostgreSQL's numeric knows
/// (`NaN`, `Infinity`, `-Infinity`); `None` when `text` is not a number.
pub fn normalize(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(special) = special(text) {
        return Some(special.to_owned());
    }
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    // Position of the decimal point, counted in digits from the left.
    let mut point = whole.len() as i64 + exponent;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    point -= leading as i64;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return Some("0".to_owned());
    }
    let len = digits.len() as i64;
    let mut out = String::with_capacity(digits.len() + 4);
    if negative {
        out.push('-');
    }
    let body = std::str::from_utf8(&digits).ok()?;
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(body);
    } else if point >= len {
        out.push_str(body);
        out.extend(std::iter::repeat_n('0', (point - len) as usize));
    } else {
        out.push_str(&body[..point as usize]);
        out.push('.');
        out.push_str(&body[point as usize..]);
    }
    Some(out)
}

/// PostgreSQL numeric allows 131072 digits before the point and 16383 after;
/// exponents beyond that cannot be stored, and refusing them keeps a hostile
/// `1e999999999` from allocating gigabytes.
const MAX_EXPONENT: i64 = 131_072;

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    (value.abs() <= MAX_EXPONENT).then_some(value)
}

fn special(text: &str) -> Option<&'static str> {
    match text.to_ascii_lowercase().as_str() {
        "nan" => Some("NaN"),
        "infinity" | "+infinity" | "inf" | "+inf" => Some("Infinity"),
        "-infinity" | "-inf" => Some("-Infinity"),
        _ => None,
    }
}

/// A float as people write it: integral values without `.0`, no exponent,
/// the shortest digits that read back as the same float; PostgreSQL's
/// spelling of the special values.
pub fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if f == 0.0 {
        "0".to_owned()
    } else {
        // Rust's Display prints the shortest round-tripping digits and never
        // an exponent.
        f.to_string()
    }
}

/// The float closest to a canonical decimal (special values included).
pub fn to_f64(canonical: &str) -> Option<f64> {
    match canonical {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_to_the_canonical_form() {
        let cases = [
            ("42", "42"),
            ("+42", "42"),
            ("-0042.500", "-42.5"),
            ("1.50", "1.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0.0", "0"),
            ("1e3", "1000"),
            ("1.25E-3", "0.00125"),
            ("-12.5e1", "-125"),
            (" 7 ", "7"),
            (
                "12345678901234567890.123456789",
                "12345678901234567890.123456789",
            ),
            ("nan", "NaN"),
            ("-Infinity", "-Infinity"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for input in [
            "",
            "abc",
            "1,5",
            "1.2.3",
            "--1",
            "1e",
            "e5",
            ".",
            "1e9999999",
            "0x10",
            "1 000",
        ] {
            assert_eq!(normalize(input), None, "{input}");
        }
    }

    #[test]
    fn shows_floats_without_exponent_or_trailing_zero() {
        assert_eq!(float_text(42.0), "42");
        assert_eq!(float_text(3.5), "3.5");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(-0.0), "0");
        assert_eq!(float_text(1e21), "1000000000000000000000");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(f64::NEG_INFINITY), "-Infinity");
    }
}
