//! XLSForm expressions (`relevant`, `constraint`, a trigger's `when`) read
//! into a small tree. Only the part of XPath that hark's conditions and
//! bounds can mean is read; everything else (arithmetic, paths, most
//! functions) is refused here or in `logic.rs`, with a reason an author can
//! act on. Grouping is kept as written: `a and (b and c)` stays nested, so
//! that an exported condition reads back as the same tree.

use hark_core::answer::{MAX_DECIMAL_DIGITS, parse_decimal};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    /// The same comparison with its sides swapped (`3 < x` is `x > 3`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Eq => Self::Eq,
            Self::Ne => Self::Ne,
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
        }
    }
}

/// An expression as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `${name}`: the answer to a question.
    Ref(String),
    /// `.`: the answer being constrained.
    Dot,
    /// `'text'` or `"text"`.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A decimal number, as written (`2.5`, `-0.75`): kept as text so
    /// that it is exact.
    Dec(String),
    /// `name(args)`.
    Call(String, Vec<Expr>),
    /// `a op b`.
    Compare(Cmp, Box<Expr>, Box<Expr>),
    /// `a and b and ...` (at one level of grouping).
    And(Vec<Expr>),
    /// `a or b or ...` (at one level of grouping).
    Or(Vec<Expr>),
}

/// Why an expression cannot be read, with the character it was read up to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ref(String),
    Dot,
    Str(String),
    Int(i64),
    Dec(String),
    Name(String),
    Op(Cmp),
    Open,
    Close,
    Comma,
    Minus,
}

/// Deepest nesting read; beyond it the expression is refused (no stack
/// overflow on hostile input).
const MAX_DEPTH: usize = 40;

fn err<T>(message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        message: message.into(),
    })
}

fn lex(src: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '$' => {
                if chars.get(i + 1) != Some(&'{') {
                    return err(format!("'$' at character {at} must start ${{name}}"));
                }
                let start = i + 2;
                let Some(len) = chars[start..].iter().position(|&c| c == '}') else {
                    return err(format!("'${{' at character {at} is never closed with '}}'"));
                };
                let name: String = chars[start..start + len].iter().collect();
                if name.trim().is_empty() {
                    return err(format!("'${{}}' at character {at} names no question"));
                }
                out.push(Tok::Ref(name.trim().to_owned()));
                i = start + len + 1;
            }
            '\'' | '"' | '‘' | '’' | '“' | '”' => {
                let close: &[char] = match c {
                    '\'' => &['\''],
                    '"' => &['"'],
                    _ => &['’', '‘', '”', '“'],
                };
                let start = i + 1;
                let Some(len) = chars[start..].iter().position(|c| close.contains(c)) else {
                    return err(format!(
                        "the text starting at character {at} is never closed"
                    ));
                };
                out.push(Tok::Str(chars[start..start + len].iter().collect()));
                i = start + len + 1;
            }
            '0'..='9' => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                {
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    if parse_decimal(&text).is_none() {
                        return err(format!(
                            "the number {text} has more than {MAX_DECIMAL_DIGITS} digits"
                        ));
                    }
                    out.push(Tok::Dec(text));
                    continue;
                }
                let digits: String = chars[start..i].iter().collect();
                let Ok(n) = digits.parse::<i64>() else {
                    return err(format!("the number {digits} is too large"));
                };
                out.push(Tok::Int(n));
            }
            '.' => {
                if chars.get(i + 1) == Some(&'.') {
                    return err(format!("'..' at character {at}: paths are not supported"));
                }
                out.push(Tok::Dot);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '-' => {
                out.push(Tok::Minus);
                i += 1;
            }
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    return err(format!("'==' at character {at}: write '='"));
                }
                out.push(Tok::Op(Cmp::Eq));
                i += 1;
            }
            '!' | '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('!', true) => Cmp::Ne,
                    ('!', false) => return err(format!("'!' at character {at}: write not(...)")),
                    ('<', true) => Cmp::Le,
                    ('<', false) => Cmp::Lt,
                    ('>', true) => Cmp::Ge,
                    _ => Cmp::Gt,
                };
                out.push(Tok::Op(op));
                i += if eq { 2 } else { 1 };
            }
            '+' | '*' | '|' | '/' => {
                return err(format!(
                    "'{c}' at character {at}: arithmetic, unions and paths are not supported"
                ));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-')
                {
                    i += 1;
                }
                out.push(Tok::Name(chars[start..i].iter().collect()));
            }
            c => {
                return err(format!(
                    "'{c}' at character {at} is not part of an expression"
                ));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_name(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == word)
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("the expression is nested too deeply");
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let mut items = vec![self.and()?];
        while self.is_name("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.compare()?];
        while self.is_name("and") {
            self.pos += 1;
            items.push(self.compare()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn compare(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.unary()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.pos += 1;
            let right = self.unary()?;
            if matches!(self.peek(), Some(Tok::Op(_))) {
                return err("comparisons cannot be chained; join them with 'and'");
            }
            return Ok(Expr::Compare(op, Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.peek() == Some(&Tok::Minus) {
            self.pos += 1;
            return match self.next() {
                Some(Tok::Int(n)) => Ok(Expr::Int(-n)),
                Some(Tok::Dec(d)) => Ok(Expr::Dec(format!("-{d}"))),
                _ => err("'-' is only supported before a number"),
            };
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => err("a '(' is never closed"),
                }
            }
            Some(Tok::Ref(name)) => Ok(Expr::Ref(name)),
            Some(Tok::Dot) => Ok(Expr::Dot),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Int(n)) => Ok(Expr::Int(n)),
            Some(Tok::Dec(d)) => Ok(Expr::Dec(d)),
            Some(Tok::Name(name)) => {
                if self.peek() != Some(&Tok::Open) {
                    return match name.as_str() {
                        "and" | "or" => err(format!("'{name}' needs a condition on each side")),
                        "div" | "mod" => err(format!("'{name}': arithmetic is not supported")),
                        _ => err(format!(
                            "'{name}' is not a function call; write ${{{name}}} for a question"
                        )),
                    };
                }
                self.pos += 1;
                self.enter()?;
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::Close) {
                    self.pos += 1;
                } else {
                    loop {
                        args.push(self.or()?);
                        match self.next() {
                            Some(Tok::Comma) => {}
                            Some(Tok::Close) => break,
                            _ => return err(format!("{name}( is never closed with ')'")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Expr::Call(name, args))
            }
            Some(Tok::Close) => err("a ')' closes nothing, or something is missing before it"),
            Some(Tok::Comma) => err("a ',' outside a function call"),
            Some(Tok::Op(_)) => err("a comparison needs a value on each side"),
            Some(Tok::Minus) => err("'-' is only supported before a number"),
            None => err("the expression ends too early"),
        }
    }
}

impl Expr {
    /// Every question the expression names, in order.
    pub fn refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::Ref(q) => out.push(q),
            Self::Call(_, items) | Self::And(items) | Self::Or(items) => {
                items.iter().for_each(|i| i.collect(out));
            }
            Self::Compare(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Self::Dot | Self::Str(_) | Self::Int(_) | Self::Dec(_) => {}
        }
    }
}

/// Reads an expression.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return err("the expression is empty");
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(Tok::Close) => err("a ')' closes nothing"),
        Some(_) => {
            err("something follows the end of the expression; join conditions with 'and' or 'or'")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: &str) -> Box<Expr> {
        Box::new(Expr::Ref(n.into()))
    }

    #[test]
    fn reads_the_supported_shapes() {
        assert_eq!(
            parse("${a} = 'x' and (selected(${b}, 'y') or not(${c} >= -3))"),
            Ok(Expr::And(vec![
                Expr::Compare(Cmp::Eq, r("a"), Box::new(Expr::Str("x".into()))),
                Expr::Or(vec![
                    Expr::Call("selected".into(), vec![*r("b"), Expr::Str("y".into())]),
                    Expr::Call(
                        "not".into(),
                        vec![Expr::Compare(Cmp::Ge, r("c"), Box::new(Expr::Int(-3)))]
                    ),
                ]),
            ]))
        );
        assert_eq!(
            parse(". >= 0 and . <= 120"),
            Ok(Expr::And(vec![
                Expr::Compare(Cmp::Ge, Box::new(Expr::Dot), Box::new(Expr::Int(0))),
                Expr::Compare(Cmp::Le, Box::new(Expr::Dot), Box::new(Expr::Int(120))),
            ]))
        );
        assert_eq!(
            parse("string-length(.) <= 10"),
            Ok(Expr::Compare(
                Cmp::Le,
                Box::new(Expr::Call("string-length".into(), vec![Expr::Dot])),
                Box::new(Expr::Int(10))
            ))
        );
    }

    #[test]
    fn reads_decimals_as_written() {
        assert_eq!(
            parse(". >= -0.50"),
            Ok(Expr::Compare(
                Cmp::Ge,
                Box::new(Expr::Dot),
                Box::new(Expr::Dec("-0.50".into()))
            ))
        );
    }

    #[test]
    fn keeps_grouping_as_written() {
        let Ok(Expr::And(items)) = parse("${a} = 1 and (${b} = 2 and ${c} = 3)") else {
            panic!("an and");
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Expr::And(inner) if inner.len() == 2));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "${a} = ",
            "${a = 'x'",
            "${a} = 'x",
            "(${a} = 'x'",
            "${a} = 'x')",
            "${a} + 1 > 2",
            "${a} = 1.",
            "${a} = 12345678901234567890.123456789",
            "a = 'x'",
            "${a} == 'x'",
            "1 < ${a} < 3",
            "${a} = 'x' ${b} = 'y'",
            "../a = 'x'",
            "and",
            "$a",
            "${}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let deep = format!("{}${{a}} = 1{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).is_err());
    }
}
