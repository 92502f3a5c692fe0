//! Any hark form written as an XLSForm grid an author can open, edit and
//! import again: `survey` (sections as `begin group` / `end group`, one
//! page as `field-list`), `choices` (one list per question, named after
//! it), `settings`, and `safeguarding` when the form has triggers. Every
//! text column is written per language (`label::English (en)`), and every
//! condition and bound in the one shape the import reads back the same.

use hark_core::form::{ChoiceOption, Form, QuestionKind, Text};

use crate::error::ExportError;
use crate::grid::{Sheet, Workbook};
use crate::lang;
use crate::logic;

fn headers(base: &str, languages: &[String]) -> Vec<String> {
    languages
        .iter()
        .map(|l| format!("{base}::{}", lang::label(l)))
        .collect()
}

fn texts(t: Option<&Text>, languages: &[String]) -> Vec<String> {
    languages
        .iter()
        .map(|l| t.and_then(|t| t.0.get(l)).cloned().unwrap_or_default())
        .collect()
}

fn yes(b: bool) -> String {
    if b { "yes".into() } else { String::new() }
}

fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The form as XLSForm sheets.
///
/// # Errors
/// [`ExportError::Condition`] for a condition no expression reads back as.
pub fn export(form: &Form) -> Result<Workbook, ExportError> {
    let langs = &form.languages;
    let kind = |q: &str| form.question(q).map(|q| &q.kind);

    let mut survey_head = vec!["type".to_owned(), "name".to_owned()];
    for base in [
        "label",
        "hint",
        "easy_read",
        "read_aloud",
        "required_message",
        "constraint_message",
    ] {
        survey_head.extend(headers(base, langs));
    }
    survey_head.extend(
        [
            "required",
            "relevant",
            "constraint",
            "appearance",
            "allow_dont_know",
            "allow_prefer_not_to_say",
        ]
        .map(str::to_owned),
    );
    let mut survey = vec![survey_head];

    let mut choices_head = vec!["list_name".to_owned(), "name".to_owned()];
    choices_head.extend(headers("label", langs));
    choices_head.extend(headers("easy_read", langs));
    choices_head.push("symbol".to_owned());
    let mut choices = vec![choices_head];

    let width = survey[0].len();
    let group_row = |ty: &str, id: &str, title: Option<&Text>, one_page: bool| {
        let mut row = vec![ty.to_owned(), id.to_owned()];
        row.extend(texts(title, langs));
        row.resize(width, String::new());
        if one_page {
            row[width - 3] = "field-list".into();
        }
        row
    };
    let mut open: Option<&str> = None;
    for q in &form.questions {
        if q.section.as_deref() != open {
            if open.is_some() {
                survey.push(group_row("end group", "", None, false));
            }
            if let Some(s) = q.section.as_deref().and_then(|id| form.section(id)) {
                survey.push(group_row("begin group", &s.id, Some(&s.title), s.one_page));
            }
            open = q.section.as_deref();
        }
        let (ty, options): (String, &[ChoiceOption]) = match &q.kind {
            QuestionKind::FaceScale { labels, .. } => (format!("face_scale {}", q.id), labels),
            QuestionKind::SingleChoice { options } => (format!("select_one {}", q.id), options),
            QuestionKind::MultipleChoice { options, .. } => {
                (format!("select_multiple {}", q.id), options)
            }
            QuestionKind::YesNo => ("yes_no".into(), &[]),
            QuestionKind::FreeText { .. } => ("text".into(), &[]),
            QuestionKind::Number { .. } => ("integer".into(), &[]),
            QuestionKind::Decimal { .. } => ("decimal".into(), &[]),
            QuestionKind::Date { .. } => ("date".into(), &[]),
            QuestionKind::Note => ("note".into(), &[]),
        };
        let relevant = match &q.relevant {
            None => String::new(),
            Some(c) => {
                logic::expression(c, &kind).ok_or_else(|| ExportError::Condition(q.id.clone()))?
            }
        };
        let mut row = vec![ty, q.id.clone()];
        row.extend(texts(Some(&q.label), langs));
        row.extend(texts(q.hint.as_ref(), langs));
        row.extend(texts(q.easy_read.as_ref(), langs));
        row.extend(texts(q.read_aloud.as_ref(), langs));
        row.extend(texts(q.required_message.as_ref(), langs));
        row.extend(texts(q.constraint_message.as_ref(), langs));
        row.extend([
            yes(q.required),
            relevant,
            logic::constraint_of(&q.kind),
            String::new(),
            yes(q.allow_dont_know),
            yes(q.allow_prefer_not_to_say),
        ]);
        survey.push(row);
        for o in options {
            let mut row = vec![q.id.clone(), o.id.clone()];
            row.extend(texts(Some(&o.label), langs));
            row.extend(texts(o.easy_read.as_ref(), langs));
            row.push(o.symbol.clone().unwrap_or_default());
            choices.push(row);
        }
    }

    if open.is_some() {
        survey.push(group_row("end group", "", None, false));
    }

    let mut settings_head = vec!["form_id".to_owned(), "version".to_owned()];
    settings_head.extend(headers("form_title", langs));
    settings_head.extend(headers("intro", langs));
    settings_head.extend(["default_language", "audience", "theme"].map(str::to_owned));
    let mut settings_row = vec![form.id.clone(), form.version.to_string()];
    settings_row.extend(texts(Some(&form.title), langs));
    settings_row.extend(texts(form.intro.as_ref(), langs));
    settings_row.extend([
        lang::label(form.default_language()),
        form.audience.as_str().to_owned(),
        name_of(&form.theme),
    ]);

    let mut sheets = vec![
        Sheet {
            name: "survey".into(),
            rows: survey,
        },
        Sheet {
            name: "choices".into(),
            rows: choices,
        },
        Sheet {
            name: "settings".into(),
            rows: vec![settings_head, settings_row],
        },
    ];
    if !form.safeguarding.is_empty() {
        let mut head = vec!["id".to_owned(), "level".to_owned(), "when".to_owned()];
        head.extend(headers("guidance", langs));
        let mut rows = vec![head];
        for t in &form.safeguarding {
            let when = logic::expression(&t.when, &kind)
                .ok_or_else(|| ExportError::Condition(t.id.clone()))?;
            let mut row = vec![t.id.clone(), t.level.as_str().to_owned(), when];
            row.extend(texts(Some(&t.guidance), langs));
            rows.push(row);
        }
        sheets.push(Sheet {
            name: "safeguarding".into(),
            rows,
        });
    }
    Ok(Workbook { sheets })
}
