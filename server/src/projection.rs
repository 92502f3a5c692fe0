//! The relational projection of a response: one row, with its answers
//! (the rows the tallies and exports derive from). Pure: the ingest merge
//! produces projections, storage writes them.

use hark_core::answer::Answer;
use hark_core::response::{ResponseDoc, Status};

/// The relational projection of a response: one row, plus one per answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Form id.
    pub form_id: String,
    /// Exact form version.
    pub form_version: String,
    /// Draft or submitted: only submitted responses are counted.
    pub status: Status,
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
    /// Month of capture, `YYYY-MM`.
    pub month: String,
    /// Number of safeguarding flags raised.
    pub flags: i64,
    /// Answers: question, kind, text value, numeric value.
    pub answers: Vec<AnswerRow>,
}

impl Default for Projection {
    fn default() -> Self {
        Self {
            form_id: String::new(),
            form_version: String::new(),
            status: Status::Draft,
            setting: None,
            age_phase: None,
            need: None,
            pathway: None,
            kiosk: false,
            captured_at: 0,
            submitted_at: None,
            month: String::new(),
            flags: 0,
            answers: Vec::new(),
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
    /// Option id(s) (comma-joined for multiple choice), text or date.
    pub value_text: Option<String>,
    /// Scale point or number.
    pub value_num: Option<i64>,
}

/// The relational projection of a response.
pub fn project(response: &ResponseDoc) -> hark_core::Result<Projection> {
    let header = response.header()?;
    let answers = response
        .answers()?
        .into_iter()
        .map(|(question, answer)| answer_row(question, answer))
        .collect();
    let c = header.context;
    Ok(Projection {
        form_id: header.form.id,
        form_version: header.form.version.to_string(),
        status: header.status,
        setting: c.setting,
        age_phase: c.age_phase,
        need: c.need,
        pathway: c.pathway,
        kiosk: c.kiosk,
        captured_at: c.captured_at,
        submitted_at: header.submitted_at,
        month: month_of(c.captured_at),
        flags: i64::try_from(header.flags.len()).unwrap_or(i64::MAX),
        answers,
    })
}

/// One answer as a projected row.
pub fn answer_row(question: String, answer: Answer) -> AnswerRow {
    let kind = answer.kind().to_owned();
    let (value_text, value_num) = match answer {
        Answer::Scale(n) => (None, Some(i64::from(n))),
        Answer::Number(n) => (None, Some(n)),
        Answer::Choice(s) | Answer::Text(s) | Answer::Date(s) => (Some(s), None),
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
