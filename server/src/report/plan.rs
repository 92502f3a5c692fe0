//! Checking a query against the area's versions of its form and saying
//! what to read: which versions share the question's shape, which
//! dimensions the cube keeps, and the tally query.

use std::collections::BTreeSet;

use hark_core::form::{Form, Question};

use super::types::MAX_DIMS;
use super::types::{Excluded, ReportError, ReportQuery};
use crate::publication::month_index;
use crate::tally::{Dim, QUESTION_RESPONSES, TallyQuery};

/// A plan for one report: what to read from the tallies.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The query, checked.
    pub(super) query: ReportQuery,
    /// The newest version of the form.
    pub(super) latest: Form,
    /// The question, as the newest version asks it.
    pub(super) question: Question,
    /// The cube's dimensions, filters and split, in `Dim` order: the same
    /// cube (and the same suppression) whichever is filtered and which
    /// split.
    pub(super) dims: Vec<Dim>,
    /// Versions left out, and why.
    pub(super) excluded: Vec<Excluded>,
    /// The last month published (see [`crate::publication`]): nothing
    /// after it is read.
    pub(super) published: Option<String>,
    /// What to ask storage for.
    pub tallies: TallyQuery,
    /// The form's respondent counts over the same versions and dimensions.
    pub respondents: TallyQuery,
    /// The form's respondent counts over every version, by the same
    /// dimensions: which groups are listed (the same for every question
    /// of the form, and as the filter lists say).
    pub listing: TallyQuery,
}

impl Plan {
    /// The cube axis (after the period) of a dimension of the plan.
    pub(super) fn axis(&self, dim: Dim) -> usize {
        self.dims.iter().position(|d| *d == dim).unwrap_or(0)
    }

    /// The question, as the newest version asks it.
    pub fn question(&self) -> &Question {
        &self.question
    }

    /// The last month published when the plan was made.
    pub fn published(&self) -> Option<&str> {
        self.published.as_deref()
    }
}

/// Checks a query against the area's versions of the form and says what to
/// read: the months up to `published`, the last month published (none
/// when nothing is).
pub fn plan(
    area_id: &str,
    query: &ReportQuery,
    versions: &[Form],
    published: Option<&str>,
) -> Result<Plan, ReportError> {
    let latest = versions
        .iter()
        .max_by(|a, b| a.version.cmp(&b.version))
        .ok_or_else(|| ReportError::UnknownForm(query.form.clone()))?
        .clone();
    // A note takes no answer, so it has no report.
    let question = latest
        .questions
        .iter()
        .find(|q| q.id == query.question && q.kind.takes_answer())
        .ok_or_else(|| ReportError::UnknownQuestion {
            form: query.form.clone(),
            question: query.question.clone(),
        })?
        .clone();
    for m in [&query.from, &query.to].into_iter().flatten() {
        if month_index(m).is_none() {
            return Err(ReportError::Bad(format!("'{m}' is not a month (YYYY-MM)")));
        }
    }
    let mut dims: Vec<Dim> = query.filters.iter().map(|(d, _)| *d).collect();
    let unique: BTreeSet<Dim> = dims.iter().copied().collect();
    if unique.len() != dims.len() {
        return Err(ReportError::Bad("a dimension is filtered twice".into()));
    }
    if let Some(s) = query.split {
        if unique.contains(&s) {
            return Err(ReportError::Bad(format!(
                "cannot split by {} and filter on it",
                s.as_str()
            )));
        }
        dims.push(s);
    }
    if dims.iter().filter(|d| **d != Dim::Version).count() > MAX_DIMS {
        return Err(ReportError::Bad(format!(
            "at most {MAX_DIMS} of setting, age phase, need and pathway together"
        )));
    }
    dims.sort();
    let want = question.shape();
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for f in versions {
        match f.questions.iter().find(|q| q.id == query.question) {
            Some(q) if q.shape() == want => {
                included.push((f.id.clone(), f.version.to_string()));
            }
            Some(_) => excluded.push(Excluded {
                version: f.version.to_string(),
                reason: "the question was asked differently (its kind or options changed)".into(),
            }),
            None => excluded.push(Excluded {
                version: f.version.to_string(),
                reason: "the question was not asked".into(),
            }),
        }
    }
    excluded.sort_by(|a, b| a.version.cmp(&b.version));
    let tallies = TallyQuery {
        area_id: area_id.to_owned(),
        question: query.question.clone(),
        versions: included,
        dims: dims.clone(),
        // Always every published month: `from` and `to` only choose the
        // columns shown, so every report over the same dimensions is a
        // slice of one cube, suppressed one way.
        months: Some((String::new(), published.unwrap_or_default().to_owned())),
    };
    Ok(Plan {
        respondents: TallyQuery {
            question: QUESTION_RESPONSES.to_owned(),
            ..tallies.clone()
        },
        listing: TallyQuery {
            question: QUESTION_RESPONSES.to_owned(),
            versions: versions
                .iter()
                .map(|f| (f.id.clone(), f.version.to_string()))
                .collect(),
            ..tallies.clone()
        },
        tallies,
        query: query.clone(),
        latest,
        question,
        dims,
        excluded,
        published: published.map(str::to_owned),
    })
}
