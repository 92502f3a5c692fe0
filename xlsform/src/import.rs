//! An XLSForm read into hark's form model, from a grid of cells (no file
//! here). Every row is read even after a problem, so the author gets every
//! problem at once; the form the sheets describe (less the rows that had a
//! problem, and what depends on them) is then checked with the core's own
//! validation, each finding located at the cell it concerns. Without a
//! form id, version or audience there is no form to check.

use std::collections::{HashMap, HashSet};

use hark_core::form::{
    Audience, ChoiceOption, Condition, FlagLevel, Form, FormError, FormProblem, Question,
    QuestionKind, Section, Text, Theme, Trigger, valid_id,
};

use crate::error::{ImportError, Located, Location, Problem, Warning};
use crate::expr;
use crate::grid::Workbook;
use crate::lang::{self, LangName};
use crate::logic::{self, LogicError};
use crate::table::{Col, ColLang, Report, Table, row_number};
use crate::types::{MAX_ROWS, SURVEY_KNOWN, SURVEY_REFUSED, Type, read_type};

/// A form read from an XLSForm, with what was ignored or assumed.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The form, valid.
    pub form: Form,
    /// What the import ignored or assumed.
    pub warnings: Vec<Located<Warning>>,
}

fn read_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "false()" | "0" | "n" => Some(false),
        "yes" | "true" | "true()" | "1" | "y" => Some(true),
        _ => None,
    }
}

/// A form version: semver as written; ODK's `yyyymmddrr` (a date and a
/// revision) as `yyyy.mmdd.rr` with the leading zeros dropped, so
/// `2024031502` is `2024.315.2` and later dates stay later versions; a
/// bare `N` or `N.M` as `N.0.0` or `N.M.0`.
pub fn read_version(s: &str) -> Option<semver::Version> {
    let s = s.trim();
    if let Ok(v) = semver::Version::parse(s) {
        return Some(v);
    }
    if s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        let num = |r: std::ops::Range<usize>| s[r].parse::<u64>().ok();
        let (y, m, d, r) = (num(0..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
        if (1..=12).contains(&m) && (1..=31).contains(&d) {
            return Some(semver::Version::new(y, m * 100 + d, r));
        }
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    let plain = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    if parts.len() <= 2 && parts.iter().all(|p| plain(p)) {
        let major = parts.first()?.parse().ok()?;
        let minor = parts.get(1).map_or(Some(0), |p| p.parse().ok())?;
        return Some(semver::Version::new(major, minor, 0));
    }
    None
}

fn from_name<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_ascii_lowercase())).ok()
}

/// Reads an XLSForm from its sheets.
///
/// # Errors
/// Every problem found, located, with the warnings beside them.
pub fn import(wb: &Workbook) -> Result<Imported, ImportError> {
    let mut out = Report::default();
    let form = read_form(wb, &mut out);
    match form {
        Some(form) if out.problems.is_empty() => Ok(Imported {
            form,
            warnings: out.warnings,
        }),
        _ => {
            if out.problems.is_empty() {
                // read_form returns None only after reporting; keep the
                // promise of at least one problem regardless.
                out.problem(Location::sheet("survey"), Problem::NoQuestions);
            }
            Err(ImportError {
                problems: out.problems,
                warnings: out.warnings,
            })
        }
    }
}

struct Settings {
    id: Option<String>,
    version: Option<semver::Version>,
    title: Option<Text>,
    intro: Option<Text>,
    audience: Option<Audience>,
    theme: Theme,
}

fn read_form(wb: &Workbook, out: &mut Report) -> Option<Form> {
    let Some(survey) = wb.sheet("survey") else {
        out.problem(Location::sheet("survey"), Problem::MissingSheet("survey"));
        return None;
    };
    let survey = Table::read(survey, out);
    let choices = wb.sheet("choices").map(|s| Table::read(s, out));
    let settings = wb.sheet("settings").map(|s| Table::read(s, out));
    let triggers = wb.sheet("safeguarding").map(|s| Table::read(s, out));

    // The default language: settings, else the first language column.
    let settings_row = settings.as_ref().and_then(|t| t.rows().first().copied());
    let mut default = None;
    if let (Some(t), Some(r)) = (&settings, settings_row)
        && let Some((v, col)) = t.get(r, "default_language")
    {
        match lang::read(v) {
            LangName::Code(c) => default = Some(c),
            LangName::Guessed(c) => {
                out.warn(
                    t.at(r, col),
                    Warning::LanguageGuessed {
                        name: v.to_owned(),
                        code: c,
                    },
                );
                default = Some(c.to_owned());
            }
            LangName::Unknown => out.problem(t.at(r, col), Problem::LanguageCode(v.to_owned())),
        }
    }
    let tables: Vec<&Table<'_>> = [
        Some(&survey),
        choices.as_ref(),
        settings.as_ref(),
        triggers.as_ref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut languages: Vec<String> = Vec::new();
    for t in &tables {
        for c in &t.cols {
            if let ColLang::Code(code) = &c.lang
                && !languages.contains(code)
            {
                languages.push(code.clone());
            }
        }
    }
    let default =
        default.unwrap_or_else(|| languages.first().cloned().unwrap_or_else(|| "en".into()));
    languages.retain(|l| *l != default);
    languages.insert(0, default.clone());
    for t in &tables {
        t.check_duplicate_columns(&default, out);
    }

    let settings = read_settings(settings.as_ref(), settings_row, &default, out);

    // Choice lists.
    let lists = choices
        .as_ref()
        .map(|t| read_choices(t, &default, out))
        .unwrap_or_default();

    // Questions.
    let (questions, sections, seen) = read_survey(&survey, choices.as_ref(), &lists, &default, out);

    // Triggers.
    let safeguarding = triggers
        .as_ref()
        .map(|t| read_triggers(t, &questions, &seen, &default, out))
        .unwrap_or_default();

    let id = settings.id?;
    let version = settings.version?;
    let audience = settings.audience?;
    let title = settings.title.unwrap_or_else(|| {
        out.warn(
            Location::sheet("settings"),
            Warning::DefaultTitle(id.clone()),
        );
        Text::new(&default, &id)
    });
    let form = Form {
        id,
        version,
        title,
        intro: settings.intro,
        audience,
        theme: settings.theme,
        languages,
        sections,
        questions: questions.iter().map(|(q, _)| q.clone()).collect(),
        safeguarding: safeguarding.iter().map(|(t, _)| t.clone()).collect(),
    };
    let errors = validate_each(&form);
    for e in &errors {
        let at = locate(e, &survey, &questions, triggers.as_ref(), &safeguarding);
        out.problem(at, Problem::Invalid(e.clone()));
    }
    (errors.is_empty() && out.problems.is_empty()).then_some(form)
}

/// Every validation finding, not only the first: the core's validation
/// stops at one, so each question (then each trigger) is added to a form
/// of those before it that passed, and kept only if it passes too. A
/// finding that only repeats an earlier one (a reference to a question
/// that was left out) is not reported again; nor is "no questions", which
/// the survey sheet reports itself.
fn validate_each(form: &Form) -> Vec<FormError> {
    if form.validate().is_ok() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let mut probe = Form {
        questions: Vec::new(),
        sections: Vec::new(),
        safeguarding: Vec::new(),
        ..form.clone()
    };
    match probe.validate() {
        Err(e) if e.problem != FormProblem::NoQuestions => {
            errors.push(e);
            return errors;
        }
        _ => {}
    }
    let mut left_out: HashSet<&str> = HashSet::new();
    let repeats = |e: &FormError, left_out: &HashSet<&str>| matches!(&e.problem, FormProblem::UnknownReference(_, q) if left_out.contains(q.as_str()));
    // Only the sections of the questions kept so far (a section none of
    // them is in yet would be "empty").
    let used = |qs: &[Question]| -> Vec<Section> {
        form.sections
            .iter()
            .filter(|s| {
                qs.iter()
                    .any(|q| q.section.as_deref() == Some(s.id.as_str()))
            })
            .cloned()
            .collect()
    };
    for q in &form.questions {
        probe.questions.push(q.clone());
        probe.sections = used(&probe.questions);
        if let Err(e) = probe.validate() {
            probe.questions.pop();
            probe.sections = used(&probe.questions);
            if !repeats(&e, &left_out) {
                errors.push(e);
            }
            left_out.insert(&q.id);
        }
    }
    if probe.questions.is_empty() {
        return errors;
    }
    for t in &form.safeguarding {
        probe.safeguarding.push(t.clone());
        if let Err(e) = probe.validate() {
            probe.safeguarding.pop();
            if !repeats(&e, &left_out) {
                errors.push(e);
            }
        }
    }
    errors
}

/// The column of a question's row a validation finding is about.
fn question_column(p: &FormProblem) -> &'static str {
    match p {
        FormProblem::MissingText("the hint", _) => "hint",
        FormProblem::MissingText("the easy-read text", _) => "easy_read",
        FormProblem::MissingText("the read-aloud text", _) => "read_aloud",
        FormProblem::MissingText("the label", _) => "label",
        FormProblem::MissingText("the required message", _) => "required_message",
        FormProblem::MissingText("the constraint message", _) => "constraint_message",
        FormProblem::ScalePoints(_)
        | FormProblem::ScaleLabels { .. }
        | FormProblem::TooFewOptions
        | FormProblem::DuplicateOption(_)
        | FormProblem::ReservedOption(_)
        | FormProblem::MissingText(..) => "type",
        FormProblem::BadBounds(_) => "constraint",
        FormProblem::SpecialOnOpenQuestion => "allow_dont_know",
        FormProblem::AnsweredNote => "required",
        FormProblem::ReadsNote(..) => "relevant",
        FormProblem::UnknownReference(..)
        | FormProblem::ForwardReference(_)
        | FormProblem::ImpossibleValue(..) => "relevant",
        _ => "name",
    }
}

/// The column of a trigger's row a validation finding is about.
fn trigger_column(p: &FormProblem) -> &'static str {
    match p {
        FormProblem::NoGuidance => "guidance",
        FormProblem::UnknownReference(..)
        | FormProblem::ImpossibleValue(..)
        | FormProblem::ReadsNote(..) => "when",
        _ => "id",
    }
}

/// Where a validation finding is: the question's or trigger's row, at the
/// column it is about.
fn locate(
    e: &FormError,
    survey: &Table<'_>,
    questions: &[(Question, usize)],
    triggers: Option<&Table<'_>>,
    safeguarding: &[(Trigger, usize)],
) -> Location {
    if let Some(id) = &e.question {
        if let Some((_, row)) = questions.iter().find(|(q, _)| &q.id == id) {
            return survey.at_text(*row, question_column(&e.problem));
        }
        if let (Some(t), Some((_, row))) =
            (triggers, safeguarding.iter().find(|(t, _)| &t.id == id))
        {
            return t.at_text(*row, trigger_column(&e.problem));
        }
    }
    Location::sheet(if e.question.is_none() {
        "settings"
    } else {
        survey.name()
    })
}

fn read_settings(
    t: Option<&Table<'_>>,
    row: Option<usize>,
    default: &str,
    out: &mut Report,
) -> Settings {
    let mut s = Settings {
        id: None,
        version: None,
        title: None,
        intro: None,
        audience: None,
        theme: Theme::Other,
    };
    let Some(t) = t else {
        out.problem(
            Location::sheet("settings"),
            Problem::MissingSheet("settings"),
        );
        return s;
    };
    let Some(r) = row else {
        out.problem(
            Location::sheet(t.name()),
            Problem::Missing("the row of values under the settings header"),
        );
        return s;
    };
    t.check_columns(
        &[
            "form_id",
            "form_title",
            "version",
            "default_language",
            "audience",
            "theme",
            "intro",
        ],
        &[],
        out,
    );
    let missing = |out: &mut Report, base: &'static str, what: &'static str| {
        let at = match t.col(base) {
            Some(c) => t.at(r, c),
            None => Location {
                sheet: t.name().to_owned(),
                row: None,
                col: None,
                column: Some(base.to_owned()),
            },
        };
        out.problem(at, Problem::Missing(what));
    };
    // One settings value: parsed, or a problem at its cell naming what was
    // expected; `None` when absent.
    let value = |out: &mut Report,
                 base: &'static str,
                 expected: &'static str,
                 parse: &dyn Fn(&str) -> bool|
     -> Option<String> {
        let (v, col) = t.get(r, base)?;
        if parse(v) {
            Some(v.to_owned())
        } else {
            out.problem(
                t.at(r, col),
                Problem::BadValue {
                    value: v.to_owned(),
                    expected,
                },
            );
            None
        }
    };
    let present = |base: &str| t.get(r, base).is_some();
    s.id = value(
        out,
        "form_id",
        "a form id (lowercase letters, digits, '_' or '-')",
        &valid_id,
    );
    if !present("form_id") {
        missing(out, "form_id", "the form_id");
    }
    s.version = value(
        out,
        "version",
        "a version (1.2.0, or ODK's yyyymmddrr such as 2024031501)",
        &|v| read_version(v).is_some(),
    )
    .and_then(|v| read_version(&v));
    if !present("version") {
        missing(out, "version", "the version");
    }
    s.audience = value(
        out,
        "audience",
        "an audience: child_4_to_7, child_8_to_11, young_person_11_to_17, young_adult_18_to_25 or parent_carer",
        &|v| from_name::<Audience>(v).is_some(),
    )
    .and_then(|v| from_name::<Audience>(&v));
    if !present("audience") {
        missing(out, "audience", "the audience (hark's own settings column)");
    }
    if let Some(th) = value(
        out,
        "theme",
        "a theme: feeling_safe, diagnosis, satisfaction, information, being_heard or other",
        &|v| from_name::<Theme>(v).is_some(),
    )
    .and_then(|v| from_name::<Theme>(&v))
    {
        s.theme = th;
    }
    if !present("theme") {
        out.warn(Location::sheet(t.name()), Warning::DefaultTheme);
    }
    s.title = t.text(r, "form_title", default);
    s.intro = t.text(r, "intro", default);
    s
}

type Lists = HashMap<String, Vec<(ChoiceOption, usize)>>;

fn read_choices(t: &Table<'_>, default: &str, out: &mut Report) -> Lists {
    t.check_columns(
        &[
            "list_name",
            "name",
            "label",
            "easy_read",
            "symbol",
            "media::image",
        ],
        &[],
        out,
    );
    let mut lists: Lists = HashMap::new();
    let (Some(list_col), Some(_)) = (t.col("list_name"), t.col("name")) else {
        for (base, name) in [("list_name", "list_name"), ("name", "name")] {
            if t.col(base).is_none() {
                out.problem(Location::sheet(t.name()), Problem::MissingColumn(name));
            }
        }
        return lists;
    };
    for r in t.rows() {
        let Some((list, _)) = t.get(r, "list_name") else {
            out.problem(t.at(r, list_col), Problem::Missing("the list_name"));
            continue;
        };
        let Some((name, name_col)) = t.get(r, "name") else {
            out.problem(t.at_named(r, "name"), Problem::Missing("the choice's name"));
            continue;
        };
        if !valid_id(name) {
            out.problem(
                t.at(r, name_col),
                Problem::BadValue {
                    value: name.to_owned(),
                    expected: "a choice name (lowercase letters, digits, '_' or '-')",
                },
            );
            continue;
        }
        let entry = lists.entry(list.to_owned()).or_default();
        if let Some((_, first)) = entry.iter().find(|(o, _)| o.id == name) {
            out.problem(
                t.at(r, name_col),
                Problem::Duplicate {
                    name: name.to_owned(),
                    first_row: row_number(*first),
                },
            );
            continue;
        }
        // A symbol from `symbol`, or from `media::image` in any language;
        // hark has one symbol per option, so they must agree.
        let mut symbols: Vec<(&str, &Col)> = t
            .cols
            .iter()
            .filter(|c| c.base == "symbol" || c.base == "media::image")
            .map(|c| (t.cell(r, c), c))
            .filter(|(v, _)| !v.is_empty())
            .collect();
        symbols.dedup_by(|a, b| a.0 == b.0);
        let symbol = match symbols.as_slice() {
            [] => None,
            [(v, _)] => Some((*v).to_owned()),
            [_, (v, c), ..] => {
                out.problem(
                    t.at(r, c),
                    Problem::BadValue {
                        value: (*v).to_owned(),
                        expected: "the same symbol as the other symbol column: an option has one symbol in every language",
                    },
                );
                None
            }
        };
        entry.push((
            ChoiceOption {
                id: name.to_owned(),
                label: t.text(r, "label", default).unwrap_or_default(),
                easy_read: t.text(r, "easy_read", default),
                symbol,
            },
            r,
        ));
    }
    lists
}

fn read_survey(
    t: &Table<'_>,
    choices: Option<&Table<'_>>,
    lists: &Lists,
    default: &str,
    out: &mut Report,
) -> (Vec<(Question, usize)>, Vec<Section>, Seen) {
    t.check_columns(SURVEY_KNOWN, SURVEY_REFUSED, out);
    let mut questions: Vec<(Question, usize)> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    // The open group: its section (None when its row had a problem), its
    // row, and how many rows and questions it has so far.
    let mut group: Option<(Option<Section>, usize, usize, usize)> = None;
    if t.rows().len() > MAX_ROWS {
        out.problem(
            Location::sheet(t.name()),
            Problem::TooLarge {
                rows: t.rows().len(),
                max: MAX_ROWS,
            },
        );
        return (questions, sections, Seen::default());
    }
    let Some(type_col) = t.col("type") else {
        out.problem(Location::sheet(t.name()), Problem::MissingColumn("type"));
        return (questions, sections, Seen::default());
    };
    if t.col("name").is_none() {
        out.problem(Location::sheet(t.name()), Problem::MissingColumn("name"));
        return (questions, sections, Seen::default());
    }
    // Every name on the sheet, to tell a later question from an unknown one,
    // and the names of rows that could not be read, whose references are
    // not reported again.
    let mut seen = Seen::default();
    let mut rows = 0;
    let mut metadata_rows = 0;
    for r in t.rows() {
        if let Some((n, _)) = t.get(r, "name") {
            seen.names.entry(n.to_owned()).or_insert(r);
        }
    }
    for r in t.rows() {
        rows += 1;
        let name = t.get(r, "name").map(|(n, _)| n);
        let Some((ty, _)) = t.get(r, "type") else {
            out.problem(t.at(r, type_col), Problem::Missing("the type"));
            seen.broken.extend(name.map(str::to_owned));
            continue;
        };
        let (mut kind, list) = match read_type(ty) {
            Type::Question(k, l) => (k, l),
            Type::BeginGroup => {
                if let Some((_, first, ..)) = &group {
                    out.problem(
                        t.at(r, type_col),
                        Problem::Nested {
                            first_row: row_number(*first),
                        },
                    );
                    continue;
                }
                let section = read_group(t, r, &seen, default, out);
                group = Some((section, r, 0, 0));
                continue;
            }
            Type::EndGroup => {
                match group.take() {
                    None => out.problem(t.at(r, type_col), Problem::UnopenedGroup),
                    Some((_, first, 0, _)) => {
                        out.problem(
                            t.at(r, type_col),
                            Problem::EmptyGroup {
                                first_row: row_number(first),
                            },
                        );
                    }
                    // A group whose questions all had problems is left out
                    // with them.
                    Some((Some(section), _, _, n)) if n > 0 => sections.push(section),
                    Some(_) => {}
                }
                continue;
            }
            Type::Metadata => {
                metadata_rows += 1;
                out.warn(t.at(r, type_col), Warning::Metadata(ty.to_owned()));
                seen.metadata.extend(name.map(str::to_owned));
                continue;
            }
            Type::Refused(p) => {
                out.problem(t.at(r, type_col), p);
                seen.broken.extend(name.map(str::to_owned));
                continue;
            }
        };
        if let Some((_, _, rows, _)) = &mut group {
            *rows += 1;
        }
        if let Some((a, col)) = t.get(r, "appearance") {
            out.warn(t.at(r, col), Warning::IgnoredAppearance(a.to_owned()));
        }
        let mut ok = true;
        // The name.
        let Some((id, named)) = row_name(
            t,
            r,
            &seen,
            out,
            "the question's name",
            "a question name (lowercase letters, digits and '_')",
        ) else {
            continue;
        };
        ok &= named;
        // The options.
        if let Some(list) = list {
            match lists.get(list) {
                Some(opts) => {
                    let opts: Vec<ChoiceOption> = opts.iter().map(|(o, _)| o.clone()).collect();
                    match &mut kind {
                        QuestionKind::SingleChoice { options }
                        | QuestionKind::MultipleChoice { options, .. } => *options = opts,
                        QuestionKind::FaceScale { points, labels } => {
                            *points = u8::try_from(opts.len()).unwrap_or(u8::MAX);
                            *labels = opts;
                        }
                        _ => {}
                    }
                }
                None => {
                    // A list whose rows all had problems is not reported twice.
                    let reported = choices.is_some_and(|c| {
                        c.rows()
                            .iter()
                            .any(|&cr| c.get(cr, "list_name").is_some_and(|(l, _)| l == list))
                    });
                    if !reported {
                        out.problem(t.at(r, type_col), Problem::UnknownList(list.to_owned()));
                    }
                    ok = false;
                }
            }
        }
        // Flags.
        let mut flag = |base: &str, out: &mut Report| {
            match t.get(r, base) {
            None => false,
            Some((v, col)) => read_bool(v).unwrap_or_else(|| {
                out.problem(
                    t.at(r, col),
                    if base == "required" && (v.contains("${") || v.contains('(')) {
                        Problem::Unsupported {
                            what: format!("required '{v}'"),
                            why: "a question is required or not; use relevant to ask it only sometimes",
                        }
                    } else {
                        Problem::BadValue {
                            value: v.to_owned(),
                            expected: "yes or no",
                        }
                    },
                );
                ok = false;
                false
            }),
        }
        };
        let required = flag("required", out);
        let allow_dont_know = flag("allow_dont_know", out);
        let allow_prefer_not_to_say = flag("allow_prefer_not_to_say", out);
        // The constraint.
        if let Some((c, col)) = t.get(r, "constraint") {
            match expr::parse(c) {
                Err(e) => {
                    out.problem(
                        t.at(r, col),
                        Problem::Syntax {
                            expr: c.to_owned(),
                            message: e.message,
                        },
                    );
                    ok = false;
                }
                Ok(e) => {
                    if let Err(LogicError::Inexpressible(why) | LogicError::Unknown(why)) =
                        logic::constrain(&e, &mut kind)
                    {
                        out.problem(
                            t.at(r, col),
                            Problem::Inexpressible {
                                expr: c.to_owned(),
                                why,
                            },
                        );
                        ok = false;
                    }
                }
            }
        }
        // Skip logic, over the questions before this one.
        let mut relevant = None;
        if let Some((c, col)) = t.get(r, "relevant") {
            let earlier = |q: &str| {
                questions
                    .iter()
                    .find(|(x, _)| x.id == q)
                    .map(|(x, _)| &x.kind)
            };
            match read_condition(c, &earlier, Some(r), &seen) {
                Ok(cond) => relevant = Some(cond),
                Err(Some(p)) => {
                    out.problem(t.at(r, col), p);
                    ok = false;
                }
                Err(None) => ok = false,
            }
        }
        if !ok {
            seen.broken.insert(id);
            continue;
        }
        questions.push((
            Question {
                id,
                kind,
                label: t.text(r, "label", default).unwrap_or_default(),
                hint: t.text(r, "hint", default),
                easy_read: t.text(r, "easy_read", default),
                read_aloud: t.text(r, "read_aloud", default),
                required_message: t.text(r, "required_message", default),
                constraint_message: t.text(r, "constraint_message", default),
                required,
                relevant,
                allow_dont_know,
                allow_prefer_not_to_say,
                section: group
                    .as_ref()
                    .and_then(|(s, ..)| s.as_ref().map(|s| s.id.clone())),
            },
            r,
        ));
        if let Some((_, _, _, n)) = &mut group {
            *n += 1;
        }
    }
    if let Some((_, first, ..)) = group {
        out.problem(
            t.at(first, type_col),
            Problem::Missing("the 'end group' row for this group"),
        );
    }
    // Metadata alone is no survey.
    if rows == metadata_rows {
        out.problem(Location::sheet(t.name()), Problem::NoQuestions);
    }
    (questions, sections, seen)
}

/// A row's `name` (a question's or a group's), checked as an id and
/// against the names used on other rows; `None`, with the problem
/// reported, when it is missing. The flag says it passed both checks.
fn row_name(
    t: &Table<'_>,
    r: usize,
    seen: &Seen,
    out: &mut Report,
    missing: &'static str,
    expected: &'static str,
) -> Option<(String, bool)> {
    let Some((n, col)) = t.get(r, "name") else {
        out.problem(t.at_named(r, "name"), Problem::Missing(missing));
        return None;
    };
    let mut ok = true;
    if !valid_id(n) {
        out.problem(
            t.at(r, col),
            Problem::BadValue {
                value: n.to_owned(),
                expected,
            },
        );
        ok = false;
    }
    if let Some(&first) = seen.names.get(n)
        && first != r
    {
        out.problem(
            t.at(r, col),
            Problem::Duplicate {
                name: n.to_owned(),
                first_row: row_number(first),
            },
        );
        ok = false;
    }
    Some((n.to_owned(), ok))
}

/// A `begin group` row as a section: its name, its label (the title) and
/// `field-list` (one page); `None` after reporting a problem.
fn read_group(
    t: &Table<'_>,
    r: usize,
    seen: &Seen,
    default: &str,
    out: &mut Report,
) -> Option<Section> {
    let mut ok = true;
    let (id, named) = row_name(
        t,
        r,
        seen,
        out,
        "the group's name",
        "a group name (lowercase letters, digits and '_')",
    )?;
    ok &= named;
    let Some(title) = t.text(r, "label", default) else {
        out.problem(
            t.at_named(r, "label"),
            Problem::Missing("the group's label (the section's title)"),
        );
        return None;
    };
    if let Some((_, col)) = t.get(r, "relevant") {
        out.problem(
            t.at(r, col),
            Problem::Unsupported {
                what: "relevant on a group".into(),
                why: "put the condition on each question of the group",
            },
        );
        ok = false;
    }
    let mut one_page = false;
    if let Some((a, col)) = t.get(r, "appearance") {
        if a.trim().eq_ignore_ascii_case("field-list") {
            one_page = true;
        } else {
            out.warn(t.at(r, col), Warning::IgnoredAppearance(a.to_owned()));
        }
    }
    ok.then_some(Section {
        id,
        title,
        one_page,
    })
}

/// The names on the survey sheet, to tell a later question, a metadata row
/// and a row that could not be read (its problem already reported) from a
/// name that is nowhere.
#[derive(Default)]
struct Seen {
    /// Every name, with its first row.
    names: HashMap<String, usize>,
    /// Names of rows that had a problem.
    broken: HashSet<String>,
    /// Names of metadata rows (skipped with a warning).
    metadata: HashSet<String>,
}

/// Reads a condition; `Err(None)` when it refers to a question whose row
/// already had a problem (reported there). `row` is the condition's own
/// row on the survey sheet, for `relevant`.
fn read_condition<'f>(
    src: &str,
    kind: &dyn Fn(&str) -> Option<&'f QuestionKind>,
    row: Option<usize>,
    seen: &Seen,
) -> Result<Condition, Option<Problem>> {
    let e = expr::parse(src).map_err(|e| {
        Some(Problem::Syntax {
            expr: src.to_owned(),
            message: e.message,
        })
    })?;
    logic::condition(&e, kind).map_err(|err| match err {
        LogicError::Inexpressible(why) => Some(Problem::Inexpressible {
            expr: src.to_owned(),
            why,
        }),
        // Report the first name that is neither known nor on a row that
        // already had its problem reported.
        LogicError::Unknown(_) => e
            .refs()
            .into_iter()
            .find(|q| kind(q).is_none() && !seen.broken.contains(*q))
            .map(|q| Problem::Reference {
                expr: src.to_owned(),
                where_: if seen.metadata.contains(q) {
                    "a question: it is metadata, which hark does not keep"
                } else if row.is_some_and(|row| seen.names.get(q).is_some_and(|&r| r >= row)) {
                    "an earlier question"
                } else {
                    "a question on the survey sheet"
                },
                question: q.to_owned(),
            }),
    })
}

fn read_triggers(
    t: &Table<'_>,
    questions: &[(Question, usize)],
    seen: &Seen,
    default: &str,
    out: &mut Report,
) -> Vec<(Trigger, usize)> {
    t.check_columns(&["id", "level", "when", "guidance"], &[], out);
    let mut triggers: Vec<(Trigger, usize)> = Vec::new();
    if t.rows().len() > MAX_ROWS {
        out.problem(
            Location::sheet(t.name()),
            Problem::TooLarge {
                rows: t.rows().len(),
                max: MAX_ROWS,
            },
        );
        return triggers;
    }
    for base in ["id", "level", "when"] {
        if t.col(base).is_none() {
            out.problem(
                Location::sheet(t.name()),
                Problem::MissingColumn(match base {
                    "id" => "id",
                    "level" => "level",
                    _ => "when",
                }),
            );
            return triggers;
        }
    }
    let kind = |q: &str| {
        questions
            .iter()
            .find(|(x, _)| x.id == q)
            .map(|(x, _)| &x.kind)
    };
    for r in t.rows() {
        let mut ok = true;
        let id = match t.get(r, "id") {
            Some((v, col)) => {
                if !valid_id(v) {
                    out.problem(
                        t.at(r, col),
                        Problem::BadValue {
                            value: v.to_owned(),
                            expected: "a trigger id (lowercase letters, digits, '_' or '-')",
                        },
                    );
                    ok = false;
                }
                if let Some((_, first)) = triggers.iter().find(|(x, _)| x.id == v) {
                    out.problem(
                        t.at(r, col),
                        Problem::Duplicate {
                            name: v.to_owned(),
                            first_row: row_number(*first),
                        },
                    );
                    ok = false;
                }
                v.to_owned()
            }
            None => {
                out.problem(t.at_named(r, "id"), Problem::Missing("the trigger's id"));
                continue;
            }
        };
        let level = match t.get(r, "level") {
            Some((v, col)) => from_name::<FlagLevel>(v).unwrap_or_else(|| {
                out.problem(
                    t.at(r, col),
                    Problem::BadValue {
                        value: v.to_owned(),
                        expected: "a level: concern or urgent",
                    },
                );
                ok = false;
                FlagLevel::Concern
            }),
            None => {
                out.problem(t.at_named(r, "level"), Problem::Missing("the level"));
                ok = false;
                FlagLevel::Concern
            }
        };
        let when = match t.get(r, "when") {
            Some((c, col)) => match read_condition(c, &kind, None, seen) {
                Ok(cond) => Some(cond),
                Err(p) => {
                    if let Some(p) = p {
                        out.problem(t.at(r, col), p);
                    }
                    ok = false;
                    None
                }
            },
            None => {
                out.problem(
                    t.at_named(r, "when"),
                    Problem::Missing("the condition (when)"),
                );
                ok = false;
                None
            }
        };
        if let (true, Some(when)) = (ok, when) {
            triggers.push((
                Trigger {
                    id,
                    when,
                    level,
                    guidance: t.text(r, "guidance", default).unwrap_or_default(),
                },
                r,
            ));
        }
    }
    triggers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_semver_odk_and_plain() {
        let v = |s: &str| read_version(s).map(|v| v.to_string());
        assert_eq!(v("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(v("2.0.0-beta.1").as_deref(), Some("2.0.0-beta.1"));
        assert_eq!(v("2024031502").as_deref(), Some("2024.315.2"));
        assert_eq!(v("2024120100").as_deref(), Some("2024.1201.0"));
        assert_eq!(v("3").as_deref(), Some("3.0.0"));
        assert_eq!(v("1.5").as_deref(), Some("1.5.0"));
        // Later ODK versions are later semver versions.
        assert!(read_version("2024031502") < read_version("2024031601"));
        assert!(read_version("2024093099") < read_version("2024100100"));
        for bad in [
            "",
            "v1",
            "2024133101",
            "2024010001",
            "01.2",
            "1.2.3.4",
            "next",
        ] {
            assert_eq!(read_version(bad), None, "{bad}");
        }
    }
}
