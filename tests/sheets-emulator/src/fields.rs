//! Partial responses: the `fields` system parameter (`sheets(properties(sheetId,title))`,
//! `spreadsheetId,sheets/properties/title`, `*`).

use serde_json::{Map, Value as Json};

use crate::error::ApiError;

/// A parsed selector: member name -> nested selection (`None` = the whole member).
#[derive(Debug, Default, PartialEq)]
pub struct Selection(Vec<(String, Option<Selection>)>);

impl Selection {
    /// `*`: the whole object, whatever else is named beside it.
    pub fn keeps_all(&self) -> bool {
        self.0.iter().any(|(n, _)| n == "*")
    }

    /// `Some(nested)` when `name` is selected (`nested` `None`: all of it).
    pub fn member(&self, name: &str) -> Option<Option<&Selection>> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, nested)| nested.as_ref())
    }
}

pub fn parse(text: &str) -> Result<Selection, ApiError> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let selection = parse_list(&chars, &mut pos)?;
    if pos != chars.len() {
        return Err(invalid(text));
    }
    Ok(selection)
}

fn invalid(text: &str) -> ApiError {
    ApiError::invalid_argument(format!("Invalid field selection {text}"))
}

fn parse_list(chars: &[char], pos: &mut usize) -> Result<Selection, ApiError> {
    let mut items = Vec::new();
    loop {
        let (name, nested) = parse_path(chars, pos)?;
        merge(&mut items, name, nested);
        match chars.get(*pos) {
            Some(',') => *pos += 1,
            _ => return Ok(Selection(items)),
        }
    }
}

fn merge(items: &mut Vec<(String, Option<Selection>)>, name: String, nested: Option<Selection>) {
    if let Some((_, existing)) = items.iter_mut().find(|(n, _)| *n == name) {
        match (existing.as_mut(), nested) {
            (Some(existing), Some(Selection(more))) => {
                for (n, s) in more {
                    merge(&mut existing.0, n, s);
                }
            }
            _ => *existing = None,
        }
    } else {
        items.push((name, nested));
    }
}

/// `a/b(c)` -> ("a", Some({b: {c}})).
fn parse_path(chars: &[char], pos: &mut usize) -> Result<(String, Option<Selection>), ApiError> {
    let start = *pos;
    while *pos < chars.len()
        && (chars[*pos].is_ascii_alphanumeric() || chars[*pos] == '_' || chars[*pos] == '*')
    {
        *pos += 1;
    }
    let name: String = chars[start..*pos].iter().collect();
    if name.is_empty() {
        return Err(invalid(&chars.iter().collect::<String>()));
    }
    match chars.get(*pos) {
        Some('/') => {
            *pos += 1;
            let (child, nested) = parse_path(chars, pos)?;
            Ok((name, Some(Selection(vec![(child, nested)]))))
        }
        Some('(') => {
            *pos += 1;
            let nested = parse_list(chars, pos)?;
            if chars.get(*pos) != Some(&')') {
                return Err(invalid(&chars.iter().collect::<String>()));
            }
            *pos += 1;
            Ok((name, Some(nested)))
        }
        _ => Ok((name, None)),
    }
}

/// Keeps only the selected members (arrays are filtered element by element).
pub fn apply(value: Json, selection: &Selection) -> Json {
    match value {
        Json::Array(items) => Json::Array(items.into_iter().map(|v| apply(v, selection)).collect()),
        Json::Object(mut object) => {
            if selection.keeps_all() {
                return Json::Object(object);
            }
            let mut out = Map::new();
            for (name, nested) in &selection.0 {
                if let Some(member) = object.remove(name) {
                    let member = match nested {
                        Some(nested) => apply(member, nested),
                        None => member,
                    };
                    out.insert(name.clone(), member);
                }
            }
            Json::Object(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_nested_members() {
        let doc = json!({"spreadsheetId": "x", "properties": {"title": "t"},
            "sheets": [{"properties": {"sheetId": 0, "title": "A", "index": 0}, "data": []}]});
        let s = parse("spreadsheetId,sheets(properties(sheetId,title))").unwrap();
        assert_eq!(
            apply(doc.clone(), &s),
            json!({"spreadsheetId": "x",
            "sheets": [{"properties": {"sheetId": 0, "title": "A"}}]})
        );
        let s = parse("sheets/properties/title,sheets/data").unwrap();
        assert_eq!(
            apply(doc.clone(), &s),
            json!({"sheets": [{"properties": {"title": "A"}, "data": []}]})
        );
        assert_eq!(apply(doc.clone(), &parse("*").unwrap()), doc);
        assert!(parse("sheets(properties").is_err());
        assert!(parse("a,,b").is_err());
    }
}
