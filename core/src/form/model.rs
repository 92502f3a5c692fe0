//! The form model: plain serde data, authored as JSON. Nothing here checks
//! anything: `validate.rs` does, before any form may be used.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::condition::Condition;

/// Text in one or more languages, keyed by BCP 47 tag (`"en"`, `"cy"`, `"pl"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    /// Text in a single language.
    pub fn new(lang: &str, text: &str) -> Self {
        Self(BTreeMap::from([(lang.to_owned(), text.to_owned())]))
    }

    /// The text in `lang`, falling back to `fallback`, then to any language.
    pub fn get(&self, lang: &str, fallback: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get(fallback))
            .or_else(|| self.0.values().next())
            .map_or("", String::as_str)
    }
}

/// Who a form is written for. It decides the consent rules and the wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Children aged 4 to 7.
    #[serde(rename = "child_4_to_7")]
    Child4To7,
    /// Children aged 8 to 11.
    #[serde(rename = "child_8_to_11")]
    Child8To11,
    /// Young people aged 11 to 17.
    #[serde(rename = "young_person_11_to_17")]
    YoungPerson11To17,
    /// Young adults aged 18 to 25.
    #[serde(rename = "young_adult_18_to_25")]
    YoungAdult18To25,
    /// Parents and carers.
    ParentCarer,
}

impl Audience {
    /// Whether the respondent is a child or young person under 18, whose own
    /// assent is needed beside any consent.
    pub fn is_child(self) -> bool {
        matches!(
            self,
            Self::Child4To7 | Self::Child8To11 | Self::YoungPerson11To17
        )
    }

    /// The stable snake_case name used in documents and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Child4To7 => "child_4_to_7",
            Self::Child8To11 => "child_8_to_11",
            Self::YoungPerson11To17 => "young_person_11_to_17",
            Self::YoungAdult18To25 => "young_adult_18_to_25",
            Self::ParentCarer => "parent_carer",
        }
    }
}

/// The theme a form reports under on the leaders' dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Feeling safe at school, at home, out and about, online.
    FeelingSafe,
    /// Identification, assessment and diagnosis.
    Diagnosis,
    /// Satisfaction with a service (Friends and Family Test, ESQ style).
    Satisfaction,
    /// Information, advice and the local offer.
    Information,
    /// Being heard in plans and decisions.
    BeingHeard,
    /// Anything else an area adds.
    Other,
}

/// A survey definition. Identified by `id` and an exact semantic `version`;
/// responses pin both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// Stable identifier: lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// Semantic version. A change of wording is a patch, a new question a
    /// minor, a changed question (kind, options) a major version.
    pub version: semver::Version,
    /// Title shown to the practitioner and on the dashboard.
    pub title: Text,
    /// Optional introduction read to the respondent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Text>,
    /// Who the form is for.
    pub audience: Audience,
    /// Reporting theme.
    pub theme: Theme,
    /// Languages the form is written in; the first is the default and every
    /// text must have it.
    pub languages: Vec<String>,
    /// Sections (pages) the questions are grouped in, in order. A section's
    /// questions are contiguous and name it in [`Question::section`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    /// The questions, in order. Conditions may only look backwards.
    pub questions: Vec<Question>,
    /// Answers that raise a safeguarding flag, and what to do about it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safeguarding: Vec<Trigger>,
}

/// A section of a form: a run of questions under one title. Sections do
/// not nest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Identifier unique among the form's sections.
    pub id: String,
    /// The section's title.
    pub title: Text,
    /// Shown as one page where a device shows several questions at once
    /// (XLSForm's `field-list`); child mode still asks one at a time.
    #[serde(default, skip_serializing_if = "is_false")]
    pub one_page: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One question of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawQuestion")]
pub struct Question {
    /// Identifier unique within the form (lowercase, digits, `_`).
    pub id: String,
    /// The kind of answer and its constraints.
    #[serde(flatten)]
    pub kind: QuestionKind,
    /// The question as written for the audience.
    pub label: Text,
    /// Optional help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    /// Easy-read wording (short sentences, concrete words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<Text>,
    /// What a device reads aloud (may spell out the options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_aloud: Option<Text>,
    /// Must be answered (when relevant) before the response can be submitted.
    /// "Don't know" and "don't want to say" count as answers.
    #[serde(default)]
    pub required: bool,
    /// Skip logic: the question is asked only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Condition>,
    /// Offer "don't know" (closed questions only).
    #[serde(default)]
    pub allow_dont_know: bool,
    /// Offer "don't want to say" (closed questions only).
    #[serde(default)]
    pub allow_prefer_not_to_say: bool,
    /// The id of the section the question is in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// What to say when the question is required and left unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_message: Option<Text>,
    /// What to say when an answer is outside the question's bounds (a
    /// number, date, length or number of picks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<Text>,
}

/// A question as written: the common fields, and everything else handed to
/// [`QuestionKind`], which refuses fields its kind does not have. (serde
/// cannot combine `flatten` with `deny_unknown_fields` directly.)
#[derive(Deserialize)]
struct RawQuestion {
    id: String,
    label: Text,
    #[serde(default)]
    hint: Option<Text>,
    #[serde(default)]
    easy_read: Option<Text>,
    #[serde(default)]
    read_aloud: Option<Text>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    relevant: Option<Condition>,
    #[serde(default)]
    allow_dont_know: bool,
    #[serde(default)]
    allow_prefer_not_to_say: bool,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    required_message: Option<Text>,
    #[serde(default)]
    constraint_message: Option<Text>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl TryFrom<RawQuestion> for Question {
    type Error = String;

    fn try_from(raw: RawQuestion) -> Result<Self, String> {
        let kind = QuestionKind::deserialize(serde_json::Value::Object(raw.rest))
            .map_err(|e| format!("question '{}': {e}", raw.id))?;
        Ok(Self {
            id: raw.id,
            kind,
            label: raw.label,
            hint: raw.hint,
            easy_read: raw.easy_read,
            read_aloud: raw.read_aloud,
            required: raw.required,
            relevant: raw.relevant,
            allow_dont_know: raw.allow_dont_know,
            allow_prefer_not_to_say: raw.allow_prefer_not_to_say,
            section: raw.section,
            required_message: raw.required_message,
            constraint_message: raw.constraint_message,
        })
    }
}

/// The kind of a question with its kind-specific constraints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum QuestionKind {
    /// Faces from saddest (1) to happiest (`points`), 3 or 5 points.
    FaceScale {
        /// 3 or 5.
        points: u8,
        /// One label per point, saddest first.
        labels: Vec<ChoiceOption>,
    },
    /// Pick one option.
    SingleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// Pick any number of options, within bounds.
    MultipleChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
        /// Fewest options that may be picked (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_selected: Option<u32>,
        /// Most options that may be picked (default: all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_selected: Option<u32>,
    },
    /// Yes / no / not sure.
    YesNo,
    /// Free text, kept exactly as the respondent said it.
    FreeText {
        /// Longest answer in characters (default 4000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    /// A whole number within bounds.
    Number {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A decimal number (`2.5`) within optional bounds, written as text
    /// in the form (`"min": "0", "max": "99.5"`) so that it is exact.
    Decimal {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<String>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<String>,
    },
    /// Text shown to the respondent (the label, and any hint) with nothing
    /// to answer: a note is never required, never answered and never
    /// counted.
    Note,
    /// A calendar date (`YYYY-MM-DD`) within optional bounds.
    Date {
        /// Earliest allowed date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<String>,
        /// Latest allowed date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<String>,
    },
}

impl QuestionKind {
    /// Stable name of the kind, as written in the form's `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FaceScale { .. } => "face_scale",
            Self::SingleChoice { .. } => "single_choice",
            Self::MultipleChoice { .. } => "multiple_choice",
            Self::YesNo => "yes_no",
            Self::FreeText { .. } => "free_text",
            Self::Number { .. } => "number",
            Self::Decimal { .. } => "decimal",
            Self::Date { .. } => "date",
            Self::Note => "note",
        }
    }

    /// Whether the question takes an answer: every kind but a note.
    pub fn takes_answer(&self) -> bool {
        !matches!(self, Self::Note)
    }

    /// Closed questions may offer "don't know" and "don't want to say".
    pub fn is_closed(&self) -> bool {
        !matches!(self, Self::FreeText { .. } | Self::Note)
    }

    /// The option ids an answer may take, for choice-like kinds.
    pub fn option_ids(&self) -> Vec<&str> {
        match self {
            Self::FaceScale { labels, .. } => labels.iter().map(|o| o.id.as_str()).collect(),
            Self::SingleChoice { options } | Self::MultipleChoice { options, .. } => {
                options.iter().map(|o| o.id.as_str()).collect()
            }
            Self::YesNo => vec!["yes", "no", "not_sure"],
            _ => Vec::new(),
        }
    }
}

/// An option of a choice question or a point of a face scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Identifier unique within the question.
    pub id: String,
    /// The label.
    pub label: Text,
    /// Easy-read label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_read: Option<Text>,
    /// A symbol or emoji shown with the option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
}

/// A safeguarding trigger: when `when` holds on a submitted response, a flag
/// is raised and the practitioner is shown `guidance` at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Identifier unique within the form.
    pub id: String,
    /// The answers that raise the flag.
    pub when: Condition,
    /// How urgent the follow-up is.
    pub level: FlagLevel,
    /// What the practitioner must do (local procedure, whom to call).
    pub guidance: Text,
}

/// How urgent a safeguarding flag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagLevel {
    /// Follow up after the visit, through the team's usual route.
    Concern,
    /// Act now: follow local safeguarding procedures before leaving.
    Urgent,
}

impl FlagLevel {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Concern => "concern",
            Self::Urgent => "urgent",
        }
    }
}

/// A form's identity: id and exact version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FormRef {
    /// Form id.
    pub id: String,
    /// Exact version.
    pub version: semver::Version,
}

impl fmt::Display for FormRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.version)
    }
}

impl Form {
    /// The form as pretty JSON (the authoring format).
    pub fn to_json(&self) -> String {
        // A Form holds only strings, numbers and maps with string keys.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The form's id and version.
    pub fn form_ref(&self) -> FormRef {
        FormRef {
            id: self.id.clone(),
            version: self.version.clone(),
        }
    }

    /// The default language.
    pub fn default_language(&self) -> &str {
        self.languages.first().map_or("en", String::as_str)
    }

    /// Looks a question up by id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Looks a section up by id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The section a question is in, if any.
    pub fn section_of(&self, question: &Question) -> Option<&Section> {
        question.section.as_deref().and_then(|id| self.section(id))
    }

    /// Position of a question in the form.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }
}
