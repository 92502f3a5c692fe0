//! What a leader asks for and what a report holds: the query, the
//! finished (already suppressed) report, and why a query can be refused.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::tally::Dim;

/// Most of setting, age phase, need and pathway one report may split and
/// filter by together (the form version comes on top). Finer cuts would
/// mostly read "fewer than 5" anyway, and the published tallies keep
/// rollups of up to two (see [`crate::tally`]).
pub const MAX_DIMS: usize = 2;
/// Most months one report spans: the last 10 years (older whole quarters
/// drop out).
pub const MAX_MONTHS: usize = 120;

/// Month or quarter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// By calendar month.
    #[default]
    Month,
    /// By calendar quarter.
    Quarter,
}

/// What a leader asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportQuery {
    /// Form id.
    pub form: String,
    /// Question id.
    pub question: String,
    /// Month or quarter.
    pub granularity: Granularity,
    /// Dimension to split by.
    pub split: Option<Dim>,
    /// Dimensions to filter on, with the value kept.
    pub filters: Vec<(Dim, String)>,
    /// First month (`YYYY-MM`), inclusive.
    pub from: Option<String>,
    /// Last month (`YYYY-MM`), inclusive.
    pub to: Option<String>,
}

/// A report that cannot be made, with a reason safe to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// No such form in the area.
    #[error("unknown form '{0}'")]
    UnknownForm(String),
    /// No such question in the form's latest version.
    #[error("form '{form}' has no question '{question}'")]
    UnknownQuestion {
        /// The form asked for.
        form: String,
        /// The question asked for.
        question: String,
    },
    /// Anything else wrong with the query.
    #[error("{0}")]
    Bad(String),
}

/// A count as a leader sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Count {
    /// Respondents; `None` when hidden.
    pub n: Option<u64>,
    /// Share of the respondents who answered (0 to 1), when both are shown.
    pub share: Option<f64>,
    /// Why it is hidden: "hidden", or "not enough responses" for the
    /// breakdown of a group where fewer than 10 answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<&'static str>,
}

/// A score computed from the option counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measure {
    /// e.g. `fft_positive`.
    pub id: &'static str,
    /// e.g. "% positive".
    pub label: &'static str,
    /// The value, or `None` where it would reveal a hidden cell.
    pub value: Option<f64>,
}

/// One period of one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    /// `2026-03`, `2026-Q1` or `all`.
    pub period: String,
    /// Respondents who answered the question.
    pub answered: Count,
    /// Per option, in the order of [`Report::options`].
    pub options: Vec<Count>,
    /// Scores, where the question has any.
    pub measures: Vec<Measure>,
}

/// One group: a value of the split dimension, or everyone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// The value (`*` for everyone).
    pub key: String,
    /// Shown name.
    pub label: String,
    /// By period, then the whole range last.
    pub cells: Vec<Cell>,
}

/// An option column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionColumn {
    /// Option id (or scale point, number, `~dont_know`, `~other`).
    pub id: String,
    /// Label in the form's first language.
    pub label: String,
}

/// A version of the form left out of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excluded {
    /// Version.
    pub version: String,
    /// Why: the question was not asked, or asked differently.
    pub reason: String,
}

/// A finished report: everything in it is safe to show a leader.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Form id.
    pub form: String,
    /// Form title.
    pub form_title: String,
    /// Who the form is for.
    pub audience: hark_core::form::Audience,
    /// Question id.
    pub question: String,
    /// Question text.
    pub question_text: String,
    /// Question kind.
    pub kind: &'static str,
    /// Month or quarter.
    pub granularity: Granularity,
    /// Split dimension.
    pub split: Option<Dim>,
    /// Filters applied.
    pub filters: BTreeMap<Dim, String>,
    /// Versions included.
    pub versions: Vec<String>,
    /// Versions left out, and why.
    pub excluded_versions: Vec<Excluded>,
    /// Counts below this are hidden.
    pub threshold: u64,
    /// A group's breakdown is shown only when at least this many answered.
    pub min_breakdown: u64,
    /// Option columns.
    pub options: Vec<OptionColumn>,
    /// Periods, in order, then `all` (the range added up from them).
    pub periods: Vec<String>,
    /// The split's groups, then everyone (`*`).
    pub groups: Vec<Group>,
    /// The last month published (`YYYY-MM`): later responses are not in
    /// any figure yet.
    pub published_through: Option<String>,
    /// The day the next month is published (`YYYY-MM-DD`).
    pub next_publication: Option<String>,
}
