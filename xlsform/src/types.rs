//! The survey sheet's `type` column: what hark reads as a question or a
//! section (`begin group` / `end group`), what it skips (metadata) and what
//! it refuses, with the reason an author can act
//! on; and the survey columns it reads, refuses or ignores.

use hark_core::form::QuestionKind;

use crate::error::Problem;

/// What the `type` column asks for.
pub(crate) enum Type<'a> {
    Question(QuestionKind, Option<&'a str>),
    /// `begin group`: a section starts (its name, label and appearance on
    /// the row).
    BeginGroup,
    /// `end group`: the open section ends.
    EndGroup,
    Metadata,
    Refused(Problem),
}

const METADATA: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
];

fn unsupported(what: String, why: &'static str) -> Problem {
    Problem::Unsupported { what, why }
}

pub(crate) fn read_type(raw: &str) -> Type<'_> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let first = words
        .first()
        .map_or(String::new(), |w| w.to_ascii_lowercase());
    let what = || format!("type '{}'", words.join(" "));
    let choice = |kind: QuestionKind| match words.as_slice() {
        [_, list] => Type::Question(kind, Some(list)),
        [_] => Type::Refused(Problem::Missing("the choice list after the type")),
        [_, _, extra, ..] if extra.eq_ignore_ascii_case("or_other") => Type::Refused(unsupported(
            what(),
            "'or_other' adds a free-text 'other' hark cannot count; add an option and a text question shown when it is picked",
        )),
        _ => Type::Refused(Problem::UnknownType(words.join(" "))),
    };
    let group = |w: &str| words.get(1).is_some_and(|x| x.eq_ignore_ascii_case(w));
    match first.as_str() {
        "select_one" => choice(QuestionKind::SingleChoice { options: vec![] }),
        "select_multiple" => choice(QuestionKind::MultipleChoice {
            options: vec![],
            min_selected: None,
            max_selected: None,
        }),
        "face_scale" => choice(QuestionKind::FaceScale {
            points: 0,
            labels: vec![],
        }),
        "text" | "integer" | "int" | "decimal" | "date" | "yes_no" | "note" if words.len() > 1 => {
            Type::Refused(Problem::UnknownType(words.join(" ")))
        }
        "text" => Type::Question(QuestionKind::FreeText { max_length: None }, None),
        "integer" | "int" => Type::Question(
            QuestionKind::Number {
                min: i64::MIN,
                max: i64::MAX,
            },
            None,
        ),
        "decimal" => Type::Question(
            QuestionKind::Decimal {
                min: None,
                max: None,
            },
            None,
        ),
        "date" => Type::Question(
            QuestionKind::Date {
                min: None,
                max: None,
            },
            None,
        ),
        "yes_no" => Type::Question(QuestionKind::YesNo, None),
        "note" => Type::Question(QuestionKind::Note, None),
        m if METADATA.contains(&m) && words.len() == 1 => Type::Metadata,
        "begin" | "end" if group("repeat") => Type::Refused(unsupported(
            what(),
            "repeats need answers per item, which hark's responses do not have",
        )),
        "begin" if group("group") && words.len() == 2 => Type::BeginGroup,
        "end" if group("group") && words.len() == 2 => Type::EndGroup,
        "begin_group" if words.len() == 1 => Type::BeginGroup,
        "end_group" if words.len() == 1 => Type::EndGroup,
        "begin_repeat" | "end_repeat" => Type::Refused(unsupported(
            what(),
            "repeats need answers per item, which hark's responses do not have",
        )),
        "range" => Type::Refused(unsupported(
            what(),
            "a range is a slider hark does not show; use integer or decimal with a constraint",
        )),
        "calculate" | "hidden" => Type::Refused(unsupported(what(), "hark forms compute nothing")),
        "geopoint" | "geotrace" | "geoshape" | "start-geopoint" => {
            Type::Refused(unsupported(what(), "hark records no location"))
        }
        "select_one_from_file" | "select_multiple_from_file" | "select_one_external" => {
            Type::Refused(unsupported(what(), "choices must be on the choices sheet"))
        }
        "image" | "audio" | "video" | "file" | "barcode" | "background-audio" => {
            Type::Refused(unsupported(what(), "hark collects no files or media"))
        }
        "time" | "datetime" | "acknowledge" | "rank" | "trigger" | "xml-external"
        | "csv-external" | "osm" => Type::Refused(unsupported(
            what(),
            "hark has no such question; see the supported types in the README",
        )),
        _ => Type::Refused(Problem::UnknownType(words.join(" "))),
    }
}

/// Most rows read from the survey or safeguarding sheet (a survey of 2,000
/// questions is far past any real one; validation is quadratic in them).
pub(crate) const MAX_ROWS: usize = 2000;

pub(crate) const SURVEY_KNOWN: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "easy_read",
    "read_aloud",
    "required",
    "required_message",
    "constraint_message",
    "relevant",
    "constraint",
    "appearance",
    "allow_dont_know",
    "allow_prefer_not_to_say",
];

pub(crate) const SURVEY_REFUSED: &[(&str, &str)] = &[
    ("calculation", "hark forms compute nothing"),
    (
        "choice_filter",
        "hark shows every option of a list; split the list instead",
    ),
    ("repeat_count", "hark forms have no repeats"),
    ("default", "hark questions start unanswered"),
    (
        "read_only",
        "every hark question is answered by the respondent",
    ),
    ("trigger", "hark forms compute nothing"),
    ("parameters", "hark questions take no parameters"),
];
