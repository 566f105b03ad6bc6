//! A1 notation: `Sheet1!A1:C10`, `'My Tab'!A:C`, `Sheet1!2:5`, `Sheet1!A2:C`, `Sheet1`, `A1:B2`.

use std::fmt::Write;

/// A parsed range before it is resolved against a spreadsheet's tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct A1Range {
    /// The tab named before `!` (quotes removed); `None` means the first tab.
    pub sheet: Option<String>,
    /// `None` for a whole tab (`Sheet1` or `'My Tab'`).
    pub cells: Option<CellRange>,
    /// A bare word with no `!` that may be a tab title or a cell range (`A1`).
    pub ambiguous: bool,
}

/// Zero-based, end-exclusive bounds; an open end (`A2:C`) is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellRange {
    pub start_row: usize,
    pub end_row: Option<usize>,
    pub start_col: usize,
    pub end_col: Option<usize>,
}

/// Largest column (`ZZZ`) and row Google accepts in A1 references.
const MAX_COLUMN: usize = 18_278;
const MAX_ROW: usize = 10_000_000;

pub fn parse(text: &str) -> Option<A1Range> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('\'') {
        let (title, after) = quoted_title(rest)?;
        if after.is_empty() {
            return Some(A1Range {
                sheet: Some(title),
                cells: None,
                ambiguous: false,
            });
        }
        let cells = after.strip_prefix('!')?;
        return Some(A1Range {
            sheet: Some(title),
            cells: Some(parse_cells(cells)?),
            ambiguous: false,
        });
    }
    match text.split_once('!') {
        Some((title, cells)) => Some(A1Range {
            sheet: Some(title.to_string()),
            cells: Some(parse_cells(cells)?),
            ambiguous: false,
        }),
        None => Some(A1Range {
            sheet: Some(text.to_string()),
            cells: parse_cells(text),
            ambiguous: true,
        }),
    }
}

/// Reads a quoted title (`''` is an escaped quote); returns the title and what follows.
fn quoted_title(rest: &str) -> Option<(String, &str)> {
    let mut title = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if let Some((_, '\'')) = chars.peek() {
                chars.next();
                title.push('\'');
                continue;
            }
            return Some((title, &rest[i + 1..]));
        }
        title.push(c);
    }
    None
}

fn parse_cells(text: &str) -> Option<CellRange> {
    let (first, second) = match text.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let (col1, row1) = endpoint(first)?;
    let Some(second) = second else {
        // A single reference must name a cell.
        let (col, row) = (col1?, row1?);
        return Some(CellRange {
            start_row: row,
            end_row: Some(row + 1),
            start_col: col,
            end_col: Some(col + 1),
        });
    };
    let (col2, row2) = endpoint(second)?;
    // `A:C` and `1:5` are fine; `A1:5` mixes a column-less end with a column start.
    if col1.is_some() != col2.is_some() || (row1.is_none() && row2.is_some()) {
        return None;
    }
    let (start_col, end_col) = order(col1.unwrap_or(0), col2);
    let (start_row, end_row) = order(row1.unwrap_or(0), row2);
    Some(CellRange {
        start_row,
        end_row,
        start_col,
        end_col,
    })
}

fn order(start: usize, end: Option<usize>) -> (usize, Option<usize>) {
    match end {
        Some(end) if end < start => (end, Some(start + 1)),
        Some(end) => (start, Some(end + 1)),
        None => (start, None),
    }
}

/// `B7` -> (Some(1), Some(6)); `B` -> (Some(1), None); `7` -> (None, Some(6)).
fn endpoint(text: &str) -> Option<(Option<usize>, Option<usize>)> {
    let letters: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits = &text[letters.len()..];
    if letters.is_empty() && digits.is_empty() {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let col = if letters.is_empty() {
        None
    } else {
        Some(column_index(&letters)?)
    };
    let row = if digits.is_empty() {
        None
    } else {
        let n: usize = digits.parse().ok()?;
        if n == 0 || n > MAX_ROW {
            return None;
        }
        Some(n - 1)
    };
    Some((col, row))
}

/// `A` -> 0, `Z` -> 25, `AA` -> 26.
pub fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut n = 0usize;
    for c in letters.chars() {
        n = n * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1);
    }
    (n <= MAX_COLUMN).then(|| n - 1)
}

/// 0 -> `A`, 26 -> `AA`.
pub fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push((b'A' + (index % 26) as u8) as char);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// A tab title as it appears in a range: quoted unless it is a plain identifier
/// that cannot be read as a cell reference.
pub fn quote_title(title: &str) -> String {
    let plain = title
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && title.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && parse_cells(title).is_none();
    if plain {
        title.to_string()
    } else {
        format!("'{}'", title.replace('\'', "''"))
    }
}

/// A title always quoted, as Google writes it in grid-limit error messages.
pub fn always_quoted(title: &str) -> String {
    format!("'{}'", title.replace('\'', "''"))
}

/// `Sheet1!A1:C3` (or `Sheet1!A1` for one cell); bounds are zero-based, end-exclusive.
pub fn format_range(
    title: &str,
    start_row: usize,
    end_row: usize,
    start_col: usize,
    end_col: usize,
) -> String {
    let mut out = quote_title(title);
    out.push('!');
    out.push_str(&cells_text(start_row, end_row, start_col, end_col));
    out
}

pub fn cells_text(start_row: usize, end_row: usize, start_col: usize, end_col: usize) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}{}", column_letters(start_col), start_row + 1);
    if end_row > start_row + 1 || end_col > start_col + 1 {
        let _ = write!(
            out,
            ":{}{}",
            column_letters(end_col.saturating_sub(1).max(start_col)),
            end_row.max(start_row + 1)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(
        start_row: usize,
        end_row: Option<usize>,
        start_col: usize,
        end_col: Option<usize>,
    ) -> CellRange {
        CellRange {
            start_row,
            end_row,
            start_col,
            end_col,
        }
    }

    #[test]
    fn parses_the_common_forms() {
        let r = parse("Sheet1!A1:C10").unwrap();
        assert_eq!(r.sheet.as_deref(), Some("Sheet1"));
        assert_eq!(r.cells, Some(cells(0, Some(10), 0, Some(3))));
        assert!(!r.ambiguous);
        let r = parse("'My Tab'!A:C").unwrap();
        assert_eq!(r.sheet.as_deref(), Some("My Tab"));
        assert_eq!(r.cells, Some(cells(0, None, 0, Some(3))));
        let r = parse("'It''s'!B2").unwrap();
        assert_eq!(r.sheet.as_deref(), Some("It's"));
        assert_eq!(r.cells, Some(cells(1, Some(2), 1, Some(2))));
        assert_eq!(
            parse("S!2:5").unwrap().cells,
            Some(cells(1, Some(5), 0, None))
        );
        assert_eq!(
            parse("S!A2:C").unwrap().cells,
            Some(cells(1, None, 0, Some(3)))
        );
        assert_eq!(
            parse("S!C3:A1").unwrap().cells,
            Some(cells(0, Some(3), 0, Some(3)))
        );
        assert_eq!(
            parse("S!aa1").unwrap().cells,
            Some(cells(0, Some(1), 26, Some(27)))
        );
        let whole = parse("'My Tab'").unwrap();
        assert_eq!(
            (whole.sheet.as_deref(), whole.cells, whole.ambiguous),
            (Some("My Tab"), None, false)
        );
        let bare = parse("A1:B2").unwrap();
        assert!(bare.ambiguous);
        assert_eq!(bare.cells, Some(cells(0, Some(2), 0, Some(2))));
        let word = parse("orders").unwrap();
        assert!(word.ambiguous && word.cells.is_none());
    }

    #[test]
    fn rejects_malformed_ranges() {
        for bad in [
            "", "S!", "S!A0", "'open!A1", "'x'A1", "S!A1:", "S!A1-B2", "S!AAAA1", "S!A1:5", "S!A:",
            "S!A",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn columns_and_titles_render_like_google() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(column_index("AAA"), Some(702));
        assert_eq!(quote_title("Sheet1"), "Sheet1");
        assert_eq!(quote_title("My Tab"), "'My Tab'");
        assert_eq!(quote_title("A1"), "'A1'");
        assert_eq!(quote_title("it's"), "'it''s'");
        assert_eq!(format_range("Sheet1", 0, 1000, 0, 26), "Sheet1!A1:Z1000");
        assert_eq!(format_range("My Tab", 4, 5, 2, 3), "'My Tab'!C5");
    }

    proptest::proptest! {
        #[test]
        fn formatted_ranges_parse_back(
            title in "[A-Za-z0-9 '_!:-]{1,12}",
            r0 in 0usize..5000, rows in 1usize..50,
            c0 in 0usize..800, cols in 1usize..30,
        ) {
            let text = format_range(&title, r0, r0 + rows, c0, c0 + cols);
            let parsed = parse(&text).unwrap();
            proptest::prop_assert_eq!(parsed.sheet.as_deref(), Some(title.as_str()));
            proptest::prop_assert!(!parsed.ambiguous || quote_title(&title) == title);
            proptest::prop_assert_eq!(parsed.cells, Some(CellRange {
                start_row: r0, end_row: Some(r0 + rows), start_col: c0, end_col: Some(c0 + cols),
            }));
        }
    }
}
