//! `GSHEET_RANGE`: a tab name, or an A1 range naming one (`Orders!A1:F`).

/// The tab a binding syncs, and optionally the cells of it (A1 notation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRange {
    /// The tab's name exactly as the sheet shows it.
    pub sheet: String,
    /// The cells after `!`, e.g. `A1:F`; `None` means the whole tab.
    pub cells: Option<String>,
}

impl SheetRange {
    /// `Orders`, `Orders!A1:F`, `'Q1 ''24'!A:F` (quoted as Sheets writes it).
    pub fn parse(text: &str) -> Result<SheetRange, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty; give a tab name or a range like Orders!A1:F".into());
        }
        let (sheet, rest) = if let Some(quoted) = text.strip_prefix('\'') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if quoted[i + 1..].starts_with('\'') {
                        name.push('\'');
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    name.push(c);
                }
            }
            let end = end.ok_or_else(|| format!("'{text}' has an unclosed quote"))?;
            (name, &quoted[end..])
        } else {
            match text.split_once('!') {
                Some((name, _)) => (name.to_string(), &text[name.len()..]),
                None => (text.to_string(), ""),
            }
        };
        if sheet.is_empty() {
            return Err(format!("'{text}' names no tab"));
        }
        let cells = match rest {
            "" => None,
            r => {
                let cells = r
                    .strip_prefix('!')
                    .ok_or_else(|| format!("'{text}': expected '!' after the tab name"))?;
                if cells.is_empty() || !is_a1(cells) {
                    return Err(format!("'{text}': '{cells}' is not an A1 range like A1:F"));
                }
                Some(cells.to_string())
            }
        };
        Ok(SheetRange { sheet, cells })
    }
}

/// `A1`, `A1:F`, `A:F`, `2:9`, `A2:F100`: column letters and/or row numbers,
/// one or two of them.
fn is_a1(cells: &str) -> bool {
    let part = |p: &str| {
        let letters = p.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let digits = &p[letters..];
        (letters > 0 || !digits.is_empty())
            && letters <= 3
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    };
    let mut parts = cells.split(':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => part(a),
        (Some(a), Some(b), None) => part(a) && part(b),
        _ => false,
    }
}

impl std::fmt::Display for SheetRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plain = self.sheet.chars().all(|c| c.is_alphanumeric() || c == '_');
        if plain {
            write!(f, "{}", self.sheet)?;
        } else {
            write!(f, "'{}'", self.sheet.replace('\'', "''"))?;
        }
        if let Some(cells) = &self.cells {
            write!(f, "!{cells}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SheetRange;

    fn r(sheet: &str, cells: Option<&str>) -> SheetRange {
        SheetRange {
            sheet: sheet.into(),
            cells: cells.map(Into::into),
        }
    }

    #[test]
    fn tab_name_alone() {
        assert_eq!(SheetRange::parse("Orders").unwrap(), r("Orders", None));
        assert_eq!(
            SheetRange::parse("My Orders").unwrap(),
            r("My Orders", None)
        );
    }

    #[test]
    fn a1_ranges() {
        assert_eq!(
            SheetRange::parse("Orders!A1:F").unwrap(),
            r("Orders", Some("A1:F"))
        );
        assert_eq!(
            SheetRange::parse("Orders!A:F").unwrap(),
            r("Orders", Some("A:F"))
        );
        assert_eq!(
            SheetRange::parse("'Q1 ''24'!A2:F100").unwrap(),
            r("Q1 '24", Some("A2:F100"))
        );
        assert_eq!(SheetRange::parse("'Orders'").unwrap(), r("Orders", None));
    }

    #[test]
    fn bad_ranges_say_why() {
        assert_eq!(
            SheetRange::parse("").unwrap_err(),
            "is empty; give a tab name or a range like Orders!A1:F"
        );
        assert_eq!(
            SheetRange::parse("!A1:F").unwrap_err(),
            "'!A1:F' names no tab"
        );
        assert_eq!(
            SheetRange::parse("Orders!A1:F:G").unwrap_err(),
            "'Orders!A1:F:G': 'A1:F:G' is not an A1 range like A1:F"
        );
        assert_eq!(
            SheetRange::parse("'Orders!A1").unwrap_err(),
            "''Orders!A1' has an unclosed quote"
        );
        assert_eq!(
            SheetRange::parse("'Orders'A1").unwrap_err(),
            "''Orders'A1': expected '!' after the tab name"
        );
    }

    #[test]
    fn display_round_trips() {
        for text in ["Orders", "Orders!A1:F", "'Q1 ''24'!A:F", "'My Orders'"] {
            let parsed = SheetRange::parse(text).unwrap();
            assert_eq!(SheetRange::parse(&parsed.to_string()).unwrap(), parsed);
        }
    }
}
