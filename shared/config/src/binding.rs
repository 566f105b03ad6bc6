//! A binding's settings: which table syncs with which tab, and how.

use sheetsync_reconcile::model::ConflictPolicy;

use crate::{ConfigError, Lookup, SheetRange};

/// A table named `[schema.]name`; either part may be double-quoted as in
/// SQL (`"my.schema"."Order ""items"""`) to hold dots or quotes. Names are
/// matched exactly as written (no case folding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// `None`: the first schema of the search path that has the table.
    pub schema: Option<String>,
    pub name: String,
}

impl TableRef {
    pub fn parse(text: &str) -> Result<TableRef, String> {
        let (first, rest) = ident(text)?;
        match rest {
            "" => Ok(TableRef {
                schema: None,
                name: first,
            }),
            r => {
                let r = r
                    .strip_prefix('.')
                    .ok_or_else(|| format!("'{text}' is not [schema.]table"))?;
                let (second, tail) = ident(r)?;
                if !tail.is_empty() {
                    return Err(format!("'{text}' is not [schema.]table"));
                }
                Ok(TableRef {
                    schema: Some(first),
                    name: second,
                })
            }
        }
    }
}

/// One identifier from the front of `text`: quoted (`"a""b"`) or up to the
/// first dot.
fn ident(text: &str) -> Result<(String, &str), String> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if matches!(chars.peek(), Some((_, '"'))) {
                    name.push('"');
                    chars.next();
                } else {
                    if name.is_empty() {
                        return Err(format!("'{text}' has an empty quoted name"));
                    }
                    return Ok((name, &quoted[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        Err(format!("'{text}' has an unclosed quote"))
    } else {
        let end = text.find('.').unwrap_or(text.len());
        if end == 0 {
            return Err(format!("'{text}' names no table"));
        }
        Ok((text[..end].to_string(), &text[end..]))
    }
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |s: &str| {
            if s.contains(['.', '"']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        match &self.schema {
            Some(schema) => write!(f, "{}.{}", part(schema), part(&self.name)),
            None => write!(f, "{}", part(&self.name)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingConfig {
    pub name: String,
    pub table: TableRef,
    pub spreadsheet_id: String,
    pub range: SheetRange,
    pub conflict: ConflictPolicy,
}

impl BindingConfig {
    /// The environment's binding: `GSHEET_ID`, `GSHEET_RANGE`,
    /// `SHEETSYNC_TABLE`, optional `SHEETSYNC_CONFLICT` (default `latest`) and
    /// `SHEETSYNC_BINDING` (default: from the table name). `None` when none
    /// of the sheet/table variables is set.
    pub fn from_env_with(env: &dyn Lookup) -> Result<Option<BindingConfig>, ConfigError> {
        const HINT: &str =
            "a binding from the environment needs GSHEET_ID, GSHEET_RANGE and SHEETSYNC_TABLE";
        let id = env.get("GSHEET_ID");
        let range = env.get("GSHEET_RANGE");
        let table = env.get("SHEETSYNC_TABLE");
        if id.is_none() && range.is_none() && table.is_none() {
            return Ok(None);
        }
        let id = id.ok_or_else(|| ConfigError::missing("GSHEET_ID", HINT))?;
        let range = range.ok_or_else(|| ConfigError::missing("GSHEET_RANGE", HINT))?;
        let table = table.ok_or_else(|| ConfigError::missing("SHEETSYNC_TABLE", HINT))?;
        let table =
            TableRef::parse(&table).map_err(|r| ConfigError::invalid("SHEETSYNC_TABLE", r))?;
        let range =
            SheetRange::parse(&range).map_err(|r| ConfigError::invalid("GSHEET_RANGE", r))?;
        let conflict = match env.get("SHEETSYNC_CONFLICT") {
            Some(c) => c
                .parse()
                .map_err(|r: String| ConfigError::invalid("SHEETSYNC_CONFLICT", r))?,
            None => ConflictPolicy::default(),
        };
        let name = match env.get("SHEETSYNC_BINDING") {
            Some(n) => {
                check_binding_name(&n).map_err(|r| ConfigError::invalid("SHEETSYNC_BINDING", r))?;
                n
            }
            None => default_binding_name(&table),
        };
        Ok(Some(BindingConfig {
            name,
            table,
            spreadsheet_id: check_spreadsheet_id(&id)
                .map_err(|r| ConfigError::invalid("GSHEET_ID", r))?,
            range,
            conflict,
        }))
    }
}

/// Binding names travel in SQS message group ids, logs and trigger
/// arguments: letters, digits, `_`, `-`, `.`; 1 to 80 characters.
pub fn check_binding_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > 80 || !name.chars().all(ok_char) {
        return Err(format!(
            "binding name '{name}' must be 1 to 80 letters, digits, '_', '-' or '.'"
        ));
    }
    Ok(())
}

/// `public.orders` -> `orders`, `sales.orders` -> `sales.orders`; other
/// characters become `_`.
pub fn default_binding_name(table: &TableRef) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let name = match table.schema.as_deref() {
        None | Some("public") => clean(&table.name),
        Some(schema) => format!("{}.{}", clean(schema), clean(&table.name)),
    };
    name.chars().take(80).collect()
}

pub(crate) fn check_spreadsheet_id(id: &str) -> Result<String, String> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id.to_string())
    } else {
        Err(format!(
            "'{id}' is not a spreadsheet id (the part of the sheet's URL after /d/)"
        ))
    }
}
