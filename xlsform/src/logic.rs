//! Expressions mapped onto hark's form model, both ways: a `relevant` or a
//! trigger's `when` becomes a [`Condition`], a `constraint` becomes the
//! bounds of its question's kind, and back again for the export. What the
//! model cannot mean is refused with the reason; the export writes each
//! condition in the one shape the import reads back as the same tree.

use hark_core::form::{CondValue, Condition, DONT_KNOW, PREFER_NOT_TO_SAY, QuestionKind};

use crate::expr::{Cmp, Expr};

/// Why an expression cannot become a condition or a bound.
#[derive(Debug, PartialEq, Eq)]
pub enum LogicError {
    /// The model cannot express it.
    Inexpressible(String),
    /// It names a question that is not known at this point.
    Unknown(String),
}

fn no<T>(why: impl Into<String>) -> Result<T, LogicError> {
    Err(LogicError::Inexpressible(why.into()))
}

/// A literal compared with an answer.
fn literal(e: &Expr) -> Option<CondValue> {
    match e {
        Expr::Str(s) => Some(CondValue::Str(s.clone())),
        Expr::Int(n) => Some(CondValue::Int(*n)),
        Expr::Dec(d) => Some(CondValue::Str(d.clone())),
        _ => None,
    }
}

/// A face-scale point may be named by its label's id; the model compares
/// points as numbers. A choice named by a number (`${q} = 1`, as ODK forms
/// with choices `1`, `2`, ... write it) is that choice's name.
fn value_for(kind: &QuestionKind, v: CondValue) -> CondValue {
    match (kind, &v) {
        (QuestionKind::FaceScale { labels, .. }, CondValue::Str(s)) => {
            match labels.iter().position(|l| &l.id == s) {
                Some(i) => CondValue::Int(i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1)),
                None => v,
            }
        }
        (
            QuestionKind::SingleChoice { .. }
            | QuestionKind::MultipleChoice { .. }
            | QuestionKind::YesNo,
            CondValue::Int(n),
        ) => CondValue::Str(n.to_string()),
        _ => v,
    }
}

/// `selected(${q}, v)`, if `e` is that.
fn as_selected(e: &Expr) -> Option<(&str, CondValue)> {
    match e {
        Expr::Call(f, args) if f == "selected" => match args.as_slice() {
            [Expr::Ref(q), v] => Some((q, literal(v)?)),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a `relevant` or `when` expression as a condition. `kind` finds the
/// kind of a question the expression may refer to.
pub fn condition<'f>(
    e: &Expr,
    kind: &dyn Fn(&str) -> Option<&'f QuestionKind>,
) -> Result<Condition, LogicError> {
    let known = |q: &str| kind(q).ok_or_else(|| LogicError::Unknown(q.to_owned()));
    match e {
        Expr::Or(items) => {
            // `selected(${q}, 'a') or selected(${q}, 'b')` is one_of.
            let picks: Option<Vec<_>> = items.iter().map(as_selected).collect();
            if let Some(picks) = picks
                && picks.len() >= 2
                && picks.iter().all(|(q, _)| *q == picks[0].0)
            {
                let q = picks[0].0;
                let k = known(q)?;
                return Ok(Condition::OneOf {
                    question: q.to_owned(),
                    values: picks.into_iter().map(|(_, v)| value_for(k, v)).collect(),
                });
            }
            Ok(Condition::Any(
                items
                    .iter()
                    .map(|i| condition(i, kind))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Expr::And(items) => Ok(Condition::All(
            items
                .iter()
                .map(|i| condition(i, kind))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Call(f, args) if f == "not" => match args.as_slice() {
            [inner] => Ok(Condition::Not(Box::new(condition(inner, kind)?))),
            _ => no("not() takes one condition"),
        },
        Expr::Call(f, _) if f == "selected" => {
            let Some((q, v)) = as_selected(e) else {
                return no("selected() takes a question and a value: selected(${q}, 'x')");
            };
            let k = known(q)?;
            if !matches!(
                k,
                QuestionKind::SingleChoice { .. }
                    | QuestionKind::MultipleChoice { .. }
                    | QuestionKind::YesNo
                    | QuestionKind::FaceScale { .. }
            ) {
                return no(format!(
                    "selected() needs a choice question, and ${{{q}}} is not one"
                ));
            }
            Ok(Condition::Equals {
                question: q.to_owned(),
                value: value_for(k, v),
            })
        }
        Expr::Call(f, _) => no(format!("{f}() cannot be used in a condition")),
        Expr::Compare(op, a, b) => compare(*op, a, b, kind),
        Expr::Ref(_) | Expr::Dot | Expr::Str(_) | Expr::Int(_) | Expr::Dec(_) => {
            no("a value on its own is not a condition; compare it, e.g. ${q} = 'yes'")
        }
    }
}

fn compare<'f>(
    op: Cmp,
    a: &Expr,
    b: &Expr,
    kind: &dyn Fn(&str) -> Option<&'f QuestionKind>,
) -> Result<Condition, LogicError> {
    let (op, q, lit) = match (a, b) {
        (Expr::Ref(q), other) => (op, q, other),
        (other, Expr::Ref(q)) => (op.flipped(), q, other),
        (Expr::Call(f, _), _) | (_, Expr::Call(f, _)) => {
            return no(format!("{f}() cannot be used in a condition"));
        }
        _ => return no("a comparison needs a question, ${q}, on one side"),
    };
    let Some(value) = literal(lit) else {
        return no("a question can only be compared with a text or a number");
    };
    let k = kind(q).ok_or_else(|| LogicError::Unknown(q.clone()))?;
    let question = q.clone();
    if value == CondValue::Str(String::new()) {
        return match op {
            Cmp::Eq => Ok(Condition::Not(Box::new(Condition::Answered(question)))),
            Cmp::Ne => Ok(Condition::Answered(question)),
            _ => no("only = and != compare with ''"),
        };
    }
    if matches!(op, Cmp::Eq | Cmp::Ne) && matches!(k, QuestionKind::MultipleChoice { .. }) {
        return no(format!(
            "${{{q}}} is a select_multiple; write selected(${{{q}}}, 'x')"
        ));
    }
    if !matches!(op, Cmp::Eq | Cmp::Ne)
        && !matches!(
            k,
            QuestionKind::Number { .. }
                | QuestionKind::FaceScale { .. }
                | QuestionKind::Decimal { .. }
        )
    {
        return no(format!(
            "<, <=, > and >= compare integer, decimal and face-scale answers only, and ${{{q}}} is a {} question",
            k.name()
        ));
    }
    let value = value_for(k, value);
    if let QuestionKind::Decimal { .. } = k {
        return decimal_compare(op, question, value);
    }
    let bound = |v: &CondValue, delta: i64| match v {
        CondValue::Int(n) => n
            .checked_add(delta)
            .map(CondValue::Int)
            .ok_or_else(|| LogicError::Inexpressible("the number is too large".into())),
        CondValue::Str(_) => {
            no("<, <=, > and >= compare integer and face-scale answers with whole numbers only")
        }
    };
    Ok(match op {
        Cmp::Eq => Condition::Equals { question, value },
        Cmp::Ne => Condition::Not(Box::new(Condition::Equals { question, value })),
        Cmp::Ge => Condition::AtLeast {
            question,
            value: bound(&value, 0)?,
        },
        Cmp::Gt => Condition::AtLeast {
            question,
            value: bound(&value, 1)?,
        },
        Cmp::Le => Condition::AtMost {
            question,
            value: bound(&value, 0)?,
        },
        Cmp::Lt => Condition::AtMost {
            question,
            value: bound(&value, -1)?,
        },
    })
}

/// A comparison with a decimal answer. There is no next number to step to,
/// so `>` is "at least, and not at most" (false for "don't know", as every
/// bound is) and `<` likewise. `=` and `!=` also take "don't know" and
/// "don't want to say".
fn decimal_compare(op: Cmp, question: String, value: CondValue) -> Result<Condition, LogicError> {
    let special = matches!(&value, CondValue::Str(s) if s == DONT_KNOW || s == PREFER_NOT_TO_SAY);
    if value.as_decimal().is_none() && !(special && matches!(op, Cmp::Eq | Cmp::Ne)) {
        return no("a decimal answer is compared with a number");
    }
    let at_least = || Condition::AtLeast {
        question: question.clone(),
        value: value.clone(),
    };
    let at_most = || Condition::AtMost {
        question: question.clone(),
        value: value.clone(),
    };
    let equals = || Condition::Equals {
        question: question.clone(),
        value: value.clone(),
    };
    let not = |c: Condition| Condition::Not(Box::new(c));
    Ok(match op {
        Cmp::Eq => equals(),
        Cmp::Ne => not(equals()),
        Cmp::Ge => at_least(),
        Cmp::Le => at_most(),
        Cmp::Gt => Condition::All(vec![at_least(), not(at_most())]),
        Cmp::Lt => Condition::All(vec![at_most(), not(at_least())]),
    })
}

/// What a constraint bounds: the answer, its length, or how many are picked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    Answer,
    Length,
    Count,
}

fn subject(e: &Expr) -> Option<Subject> {
    match e {
        Expr::Dot => Some(Subject::Answer),
        Expr::Call(f, args) if args.as_slice() == [Expr::Dot] => match f.as_str() {
            "string-length" => Some(Subject::Length),
            "count-selected" => Some(Subject::Count),
            _ => None,
        },
        _ => None,
    }
}

/// A date literal: `'2024-01-31'` or `date('2024-01-31')`.
fn date_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        Expr::Call(f, args) if f == "date" => match args.as_slice() {
            [Expr::Str(s)] => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Applies a `constraint` to a question's kind as bounds. Every part of the
/// constraint must be a bound the kind has, joined with `and`.
pub fn constrain(e: &Expr, kind: &mut QuestionKind) -> Result<(), LogicError> {
    let parts = match e {
        Expr::And(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    for part in parts {
        let Expr::Compare(op, a, b) = part else {
            return no("a constraint is bounds joined with 'and', e.g. . >= 0 and . <= 120");
        };
        let (op, subj, lit) = match (subject(a), subject(b)) {
            (Some(s), _) => (*op, s, &**b),
            (None, Some(s)) => (op.flipped(), s, &**a),
            (None, None) => {
                return no("a constraint compares '.', string-length(.) or count-selected(.)");
            }
        };
        let decimal = || match lit {
            Expr::Int(n) => Ok(Some(n.to_string())),
            Expr::Dec(d) => Ok(Some(d.clone())),
            _ => no("the bound must be a number"),
        };
        let int = |delta: i64| match lit {
            Expr::Int(n) => n
                .checked_add(delta)
                .ok_or_else(|| LogicError::Inexpressible("the number is too large".into())),
            _ => no("the bound must be a whole number"),
        };
        let count = |delta: i64| {
            int(delta).and_then(|n| {
                u32::try_from(n)
                    .map_err(|_| LogicError::Inexpressible(format!("{n} is not a count")))
            })
        };
        match (&mut *kind, subj, op) {
            (QuestionKind::Number { min, .. }, Subject::Answer, Cmp::Ge) => *min = int(0)?,
            (QuestionKind::Number { min, .. }, Subject::Answer, Cmp::Gt) => *min = int(1)?,
            (QuestionKind::Number { max, .. }, Subject::Answer, Cmp::Le) => *max = int(0)?,
            (QuestionKind::Number { max, .. }, Subject::Answer, Cmp::Lt) => *max = int(-1)?,
            (QuestionKind::Decimal { min, .. }, Subject::Answer, Cmp::Ge) => *min = decimal()?,
            (QuestionKind::Decimal { max, .. }, Subject::Answer, Cmp::Le) => *max = decimal()?,
            (QuestionKind::Decimal { .. }, Subject::Answer, _) => {
                return no("a decimal is bounded with >= and <= only");
            }
            (QuestionKind::Date { min, .. }, Subject::Answer, Cmp::Ge) => {
                *min = Some(date_literal(lit).ok_or_else(|| {
                    LogicError::Inexpressible("a date bound is date('YYYY-MM-DD')".into())
                })?);
            }
            (QuestionKind::Date { max, .. }, Subject::Answer, Cmp::Le) => {
                *max = Some(date_literal(lit).ok_or_else(|| {
                    LogicError::Inexpressible("a date bound is date('YYYY-MM-DD')".into())
                })?);
            }
            (QuestionKind::Date { .. }, Subject::Answer, _) => {
                return no("a date is bounded with >= and <= only");
            }
            (QuestionKind::FreeText { max_length }, Subject::Length, Cmp::Le) => {
                *max_length = Some(count(0)?);
            }
            (QuestionKind::FreeText { max_length }, Subject::Length, Cmp::Lt) => {
                *max_length = Some(count(-1)?);
            }
            (QuestionKind::MultipleChoice { min_selected, .. }, Subject::Count, Cmp::Ge) => {
                *min_selected = Some(count(0)?);
            }
            (QuestionKind::MultipleChoice { min_selected, .. }, Subject::Count, Cmp::Gt) => {
                *min_selected = Some(count(1)?);
            }
            (QuestionKind::MultipleChoice { max_selected, .. }, Subject::Count, Cmp::Le) => {
                *max_selected = Some(count(0)?);
            }
            (QuestionKind::MultipleChoice { max_selected, .. }, Subject::Count, Cmp::Lt) => {
                *max_selected = Some(count(-1)?);
            }
            (k, _, _) => {
                return no(format!(
                    "a {} question takes {}",
                    k.name(),
                    match k {
                        QuestionKind::Number { .. } => "bounds on '.' with >=, >, <=, <",
                        QuestionKind::Decimal { .. } => "bounds on '.' with >= and <=",
                        QuestionKind::Date { .. } => ". >= date('...') and . <= date('...')",
                        QuestionKind::FreeText { .. } => "string-length(.) <= N only",
                        QuestionKind::MultipleChoice { .. } => {
                            "count-selected(.) with >=, >, <=, < only"
                        }
                        _ => "no constraint",
                    }
                ));
            }
        }
    }
    Ok(())
}

/// A bound written as a number (a decimal's text unquoted).
fn number(v: &CondValue) -> String {
    match v {
        CondValue::Int(n) => n.to_string(),
        CondValue::Str(s) => s.clone(),
    }
}

fn quote(v: &CondValue) -> String {
    match v {
        CondValue::Int(n) => n.to_string(),
        CondValue::Str(s) if s.contains('\'') => format!("\"{s}\""),
        CondValue::Str(s) => format!("'{s}'"),
    }
}

/// A condition written as an XLSForm expression that [`condition`] reads back
/// as the same tree; `None` for the few trees no expression reads back as
/// (an empty or one-element `all`/`any`, a `one_of` of fewer than two).
pub fn expression<'f>(
    c: &Condition,
    kind: &dyn Fn(&str) -> Option<&'f QuestionKind>,
) -> Option<String> {
    let nested = |c: &Condition| -> Option<String> {
        let text = expression(c, kind)?;
        Some(match c {
            Condition::All(_) | Condition::Any(_) | Condition::OneOf { .. } => format!("({text})"),
            _ => text,
        })
    };
    let join = |cs: &[Condition], word: &str| -> Option<String> {
        if cs.len() < 2 {
            return None;
        }
        let parts: Option<Vec<String>> = cs.iter().map(nested).collect();
        Some(parts?.join(word))
    };
    Some(match c {
        Condition::Answered(q) => format!("${{{q}}} != ''"),
        Condition::Equals { question, value } => {
            if matches!(kind(question), Some(QuestionKind::MultipleChoice { .. })) {
                format!("selected(${{{question}}}, {})", quote(value))
            } else {
                format!("${{{question}}} = {}", quote(value))
            }
        }
        Condition::OneOf { question, values } => {
            if values.len() < 2 {
                return None;
            }
            values
                .iter()
                .map(|v| format!("selected(${{{question}}}, {})", quote(v)))
                .collect::<Vec<_>>()
                .join(" or ")
        }
        Condition::AtLeast { question, value } => format!("${{{question}}} >= {}", number(value)),
        Condition::AtMost { question, value } => format!("${{{question}}} <= {}", number(value)),
        Condition::All(cs) => join(cs, " and ")?,
        Condition::Any(cs) => join(cs, " or ")?,
        Condition::Not(inner) => format!("not({})", expression(inner, kind)?),
    })
}

/// A kind's bounds written as a constraint [`constrain`] reads back; empty
/// when the kind has none.
pub fn constraint_of(kind: &QuestionKind) -> String {
    let mut parts = Vec::new();
    match kind {
        QuestionKind::Number { min, max } => {
            if *min != i64::MIN {
                parts.push(format!(". >= {min}"));
            }
            if *max != i64::MAX {
                parts.push(format!(". <= {max}"));
            }
        }
        QuestionKind::Decimal { min, max } => {
            if let Some(d) = min {
                parts.push(format!(". >= {d}"));
            }
            if let Some(d) = max {
                parts.push(format!(". <= {d}"));
            }
        }
        QuestionKind::Date { min, max } => {
            if let Some(d) = min {
                parts.push(format!(". >= date('{d}')"));
            }
            if let Some(d) = max {
                parts.push(format!(". <= date('{d}')"));
            }
        }
        QuestionKind::FreeText {
            max_length: Some(n),
        } => parts.push(format!("string-length(.) <= {n}")),
        QuestionKind::MultipleChoice {
            min_selected,
            max_selected,
            ..
        } => {
            if let Some(n) = min_selected {
                parts.push(format!("count-selected(.) >= {n}"));
            }
            if let Some(n) = max_selected {
                parts.push(format!("count-selected(.) <= {n}"));
            }
        }
        _ => {}
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    #[test]
    fn a_decimal_compares_with_numbers_and_the_two_non_answers() {
        let decimal = QuestionKind::Decimal {
            min: Some("0.5".into()),
            max: None,
        };
        let kind = |q: &str| (q == "w").then_some(&decimal);
        let read = |e: &str| condition(&parse(e).expect("parses"), &kind);
        let dont_know = Condition::Equals {
            question: "w".into(),
            value: CondValue::Str(DONT_KNOW.into()),
        };
        assert!(matches!(read("${w} = 'dont_know'"), Ok(c) if c == dont_know));
        assert!(matches!(
            read("${w} != 'dont_know'"),
            Ok(Condition::Not(c)) if *c == dont_know
        ));
        for refused in ["${w} > 'dont_know'", "${w} = 'abc'", "${w} >= 'x'"] {
            assert!(read(refused).is_err(), "{refused}");
        }
        let at = |v: &str| CondValue::Str(v.into());
        assert!(matches!(
            read("${w} > -0.5"),
            Ok(Condition::All(parts)) if parts == [
                Condition::AtLeast { question: "w".into(), value: at("-0.5") },
                Condition::Not(Box::new(Condition::AtMost { question: "w".into(), value: at("-0.5") })),
            ]
        ));
    }
}
