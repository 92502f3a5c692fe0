//! The relational projection of a response: one row, with the answers
//! that count (the rows the tallies and exports derive from) and the data
//! problems found in it. Pure: `validate.rs` makes projections, storage
//! writes them.

use hark_core::answer::Answer;
use hark_core::lists::ListDim;
use hark_core::response::Status;

/// The relational projection of a response: one row, plus one per answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Form id.
    pub form_id: String,
    /// Exact form version.
    pub form_version: String,
    /// Draft or submitted.
    pub status: Status,
    /// Counted in reports: submitted, with consent and assent as the
    /// audience requires (see `validate.rs`).
    pub counted: bool,
    /// Setting, where recorded.
    pub setting: Option<String>,
    /// Age phase, where recorded.
    pub age_phase: Option<String>,
    /// Need, where recorded.
    pub need: Option<String>,
    /// Pathway, where recorded.
    pub pathway: Option<String>,
    /// Captured at a kiosk.
    pub kiosk: bool,
    /// Capture time, ms since the epoch.
    pub captured_at: i64,
    /// Submission time, ms since the epoch.
    pub submitted_at: Option<i64>,
    /// The month it counts in, `YYYY-MM`: its month of capture as
    /// checked, which storage may move to a later month when it is first
    /// counted ([`crate::publication::counted_month`]).
    pub month: String,
    /// The server's month when it was checked (empty: not known, taken as
    /// the month of capture).
    pub arrived_month: String,
    /// The month it was first counted in, kept (by storage) when it stops
    /// being counted (reopened, consent withdrawn), so that counting it
    /// again puts it back there, never in a second month.
    pub counted_in: Option<String>,
    /// Number of safeguarding flags raised.
    pub flags: i64,
    /// The answers that count (those skip logic asks), by question.
    pub answers: Vec<AnswerRow>,
    /// What the merged document held that the form would not accept as
    /// is, and how it was counted.
    pub problems: Vec<Problem>,
    /// The safeguarding triggers the counted answers raise (checked by the
    /// server, whatever the device recorded), with who and where.
    pub safeguarding: Option<Safeguarding>,
}

/// The safeguarding side of a submitted response: what the safeguarding
/// lead needs to follow it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Safeguarding {
    /// The visit or event.
    pub occasion: Option<String>,
    /// The practitioner's staff code (none in kiosk mode).
    pub practitioner: Option<String>,
    /// (trigger id, level, raised at in ms), one per trigger raised.
    pub raised: Vec<(String, String, i64)>,
}

impl Projection {
    /// The month stored as the one it was first counted in: its month
    /// while counted, what was kept otherwise.
    pub fn counted_in_month(&self) -> Option<&str> {
        if self.counted {
            Some(&self.month)
        } else {
            self.counted_in.as_deref()
        }
    }
}

impl Default for Projection {
    fn default() -> Self {
        Self {
            form_id: String::new(),
            form_version: String::new(),
            status: Status::Draft,
            counted: false,
            setting: None,
            age_phase: None,
            need: None,
            pathway: None,
            kiosk: false,
            captured_at: 0,
            submitted_at: None,
            month: String::new(),
            arrived_month: String::new(),
            counted_in: None,
            flags: 0,
            answers: Vec::new(),
            problems: Vec::new(),
            safeguarding: None,
        }
    }
}

/// Something a merged response holds that the form would not accept as
/// is, and how it was counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    /// An answer to a question skip logic does not ask: not counted.
    NotAsked(String),
    /// Submitted without a required answer: counted, unanswered.
    MissingRequired(String),
    /// Submitted without consent or assent as the audience requires:
    /// stored, not counted.
    NoConsent,
    /// A value not on the area's list: counted as "other".
    NotOnList(ListDim),
}

impl Problem {
    /// Stable name (stored, and shown to administrators).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotAsked(_) => "not_asked",
            Self::MissingRequired(_) => "missing_required",
            Self::NoConsent => "no_consent",
            Self::NotOnList(_) => "not_on_list",
        }
    }

    /// The question or list concerned, if any.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::NotAsked(q) | Self::MissingRequired(q) => Some(q),
            Self::NoConsent => None,
            Self::NotOnList(d) => Some(d.as_str()),
        }
    }

    /// Rebuilds a problem from its stored name and subject.
    pub fn parse(kind: &str, subject: Option<&str>) -> Option<Self> {
        Some(match kind {
            "not_asked" => Self::NotAsked(subject?.to_owned()),
            "missing_required" => Self::MissingRequired(subject?.to_owned()),
            "no_consent" => Self::NoConsent,
            "not_on_list" => Self::NotOnList(ListDim::parse(subject?)?),
            _ => return None,
        })
    }

    /// What a device is told about it.
    pub fn notice(&self) -> String {
        match self {
            Self::NotAsked(q) => {
                format!("the answer to '{q}' is not counted: skip logic does not ask it")
            }
            Self::MissingRequired(q) => format!("counted without an answer to required '{q}'"),
            Self::NoConsent => {
                "stored but not counted: consent or assent is not recorded as given".to_owned()
            }
            Self::NotOnList(d) => format!(
                "the {} is not on the area's list: counted as other",
                d.as_str()
            ),
        }
    }
}

/// One answer, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRow {
    /// Question id.
    pub question: String,
    /// Answer kind ([`Answer::kind`]: `scale`, `choice`, `choices`, ...).
    pub kind: String,
    /// Option id(s) (comma-joined for multiple choice), text, date, or a
    /// decimal's exact text.
    pub value_text: Option<String>,
    /// Scale point or number.
    pub value_num: Option<i64>,
}

/// One answer as a projected row.
pub fn answer_row(question: String, answer: Answer) -> AnswerRow {
    let kind = answer.kind().to_owned();
    let (value_text, value_num) = match answer {
        Answer::Scale(n) => (None, Some(i64::from(n))),
        Answer::Number(n) => (None, Some(n)),
        Answer::Choice(s) | Answer::Text(s) | Answer::Date(s) | Answer::Decimal(s) => {
            (Some(s), None)
        }
        Answer::Choices(v) => (Some(v.join(",")), None),
        Answer::DontKnow | Answer::PreferNotToSay => (None, None),
    };
    AnswerRow {
        question,
        kind,
        value_text,
        value_num,
    }
}

/// `YYYY-MM` of a time in ms since the epoch (UTC).
pub fn month_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| format!("{:04}-{:02}", t.year(), u8::from(t.month())))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_700_000_000_000), "2023-11");
    }
}
