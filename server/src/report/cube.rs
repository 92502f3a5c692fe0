//! A report's cube: period (months, then quarters, then the whole range)
//! × the plan's dimensions × the question's values, filled from the
//! tallies and suppressed ([`super::suppress`]) before anything is read
//! from it, its "answered" cells tied to the form's respondent counts
//! (suppressed first, in a cube of their own). The cube depends only on the data and on which dimensions the
//! report uses, never on the range, filter values or period asked for, so
//! every report over the same dimensions is a slice of one suppressed
//! table.

use std::collections::{BTreeMap, BTreeSet};

use hark_core::answer::{Decimal, parse_decimal};
use hark_core::form::QuestionKind;

use super::measures::scores_for;
use super::plan::Plan;
use super::suppress::{Axis, Cube, Line, THRESHOLD};
use super::types::{MAX_MONTHS, ReportError};
use crate::tally::{Dim, TallyRow, VALUE_ANSWERED, VALUE_DONT_KNOW, VALUE_OTHER, VALUE_PREFER_NOT};

/// The suppressed cube of a report, with what each axis position means.
#[derive(Debug)]
pub(super) struct ReportCube {
    /// Counts and their suppression.
    pub cube: Cube,
    /// Every month from the first recorded to the last (month indices).
    pub months: Vec<i64>,
    /// Their quarters, in order (`2026-Q1`).
    pub quarters: Vec<String>,
    /// Each dimension's values seen, in the plan's order (versions in
    /// semver order).
    pub dim_values: Vec<Vec<String>>,
    /// The option axis: the form's options (or scale points), "don't know"
    /// and "don't want to say" where offered, anything else at least
    /// [`THRESHOLD`] gave, and [`VALUE_OTHER`] pooling the rest.
    pub option_ids: Vec<String>,
    /// A filter names a value never recorded: the report is all zeros (and
    /// the cube, so every other report's suppression, is left as it is).
    pub nobody: bool,
}

impl ReportCube {
    /// Fills the cube from the tallies `plan.tallies` asked for (`rows`)
    /// and the form's respondent counts `plan.respondents` asked for, adds
    /// up its totals and suppresses it.
    pub fn build(
        plan: &Plan,
        rows: &[TallyRow],
        respondents: &[TallyRow],
    ) -> Result<Self, ReportError> {
        let both = || rows.iter().chain(respondents);
        let months = month_span(both());
        if months.len() > MAX_MONTHS {
            return Err(ReportError::Bad(format!(
                "at most {MAX_MONTHS} months of data in one report"
            )));
        }
        let mut quarters: Vec<String> = months.iter().map(|&m| quarter_of(m)).collect();
        quarters.dedup();
        let dim_values = dimension_values(plan, both());
        let nobody = plan
            .query
            .filters
            .iter()
            .any(|(d, v)| !dim_values[plan.axis(*d)].contains(v));
        let option_ids = option_ids(plan, rows);
        let mut axes = vec![period_axis(&months, &quarters)];
        axes.extend(dim_values.iter().map(|v| Axis::dimension(v.len())));
        let mut base = Cube::new(axes.clone());
        axes.push(option_axis(plan, option_ids.len()));
        let options_axis = axes.len() - 1;
        let mut this = Self {
            cube: Cube::new(axes)
                .with_breakdown(options_axis)
                .with_classes(classes(plan, &option_ids)),
            months,
            quarters,
            dim_values,
            option_ids,
            nobody,
        };
        for (coord, n) in this.coords(respondents) {
            base.add(&coord[..coord.len() - 1], n);
        }
        base.aggregate();
        base.suppress();
        for (coord, n) in this.coords(rows) {
            this.cube.add(&coord, n);
        }
        this.cube.aggregate();
        this.cube.base(&base);
        this.cube.suppress();
        Ok(this)
    }

    /// Position of "answered" on the option axis.
    pub fn answered(&self) -> usize {
        self.option_ids.len()
    }

    /// Position of the whole range on the period axis.
    pub fn all_period(&self) -> usize {
        self.months.len() + self.quarters.len()
    }

    /// Each row's cell and count.
    fn coords(&self, rows: &[TallyRow]) -> Vec<(Vec<usize>, u64)> {
        let month_pos: BTreeMap<String, usize> = self
            .months
            .iter()
            .enumerate()
            .map(|(i, &m)| (month_name(m), i))
            .collect();
        // Each dimension value's position on its axis (versions are in
        // semver order, not string order, so not a binary search).
        let dim_pos: Vec<BTreeMap<&str, usize>> = self
            .dim_values
            .iter()
            .map(|v| v.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect())
            .collect();
        let answered = self.answered();
        let mut adds = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(&p) = month_pos.get(&r.month) else {
                continue;
            };
            if r.dims.len() != dim_pos.len() {
                continue;
            }
            let mut coord = vec![p];
            for (pos, v) in dim_pos.iter().zip(&r.dims) {
                coord.push(pos.get(v.as_str()).copied().unwrap_or(0));
            }
            let o = if r.value == VALUE_ANSWERED {
                answered
            } else {
                // A value not listed is pooled as "other values" where
                // the axis has it.
                match self
                    .option_ids
                    .iter()
                    .position(|x| *x == r.value)
                    .or_else(|| self.option_ids.iter().position(|x| x == VALUE_OTHER))
                {
                    Some(o) => o,
                    None => continue,
                }
            };
            coord.push(o);
            adds.push((coord, u64::try_from(r.n).unwrap_or(0)));
        }
        adds
    }
}

/// Month index (months since year 0) of `YYYY-MM`.
pub(super) fn month_index(m: &str) -> Option<i64> {
    let y: i64 = m.get(..4)?.parse().ok()?;
    let mo: i64 = m.get(5..7)?.parse().ok()?;
    Some(y * 12 + mo - 1)
}

/// `YYYY-MM` of a month index.
pub(super) fn month_name(i: i64) -> String {
    format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
}

/// `YYYY-Qn` of a month index.
pub(super) fn quarter_of(i: i64) -> String {
    format!("{:04}-Q{}", i.div_euclid(12), i.rem_euclid(12) / 3 + 1)
}

/// Every month from the first recorded to the last, whatever range was
/// asked for (see `plan`).
fn month_span<'a>(rows: impl Iterator<Item = &'a TallyRow>) -> Vec<i64> {
    let data: Vec<i64> = rows.filter_map(|r| month_index(&r.month)).collect();
    match (data.iter().min(), data.iter().max()) {
        (Some(&a), Some(&b)) => (a..=b).collect(),
        _ => Vec::new(),
    }
}

/// Months, then quarters (each the total of its months), then the whole
/// range (the total of the quarters).
fn period_axis(months: &[i64], quarters: &[String]) -> Axis {
    let n_months = months.len();
    let all = n_months + quarters.len();
    let mut lines: Vec<Line> = quarters
        .iter()
        .enumerate()
        .map(|(qi, name)| Line {
            members: months
                .iter()
                .enumerate()
                .filter(|(_, m)| quarter_of(**m) == *name)
                .map(|(i, _)| i)
                .collect(),
            total: n_months + qi,
            derived: true,
        })
        .collect();
    lines.push(Line {
        members: (n_months..all).collect(),
        total: all,
        derived: true,
    });
    Axis {
        len: all + 1,
        lines,
        dimension: None,
    }
}

/// The values seen of each dimension; versions in semver order.
fn dimension_values<'a>(
    plan: &Plan,
    rows: impl Iterator<Item = &'a TallyRow> + Clone,
) -> Vec<Vec<String>> {
    plan.dims
        .iter()
        .enumerate()
        .map(|(i, dim)| {
            let set: BTreeSet<String> = rows
                .clone()
                .filter_map(|r| r.dims.get(i).cloned())
                .collect();
            let mut values: Vec<String> = set.into_iter().collect();
            if *dim == Dim::Version {
                values.sort_by(|a, b| {
                    match (semver::Version::parse(a), semver::Version::parse(b)) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        _ => a.cmp(b),
                    }
                });
            }
            values
        })
        .collect()
}

/// The form's options (or scale points), the extra answers it offers,
/// anything else seen (in numeric order where numbers).
fn option_ids(plan: &Plan, rows: &[TallyRow]) -> Vec<String> {
    let question = &plan.question;
    let mut ids: Vec<String> = match &question.kind {
        QuestionKind::FaceScale { points, .. } => (1..=*points).map(|p| p.to_string()).collect(),
        QuestionKind::FreeText { .. } | QuestionKind::Date { .. } => Vec::new(),
        k => k.option_ids().into_iter().map(str::to_owned).collect(),
    };
    if question.allow_dont_know {
        ids.push(VALUE_DONT_KNOW.to_owned());
    }
    if question.allow_prefer_not_to_say {
        ids.push(VALUE_PREFER_NOT.to_owned());
    }
    // Anything else seen (the numbers answered to a number or decimal
    // question) with how many gave it, over the whole form: a value is
    // listed only when at least THRESHOLD did, for listing a value says
    // someone gave it; the rest are pooled as "other values".
    let mut seen: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.value != VALUE_ANSWERED && !ids.contains(&r.value))
    {
        *seen.entry(r.value.as_str()).or_default() += r.n;
    }
    // A value nobody gives any more (an answer since changed) is neither.
    seen.retain(|_, n| *n > 0);
    let pooled = seen.values().any(|&n| n < THRESHOLD_COUNT);
    let mut listed: Vec<String> = seen
        .into_iter()
        .filter(|&(_, n)| n >= THRESHOLD_COUNT)
        .map(|(v, _)| v.to_owned())
        .collect();
    // Numbers (whole or decimal) in numeric order, then anything else.
    listed.sort_by_key(|v| parse_decimal(v).map_or((1, Decimal::ZERO), |d| (0, d)));
    ids.extend(listed);
    if pooled {
        ids.push(VALUE_OTHER.to_owned());
    }
    ids
}

/// [`THRESHOLD`] as a tally count.
const THRESHOLD_COUNT: i64 = THRESHOLD.cast_signed();

/// Each option's class: how the question's main score weighs it.
fn classes(plan: &Plan, option_ids: &[String]) -> Vec<u32> {
    let face = matches!(plan.question.kind, QuestionKind::FaceScale { .. });
    let Some((_, _, weights)) = scores_for(option_ids, face).into_iter().next() else {
        return Vec::new();
    };
    option_ids
        .iter()
        .map(|o| match weights(o) {
            // Weights are percentages or scale points: whole numbers.
            Some(w) => u32::try_from(w.round() as i64 + 1).unwrap_or(0),
            None => 0,
        })
        .collect()
}

/// The options, then "answered". For a one-answer question the options
/// add up to "answered" (a line the suppression protects).
fn option_axis(plan: &Plan, options: usize) -> Axis {
    let single = !matches!(
        plan.question.kind,
        QuestionKind::MultipleChoice { .. }
            | QuestionKind::FreeText { .. }
            | QuestionKind::Date { .. }
    );
    Axis {
        len: options + 1,
        lines: if single && options > 0 {
            vec![Line {
                members: (0..options).collect(),
                total: options,
                derived: false,
            }]
        } else {
            Vec::new()
        },
        dimension: None,
    }
}
