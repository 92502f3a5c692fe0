//! A report's cube: period (the published months, then the quarters all
//! of whose months are published) × the plan's dimensions × the question's
//! values, filled from the published tallies and suppressed
//! ([`super::suppress`]) before anything is read from it, its "answered"
//! cells tied to the form's respondent counts (suppressed first, in a cube
//! of their own). The cube depends only on the data and on which
//! dimensions the report uses, never on the range, filter values or period
//! asked for, so every report over the same dimensions is a slice of one
//! suppressed table; and it is suppressed in publication rounds (a month,
//! and a quarter with its last month), each round as it was when it was
//! published, so a later read shows every earlier cell as it was.

use std::collections::{BTreeMap, BTreeSet};

use hark_core::answer::{Decimal, parse_decimal};
use hark_core::form::QuestionKind;

use super::measures::scores_for;
use super::plan::Plan;
use super::suppress::{Axis, Cube, Line, THRESHOLD};
use super::types::{MAX_MONTHS, ReportError};
use crate::publication::{
    listed_from, month_index, month_name, quarter_of, quarter_start, reached,
};
use crate::tally::{Dim, TallyRow, VALUE_ANSWERED, VALUE_DONT_KNOW, VALUE_OTHER, VALUE_PREFER_NOT};

/// The suppressed cube of a report, with what each axis position means.
#[derive(Debug)]
pub(super) struct ReportCube {
    /// Counts and their suppression.
    pub cube: Cube,
    /// Every month from the first recorded to the last published (month
    /// indices).
    pub months: Vec<i64>,
    /// The quarters all of whose months are published, in order
    /// (`2026-Q1`), each with its months' positions.
    pub quarters: Vec<(String, Vec<usize>)>,
    /// Each dimension's values seen, in the plan's order (versions in
    /// semver order).
    pub dim_values: Vec<Vec<String>>,
    /// The option axis: the form's options (or scale points), "don't know"
    /// and "don't want to say" where offered, the numbers at least
    /// [`THRESHOLD`](super::suppress::THRESHOLD) gave, and [`VALUE_OTHER`] pooling the rest.
    pub option_ids: Vec<String>,
    /// Per dimension and value: the month (index) from which it is listed
    /// ([`listed_since`]); `None` while it is not. A split shows a group
    /// for each listed value ([`ReportCube::listed`]).
    dim_listed_since: Vec<Vec<Option<i64>>>,
    /// A filter names a value not listed (fewer than [`THRESHOLD`](super::suppress::THRESHOLD) had it,
    /// or nobody): every cell reads [`super::suppress::UNLISTED`],
    /// whichever it is (and the cube, so every other report's
    /// suppression, is left as it is).
    pub unlisted: bool,
    /// Per option: the first month (index) it is listed in, where it is a
    /// number listed only from then (before, it is in "other values").
    listed_from: Vec<Option<i64>>,
}

impl ReportCube {
    /// Fills the cube from the tallies `plan.tallies` asked for (`rows`,
    /// published months only) and the form's respondent counts
    /// `plan.respondents` asked for, adds up its totals and suppresses it,
    /// month by month in the order they were published.
    pub fn build(
        plan: &Plan,
        rows: &[TallyRow],
        respondents: &[TallyRow],
        listing: &[TallyRow],
    ) -> Result<Self, ReportError> {
        let both = || rows.iter().chain(respondents);
        let through = plan.published.as_deref().and_then(month_index);
        let months = month_span(both(), through);
        let quarters = complete_quarters(&months, through);
        let dim_values = dimension_values(plan, both());
        let first_seen = first_seen(plan, &dim_values, both());
        let dim_listed_since: Vec<Vec<Option<i64>>> = plan
            .dims
            .iter()
            .zip(&dim_values)
            .enumerate()
            .map(|(i, (dim, values))| {
                let since = listed_since(
                    *dim,
                    listing
                        .iter()
                        .map(|r| (r.dims.get(i), month_index(&r.month), r.n)),
                );
                values.iter().map(|v| since.get(v).copied()).collect()
            })
            .collect();
        let unlisted = plan.query.filters.iter().any(|(d, v)| {
            let a = plan.axis(*d);
            !dim_values[a]
                .iter()
                .zip(&dim_listed_since[a])
                .any(|(x, since)| since.is_some() && x == v)
        });
        let (option_ids, listed_from) = option_ids(plan, rows, through);
        let (period, rounds, starts) = period_axis(&months, &quarters);
        let mut axes = vec![period];
        axes.extend(dim_values.iter().map(|v| Axis::dimension(v.len())));
        let mut base = Cube::new(axes.clone()).with_rounds(0, &rounds);
        axes.push(option_axis(plan, option_ids.len()));
        let options_axis = axes.len() - 1;
        let mut this = Self {
            cube: Cube::new(axes)
                .with_breakdown(options_axis)
                .with_classes(classes(plan, &option_ids))
                .with_rounds(0, &rounds),
            months,
            quarters,
            dim_values,
            dim_listed_since,
            option_ids,
            unlisted,
            listed_from,
        };
        // A cell is absent from the table as published in its round when
        // one of its values was first recorded later; an option listed
        // from a later quarter is pooled before.
        let dim_absent = |coord: &[usize]| {
            coord[1..]
                .iter()
                .zip(&first_seen)
                .any(|(&v, first)| first.get(v).is_some_and(|&f| f > rounds[coord[0]]))
        };
        // A cell of a group not listed is shown nowhere, and is small by
        // its label (see `Cube::mark_bounded`).
        // (As it was when the cell's period was published: so a later
        // read shows every earlier cell as it was.)
        let since = this.dim_listed_since.clone();
        let round_of = rounds.clone();
        let bounded = move |coord: &[usize]| {
            let round = i64::from(round_of[coord[0]]);
            coord[1..].iter().zip(&since).any(|(&v, since)| {
                since
                    .get(v)
                    .is_some_and(|s| s.is_none_or(|from| from > round))
            })
        };
        for (coord, n) in this.coords(respondents) {
            base.add(&coord[..coord.len() - 1], n);
        }
        base.aggregate();
        base.mark_bounded(&bounded);
        base.mark_absent(|c| dim_absent(c).then_some(false));
        base.suppress();
        for (coord, n) in this.coords(rows) {
            this.cube.add(&coord, n);
        }
        this.cube.aggregate();
        this.cube.mark_bounded(|c| bounded(&c[..c.len() - 1]));
        let listed_from = this.listed_from.clone();
        this.cube.mark_absent(|c| {
            let o = c[c.len() - 1];
            let pooled = listed_from
                .get(o)
                .copied()
                .flatten()
                .is_some_and(|f| starts[c[0]] < f);
            if pooled {
                Some(true)
            } else {
                dim_absent(&c[..c.len() - 1]).then_some(false)
            }
        });
        this.cube.base(&base);
        this.cube.suppress();
        Ok(this)
    }

    /// Whether value `i` of the plan's dimension `a` is listed.
    pub fn listed(&self, a: usize, i: usize) -> bool {
        self.dim_listed_since[a][i].is_some()
    }

    /// Position of "answered" on the option axis.
    pub fn answered(&self) -> usize {
        self.option_ids.len()
    }

    /// Each row's cell and count.
    fn coords(&self, rows: &[TallyRow]) -> Vec<(Vec<usize>, u64)> {
        let month_pos: BTreeMap<String, (usize, i64)> = self
            .months
            .iter()
            .enumerate()
            .map(|(i, &m)| (month_name(m), (i, m)))
            .collect();
        let dim_pos = positions(&self.dim_values);
        let answered = self.answered();
        let other = self.option_ids.iter().position(|x| x == VALUE_OTHER);
        let mut adds = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(&(p, month)) = month_pos.get(&r.month) else {
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
                // A value not listed (or not yet, in this month) is pooled
                // as "other values" where the axis has it.
                let listed = self
                    .option_ids
                    .iter()
                    .position(|x| *x == r.value)
                    .filter(|&o| self.listed_from[o].is_none_or(|f| month >= f));
                match listed.or(other) {
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

/// Every month from the first recorded to the last published (`through`),
/// whatever range was asked for (see `plan`): the months a later read
/// shows are these and more. At most [`MAX_MONTHS`]: the oldest whole
/// quarters drop out as new months come (whole quarters, so that no
/// quarter shown changes).
fn month_span<'a>(rows: impl Iterator<Item = &'a TallyRow>, through: Option<i64>) -> Vec<i64> {
    let first = rows.filter_map(|r| month_index(&r.month)).min();
    match (first, through) {
        (Some(a), Some(b)) => {
            let earliest = b - MAX_MONTHS as i64 + 1;
            let window = if quarter_start(earliest) == earliest {
                earliest
            } else {
                quarter_start(earliest) + 3
            };
            (a.max(window)..=b).collect()
        }
        _ => Vec::new(),
    }
}

/// The quarters whose months are all published (up to `through`), with
/// the positions of their months in `months`.
fn complete_quarters(months: &[i64], through: Option<i64>) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, &m) in months.iter().enumerate() {
        if through.is_none_or(|t| quarter_start(m) + 2 > t) {
            continue;
        }
        let name = quarter_of(m);
        match out.last_mut() {
            Some((q, members)) if *q == name => members.push(i),
            _ => out.push((name, vec![i])),
        }
    }
    out
}

/// Months, then quarters (each the total of its months); with each
/// position's publication round (a month's index; a quarter's last month's)
/// and the index of its first month. No running total: a total over a
/// growing range would change by exactly its newest month.
fn period_axis(months: &[i64], quarters: &[(String, Vec<usize>)]) -> (Axis, Vec<u32>, Vec<i64>) {
    let n_months = months.len();
    let lines = quarters
        .iter()
        .enumerate()
        .map(|(qi, (_, members))| Line {
            members: members.clone(),
            total: n_months + qi,
            derived: true,
        })
        .collect();
    let round = |m: i64| u32::try_from(m).unwrap_or(0);
    let mut rounds: Vec<u32> = months.iter().map(|&m| round(m)).collect();
    let mut starts: Vec<i64> = months.to_vec();
    for (_, members) in quarters {
        let first = members.first().map_or(0, |&i| months[i]);
        rounds.push(round(quarter_start(first) + 2));
        starts.push(quarter_start(first));
    }
    let axis = Axis {
        len: n_months + quarters.len(),
        lines,
        dimension: None,
    };
    (axis, rounds, starts)
}

/// Each dimension value's position on its axis (versions are in semver
/// order, not string order, so not a binary search).
fn positions(dim_values: &[Vec<String>]) -> Vec<BTreeMap<&str, usize>> {
    dim_values
        .iter()
        .map(|v| v.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect())
        .collect()
}

/// Per dimension of the plan, the first month (index) each of its values
/// was recorded in.
fn first_seen<'a>(
    plan: &Plan,
    dim_values: &[Vec<String>],
    rows: impl Iterator<Item = &'a TallyRow>,
) -> Vec<Vec<u32>> {
    let pos = positions(dim_values);
    let mut first: Vec<Vec<u32>> = dim_values.iter().map(|v| vec![u32::MAX; v.len()]).collect();
    for r in rows {
        let Some(m) = month_index(&r.month).and_then(|m| u32::try_from(m).ok()) else {
            continue;
        };
        for (i, v) in r.dims.iter().enumerate().take(plan.dims.len()) {
            if let Some(&p) = pos[i].get(v.as_str()) {
                first[i][p] = first[i][p].min(m);
            }
        }
    }
    first
}

/// The values of `dim` listed on their own (in splits and filter lists),
/// given each respondent count's value (`None`: not this dimension) and
/// month over the published months and every version of the form, each
/// with the month (index) from which it is listed: every version (from
/// always), and any other value from the month by whose end
/// [`THRESHOLD`] respondents had it. A group listed says that someone in
/// it answered; before, its cells are shown nowhere (they stay in the
/// cube and in everyone's, suppressed as such: `Cube::mark_bounded`, in
/// every read since), and a filter on it reads as one on a value nobody
/// has.
///
/// **No dimension is left wholly bounded.** A reader knows each value not
/// listed had at most 4 respondents so far. With `u` values recorded and
/// none listed, everyone's `n` would give each at least `n − 4 × (u −
/// 1)`: from 4u − 3, every value is there and small, whatever is hidden.
/// So from the month the form's respondents so far reach 4 × (u − 1)
/// and 5 (with two values or more), the value most had so far (the first
/// by name of those) is listed too, though fewer than 5 have it: its count
/// is no longer bounded, so no total bounds the others from below; and
/// while none is listed a reader learns only that fewer than that have
/// answered (at 4 of 2 values, each may still have none). A reader cannot
/// be sure it was not listed at 5 (its cells are suppressed like any
/// group's; at 5 or more, either could be), and once listed it stays
/// listed. (Listing it at 4 would say "4", where another dimension's
/// single value, not listed, says at most 4.)
pub fn listed_since<'a>(
    dim: Dim,
    respondents: impl Iterator<Item = (Option<&'a String>, Option<i64>, i64)>,
) -> BTreeMap<String, i64> {
    let mut had: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for (v, month, n) in respondents {
        if let (Some(v), Some(m)) = (v, month) {
            had.entry(v.as_str()).or_default().push((m, n));
        }
    }
    let mut listed: BTreeMap<String, i64> = had
        .iter()
        .filter_map(|(v, by_month)| {
            if dim == Dim::Version {
                return Some(((*v).to_owned(), i64::MIN));
            }
            reached(by_month.iter().copied()).map(|m| ((*v).to_owned(), m))
        })
        .collect();
    if let Some((v, m)) = promoted(&had, listed.values().min().copied()) {
        listed.insert(v.to_owned(), m);
    }
    listed
}

/// Everyone's count so far from which, with `values` recorded and none
/// listed, the one most had is listed (see `listed_since`).
pub(super) fn listed_early_at(values: i64) -> i64 {
    let most = (THRESHOLD - 1).cast_signed();
    (most * (values - 1)).max(most + 1)
}

/// The value listed before any reaches [`THRESHOLD`] (see "No dimension is
/// left wholly bounded" in `listed_since`), and the month from which, if
/// one is: `had` is each value's respondents by month, `first` the first
/// month a value is listed at 5 (versions: always, so never one).
fn promoted<'a>(
    had: &BTreeMap<&'a str, Vec<(i64, i64)>>,
    first: Option<i64>,
) -> Option<(&'a str, i64)> {
    let mut months: BTreeMap<i64, Vec<(&str, i64)>> = BTreeMap::new();
    for (v, by_month) in had {
        for &(m, n) in by_month {
            months.entry(m).or_default().push((v, n));
        }
    }
    let mut so_far: BTreeMap<&str, i64> = BTreeMap::new();
    for (m, added) in months {
        if first.is_some_and(|f| f <= m) {
            return None;
        }
        for (v, n) in added {
            *so_far.entry(v).or_default() += n;
        }
        let values = so_far.values().filter(|n| **n > 0).count() as i64;
        let everyone: i64 = so_far.values().sum();
        if values > 1 && everyone >= listed_early_at(values) {
            // The most so far; of those, the first by name.
            let top = so_far
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(v, _)| *v)?;
            return Some((top, m));
        }
    }
    None
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

/// The form's options (or scale points), the extra answers it offers, the
/// numbers given (in numeric order) and "other values"; with, per option,
/// the first month it is listed from.
///
/// A number is listed once at least [`THRESHOLD`](super::suppress::THRESHOLD) gave it (over the whole
/// form), for listing a value says that someone gave it, from the next
/// quarter ([`listed_from`]); before, it is counted in "other values",
/// and the months and quarters already published keep it there, so no
/// published count changes.
fn option_ids(
    plan: &Plan,
    rows: &[TallyRow],
    through: Option<i64>,
) -> (Vec<String>, Vec<Option<i64>>) {
    let question = &plan.question;
    let numbers = matches!(
        question.kind,
        QuestionKind::Number { .. } | QuestionKind::Decimal { .. }
    );
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
    let mut listing = vec![None; ids.len()];
    // Anything else seen, month by month.
    let mut seen: BTreeMap<&str, BTreeMap<i64, i64>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.value != VALUE_ANSWERED && !ids.contains(&r.value))
    {
        if let Some(m) = month_index(&r.month) {
            *seen
                .entry(r.value.as_str())
                .or_default()
                .entry(m)
                .or_default() += r.n;
        }
    }
    let mut listed: Vec<(String, i64)> = Vec::new();
    let mut pooled = numbers;
    for (v, by_month) in seen {
        let given = by_month.values().any(|&n| n != 0);
        match listed_from(by_month, through) {
            Some(from) => listed.push((v.to_owned(), from)),
            None => pooled |= given,
        }
    }
    // Numbers (whole or decimal) in numeric order, then anything else.
    listed.sort_by_key(|(v, _)| parse_decimal(v).map_or((1, Decimal::ZERO), |d| (0, d)));
    for (v, from) in listed {
        ids.push(v);
        listing.push(Some(from));
        pooled = true;
    }
    if pooled {
        ids.push(VALUE_OTHER.to_owned());
        listing.push(None);
    }
    (ids, listing)
}

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
