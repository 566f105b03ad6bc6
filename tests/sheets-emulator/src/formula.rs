//! Formula cells: the formula as typed (`userEnteredValue.formulaValue`) and
//! what it shows (`effectiveValue`).
//!
//! The emulator is no spreadsheet engine. It computes a tiny deterministic
//! set of formulas, those over constants only: numbers, `"text"`, `TRUE`,
//! `FALSE`, `+ - * /`, `&`, unary minus and parentheses (`=6*7`, `="a"&"b"`).
//! Any other formula (a cell reference, a function) shows `#ERROR!` unless
//! a test says what it shows ([`Formula::showing`], or `effectiveValue` in
//! a cell of the `/_emulator` controls). That result is stored with the
//! formula and moves with the cell; it is not computed again when other
//! cells change, and any write of the cell's value replaces both.

use crate::cell::{CellValue, number_json};

/// A formula cell's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    /// As typed, with its leading `=`.
    pub text: String,
    /// What it shows (never itself a formula); `None`: `#ERROR!`.
    pub result: Option<Box<CellValue>>,
}

impl Formula {
    /// A formula as written through the API: computed when it is over
    /// constants only, else `#ERROR!`.
    pub fn new(text: impl Into<String>) -> Formula {
        let text = text.into();
        let result = evaluate(&text).map(Box::new);
        Formula { text, result }
    }

    /// A formula that shows `result`, as a test says (a formula `result`
    /// gives what that one shows).
    pub fn showing(text: impl Into<String>, result: CellValue) -> Formula {
        let result = match result {
            CellValue::Formula(f) => f.result,
            value => Some(Box::new(value)),
        };
        Formula {
            text: text.into(),
            result,
        }
    }
}

/// What a formula over constants computes; `None` for anything else.
pub fn evaluate(text: &str) -> Option<CellValue> {
    let body = text.strip_prefix('=')?;
    let mut parser = Parser {
        chars: body.chars().collect(),
        pos: 0,
    };
    let value = parser.concat()?;
    parser.skip_spaces();
    if parser.pos != parser.chars.len() {
        return None;
    }
    Some(match value {
        Operand::Number(n) if n.is_finite() => CellValue::Number(n),
        Operand::Number(_) => return None,
        Operand::Text(s) if s.is_empty() => CellValue::Empty,
        Operand::Text(s) => CellValue::Text(s),
        Operand::Bool(b) => CellValue::Bool(b),
    })
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl Operand {
    fn number(&self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(*n),
            Operand::Bool(b) => Some(f64::from(u8::from(*b))),
            Operand::Text(s) if s.is_empty() => Some(0.0),
            Operand::Text(s) => s.trim().parse().ok(),
        }
    }

    fn text(&self) -> String {
        match self {
            Operand::Number(n) => match number_json(*n) {
                serde_json::Value::Number(n) => n.to_string(),
                other => other.to_string(),
            },
            Operand::Text(s) => s.clone(),
            Operand::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    /// The next non-space character, consumed when it is one of `ops`.
    fn take(&mut self, ops: &[char]) -> Option<char> {
        self.skip_spaces();
        let c = *self.chars.get(self.pos)?;
        if ops.contains(&c) {
            self.pos += 1;
            Some(c)
        } else {
            None
        }
    }

    fn concat(&mut self) -> Option<Operand> {
        let mut left = self.sum()?;
        while self.take(&['&']).is_some() {
            let right = self.sum()?;
            left = Operand::Text(left.text() + &right.text());
        }
        Some(left)
    }

    fn sum(&mut self) -> Option<Operand> {
        let mut left = self.product()?;
        while let Some(op) = self.take(&['+', '-']) {
            let (a, b) = (left.number()?, self.product()?.number()?);
            left = Operand::Number(if op == '+' { a + b } else { a - b });
        }
        Some(left)
    }

    fn product(&mut self) -> Option<Operand> {
        let mut left = self.unary()?;
        while let Some(op) = self.take(&['*', '/']) {
            let (a, b) = (left.number()?, self.unary()?.number()?);
            if op == '/' && b == 0.0 {
                return None;
            }
            left = Operand::Number(if op == '*' { a * b } else { a / b });
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Operand> {
        match self.take(&['-', '+']) {
            Some('-') => Some(Operand::Number(-self.unary()?.number()?)),
            Some(_) => Some(Operand::Number(self.unary()?.number()?)),
            None => self.primary(),
        }
    }

    fn primary(&mut self) -> Option<Operand> {
        self.skip_spaces();
        let c = *self.chars.get(self.pos)?;
        if c == '(' {
            self.pos += 1;
            let inner = self.concat()?;
            self.take(&[')'])?;
            return Some(inner);
        }
        if c == '"' {
            let mut text = String::new();
            self.pos += 1;
            loop {
                match self.chars.get(self.pos)? {
                    '"' if self.chars.get(self.pos + 1) == Some(&'"') => {
                        text.push('"');
                        self.pos += 2;
                    }
                    '"' => {
                        self.pos += 1;
                        return Some(Operand::Text(text));
                    }
                    other => {
                        text.push(*other);
                        self.pos += 1;
                    }
                }
            }
        }
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
        {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        if word.eq_ignore_ascii_case("TRUE") {
            return Some(Operand::Bool(true));
        }
        if word.eq_ignore_ascii_case("FALSE") {
            return Some(Operand::Bool(false));
        }
        // Digits only (no references such as `A1`, no `inf`).
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return None;
        }
        word.parse().ok().map(Operand::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_over_constants_are_computed() {
        assert_eq!(evaluate("=6*7"), Some(CellValue::Number(42.0)));
        assert_eq!(evaluate("= -(1 + 2) / 4"), Some(CellValue::Number(-0.75)));
        assert_eq!(evaluate("=1+2*3"), Some(CellValue::Number(7.0)));
        assert_eq!(
            evaluate(r#"="a ""b"" "&1.5&TRUE"#),
            Some(CellValue::Text("a \"b\" 1.5TRUE".into()))
        );
        assert_eq!(evaluate("=FALSE"), Some(CellValue::Bool(false)));
        assert_eq!(evaluate(r#"="""#), Some(CellValue::Empty));
        assert_eq!(evaluate("=TRUE+1"), Some(CellValue::Number(2.0)));
    }

    #[test]
    fn anything_else_is_not() {
        for text in [
            "=A1",
            "=B2*2",
            "=SUM(1,2)",
            "=1/0",
            "=1+",
            "=(1",
            "42",
            "=",
            "=\"open",
            "=1 2",
            "=inf",
        ] {
            assert_eq!(evaluate(text), None, "{text}");
        }
    }

    #[test]
    fn a_test_says_what_a_formula_shows() {
        let f = Formula::showing("=B2*2", CellValue::Number(6.0));
        assert_eq!(f.result.as_deref(), Some(&CellValue::Number(6.0)));
        let nested = Formula::showing("=C2", CellValue::Formula(Formula::new("=1+1")));
        assert_eq!(nested.result.as_deref(), Some(&CellValue::Number(2.0)));
        assert_eq!(Formula::new("=B2").result, None);
    }
}
