//! Leaders' reports (pure, given tallies and form definitions): counts and
//! shares per option, Friends and Family Test % positive and % negative,
//! experience-of-service and face-scale scores, by month or quarter, split
//! and filtered by setting, age phase, need, pathway and form version, with
//! disclosure control ([`suppress`]) applied before anything leaves
//! this module. Reports span every form version whose question is
//! unchanged (same kind, same options) and say which versions they left out.

//!
//! The pieces, in the order a report is made: `plan` (the query checked
//! against the form's versions: what to read), `cube` (the tallies read
//! into one cube per dimension set, suppressed), `slice` (the part asked
//! for, with labels), `measures` (the scores), `suppress` (the algorithm
//! and its guarantee), `types` (queries and reports); `quotes` says when
//! free text may be read.

mod cube;
mod measures;
mod plan;
pub mod quotes;
mod slice;
pub mod suppress;
mod types;

pub use cube::listed_since;
pub use plan::{Plan, plan};
pub use types::{
    Cell, Count, Excluded, Granularity, Group, MAX_DIMS, MAX_MONTHS, Measure, OptionColumn, Report,
    ReportError, ReportQuery,
};

use crate::tally::TallyRow;

/// Builds the report from the tallies `plan.tallies` asked for (`rows`),
/// the respondent counts `plan.respondents` asked for, and those
/// `plan.listing` asked for (`listing`: the same rows as `respondents`
/// when the report spans every version): cube, suppression, then the
/// slice the leader asked for. Everything in it is safe to show a leader.
pub fn build(
    plan: &Plan,
    rows: &[TallyRow],
    respondents: &[TallyRow],
    listing: &[TallyRow],
) -> Result<Report, ReportError> {
    let cube = cube::ReportCube::build(plan, rows, respondents, listing)?;
    Ok(slice::slice(plan, &cube))
}

#[cfg(test)]
mod audit;
#[cfg(test)]
mod tests;
