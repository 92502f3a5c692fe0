//! Leaders' reports (pure, given tallies and form definitions): counts and
//! shares per option, Friends and Family Test % positive and % negative,
//! experience-of-service and face-scale scores, by month or quarter, split
//! and filtered by setting, age phase, need, pathway and form version, with
//! small-number suppression ([`suppress`]) applied before anything leaves
//! this module. Reports span every form version whose question is
//! unchanged (same kind, same options) and say which versions they left out.

pub mod suppress;

use std::collections::{BTreeMap, BTreeSet};

use hark_core::Form;
use hark_core::form::{Question, QuestionKind};
use serde::Serialize;

use crate::storage::tally::{ANSWERED, DONT_KNOW, PREFER_NOT};
use crate::storage::{Dim, TallyQuery, TallyRow};
use suppress::{Axis, Cube, Hidden, Line, THRESHOLD};

/// Most of setting, age phase, need and pathway one report may split and
/// filter by together (the form version comes on top). Finer cuts would
/// mostly read "fewer than 5" anyway, and the tallies keep rollups of up
/// to two (see [`crate::storage::tally`]).
pub const MAX_DIMS: usize = 2;
/// Most months one report may span.
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
        /// Form.
        form: String,
        /// Question.
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
    /// Why it is hidden: "fewer than 5" or "suppressed".
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
    /// Option id (or scale point, number, `~dont_know`).
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
    /// Cells below this are hidden.
    pub threshold: u64,
    /// Option columns.
    pub options: Vec<OptionColumn>,
    /// Periods, in order, then `all`.
    pub periods: Vec<String>,
    /// The split's groups, then everyone (`*`).
    pub groups: Vec<Group>,
}

/// The "shape" of a question that must not change for two versions to be
/// reported together: kind and option ids (wording may change).
fn signature(q: &Question) -> (String, Vec<String>, bool, bool) {
    let mut kind = q.kind.name().to_owned();
    if let QuestionKind::FaceScale { points, .. } = &q.kind {
        kind = format!("{kind}{points}");
    }
    (
        kind,
        q.kind.option_ids().into_iter().map(str::to_owned).collect(),
        q.allow_dont_know,
        q.allow_prefer_not_to_say,
    )
}

/// A plan for one report: what to read from the tallies.
#[derive(Clone, Debug)]
pub struct Plan {
    query: ReportQuery,
    latest: Form,
    question: Question,
    dims: Vec<Dim>,
    excluded: Vec<Excluded>,
    /// What to ask storage for.
    pub tallies: TallyQuery,
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit)
        && matches!(m[5..].parse::<u8>(), Ok(1..=12))
}

/// Checks a query against the area's versions of the form and says what to
/// read.
pub fn plan(area_id: &str, query: &ReportQuery, versions: &[Form]) -> Result<Plan, ReportError> {
    let latest = versions
        .iter()
        .max_by(|a, b| a.version.cmp(&b.version))
        .ok_or_else(|| ReportError::UnknownForm(query.form.clone()))?
        .clone();
    let question = latest
        .questions
        .iter()
        .find(|q| q.id == query.question)
        .ok_or_else(|| ReportError::UnknownQuestion {
            form: query.form.clone(),
            question: query.question.clone(),
        })?
        .clone();
    for m in [&query.from, &query.to].into_iter().flatten() {
        if !valid_month(m) {
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
    let want = signature(&question);
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for f in versions {
        match f.questions.iter().find(|q| q.id == query.question) {
            Some(q) if signature(q) == want => {
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
    Ok(Plan {
        tallies: TallyQuery {
            area_id: area_id.to_owned(),
            question: query.question.clone(),
            versions: included,
            dims: dims.clone(),
            // Always every month: `from` and `to` only choose the columns
            // shown, so every report over the same dimensions is a slice
            // of one cube, suppressed one way.
            months: None,
        },
        query: query.clone(),
        latest,
        question,
        dims,
        excluded,
    })
}

fn month_index(m: &str) -> Option<i64> {
    let y: i64 = m.get(..4)?.parse().ok()?;
    let mo: i64 = m.get(5..7)?.parse().ok()?;
    Some(y * 12 + mo - 1)
}

fn month_name(i: i64) -> String {
    format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
}

fn quarter_of(i: i64) -> String {
    format!("{:04}-Q{}", i.div_euclid(12), i.rem_euclid(12) / 3 + 1)
}

/// How a score weighs each option: (numerator weight, counts in the
/// denominator).
type Weights = fn(&str) -> Option<(f64, bool)>;

fn measures_for(option_ids: &[String]) -> Vec<(&'static str, &'static str, Weights)> {
    let has = |id: &str| option_ids.iter().any(|o| o == id);
    let mut out: Vec<(&'static str, &'static str, Weights)> = Vec::new();
    if ["very_good", "good", "poor", "very_poor"]
        .iter()
        .all(|o| has(o))
    {
        // NHS England's Friends and Family Test: shares of every response,
        // "don't know" included.
        out.push(("fft_positive", "% positive", |o| match o {
            "very_good" | "good" => Some((100.0, true)),
            _ => Some((0.0, true)),
        }));
        out.push(("fft_negative", "% negative", |o| match o {
            "poor" | "very_poor" => Some((100.0, true)),
            _ => Some((0.0, true)),
        }));
    }
    if ["certainly_true", "partly_true", "not_true"]
        .iter()
        .all(|o| has(o))
    {
        // Experience of Service Questionnaire: 2 / 1 / 0, as % of the best.
        out.push(("esq_score", "experience score (0-100)", |o| match o {
            "certainly_true" => Some((100.0, true)),
            "partly_true" => Some((50.0, true)),
            "not_true" => Some((0.0, true)),
            _ => None,
        }));
    }
    if ["strongly_agree", "agree", "disagree", "strongly_disagree"]
        .iter()
        .all(|o| has(o))
    {
        out.push(("agree", "% agree", |o| match o {
            "strongly_agree" | "agree" => Some((100.0, true)),
            o if o.starts_with('~') => None,
            _ => Some((0.0, true)),
        }));
    }
    out
}

fn face_weights(o: &str) -> Option<(f64, bool)> {
    o.parse::<f64>().ok().map(|p| (p, true))
}

/// Builds the report from the tallies `plan.tallies` asked for: cube,
/// suppression, then the slice the leader asked for.
pub fn build(plan: &Plan, rows: &[TallyRow]) -> Result<Report, ReportError> {
    let q = &plan.query;
    let question = &plan.question;
    // Period axis: every month from the first recorded to the last,
    // whatever range was asked for (see `plan`).
    let data_months: Vec<i64> = rows.iter().filter_map(|r| month_index(&r.month)).collect();
    let months: Vec<i64> = match (data_months.iter().min(), data_months.iter().max()) {
        (Some(&a), Some(&b)) => (a..=b).collect(),
        _ => Vec::new(),
    };
    if months.len() > MAX_MONTHS {
        return Err(ReportError::Bad(format!(
            "at most {MAX_MONTHS} months of data in one report"
        )));
    }
    let from = q.from.as_deref().and_then(month_index).unwrap_or(i64::MIN);
    let to = q.to.as_deref().and_then(month_index).unwrap_or(i64::MAX);
    let mut quarters: Vec<String> = months.iter().map(|&m| quarter_of(m)).collect();
    quarters.dedup();
    let n_months = months.len();
    let n_quarters = quarters.len();
    let all_period = n_months + n_quarters;
    let mut period_lines: Vec<Line> = quarters
        .iter()
        .enumerate()
        .map(|(qi, qname)| Line {
            members: months
                .iter()
                .enumerate()
                .filter(|(_, m)| quarter_of(**m) == *qname)
                .map(|(i, _)| i)
                .collect(),
            total: n_months + qi,
            derived: true,
        })
        .collect();
    period_lines.push(Line {
        members: (n_months..all_period).collect(),
        total: all_period,
        derived: true,
    });
    let period_axis = Axis {
        len: all_period + 1,
        lines: period_lines,
        dimension: None,
    };

    // Dimension axes: the values seen. A filter on a value never seen
    // matches nobody: the report is all zeros, and the cube (and so every
    // other report's suppression) is left exactly as it is.
    let mut dim_values: Vec<Vec<String>> = vec![BTreeSet::new(); plan.dims.len()]
        .into_iter()
        .enumerate()
        .map(|(i, mut set): (usize, BTreeSet<String>)| {
            set.extend(rows.iter().filter_map(|r| r.dims.get(i).cloned()));
            set.into_iter().collect()
        })
        .collect();
    let nobody = q
        .filters
        .iter()
        .enumerate()
        .any(|(i, (_, v))| !dim_values[i].contains(v));
    if plan.dims.contains(&Dim::Version) {
        let i = plan
            .dims
            .iter()
            .position(|d| *d == Dim::Version)
            .unwrap_or(0);
        dim_values[i].sort_by(|a, b| {
            match (semver::Version::parse(a), semver::Version::parse(b)) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.cmp(b),
            }
        });
    }

    // Option axis: the form's options (or scale points), extra answers,
    // anything else seen; "answered" last.
    let mut option_ids: Vec<String> = match &question.kind {
        QuestionKind::FaceScale { points, .. } => (1..=*points).map(|p| p.to_string()).collect(),
        QuestionKind::FreeText { .. } | QuestionKind::Date { .. } => Vec::new(),
        k => k.option_ids().into_iter().map(str::to_owned).collect(),
    };
    if question.allow_dont_know {
        option_ids.push(DONT_KNOW.to_owned());
    }
    if question.allow_prefer_not_to_say {
        option_ids.push(PREFER_NOT.to_owned());
    }
    let mut seen: Vec<String> = rows
        .iter()
        .map(|r| r.value.clone())
        .filter(|v| v != ANSWERED && !option_ids.contains(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    seen.sort_by_key(|v| v.parse::<i64>().unwrap_or(i64::MAX));
    option_ids.extend(seen);
    let answered = option_ids.len();
    let single = !matches!(
        question.kind,
        QuestionKind::MultipleChoice { .. }
            | QuestionKind::FreeText { .. }
            | QuestionKind::Date { .. }
    );
    let option_axis = Axis {
        len: answered + 1,
        lines: if single && answered > 0 {
            vec![Line {
                members: (0..answered).collect(),
                total: answered,
                derived: false,
            }]
        } else {
            Vec::new()
        },
        dimension: None,
    };

    let mut axes = vec![period_axis];
    axes.extend(dim_values.iter().map(|v| Axis::dimension(v.len())));
    axes.push(option_axis);
    let mut cube = Cube::new(axes);
    let month_pos: BTreeMap<String, usize> = months
        .iter()
        .enumerate()
        .map(|(i, &m)| (month_name(m), i))
        .collect();
    // Each dimension value's position on its axis (versions are in semver
    // order, not string order, so not a binary search).
    let dim_pos: Vec<BTreeMap<&str, usize>> = dim_values
        .iter()
        .map(|v| v.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect())
        .collect();
    for r in rows {
        let Some(&p) = month_pos.get(&r.month) else {
            continue;
        };
        let mut coord = vec![p];
        for (i, v) in r.dims.iter().enumerate() {
            coord.push(dim_pos[i].get(v.as_str()).copied().unwrap_or(0));
        }
        let o = if r.value == ANSWERED {
            answered
        } else {
            match option_ids.iter().position(|x| *x == r.value) {
                Some(o) => o,
                None => continue,
            }
        };
        coord.push(o);
        cube.add(&coord, u64::try_from(r.n).unwrap_or(0));
    }
    cube.aggregate();
    cube.suppress();

    // The slice: filters fixed, the split varied.
    let split_axis = q.split.map(|_| plan.dims.len() - 1);
    let mut base = vec![0usize; plan.dims.len() + 2];
    for (i, (_, v)) in q.filters.iter().enumerate() {
        base[1 + i] = dim_values[i].iter().position(|x| x == v).unwrap_or(0);
    }
    let period_list: Vec<(usize, String)> = match q.granularity {
        Granularity::Month => months
            .iter()
            .enumerate()
            .filter(|(_, m)| (from..=to).contains(*m))
            .map(|(i, &m)| (i, month_name(m)))
            .collect(),
        Granularity::Quarter => quarters
            .iter()
            .enumerate()
            .filter(|(_, name)| {
                months
                    .iter()
                    .any(|&m| quarter_of(m) == **name && (from..=to).contains(&m))
            })
            .map(|(i, name)| (n_months + i, name.clone()))
            .collect(),
    };
    let mut periods: Vec<(usize, String)> = period_list;
    periods.push((all_period, "all".to_owned()));
    let mut group_keys: Vec<(Option<usize>, String)> = Vec::new();
    if let Some(a) = split_axis {
        for (i, v) in dim_values[a].iter().enumerate() {
            group_keys.push((Some(i), v.clone()));
        }
    }
    group_keys.push((None, "*".to_owned()));
    let measures = if matches!(question.kind, QuestionKind::FaceScale { .. }) {
        vec![("mean", "mean score", face_weights as Weights)]
    } else {
        measures_for(&option_ids)
    };
    let lang = plan.latest.languages.first().map_or("en", String::as_str);
    let groups = group_keys
        .into_iter()
        .map(|(gi, key)| {
            let cells = periods
                .iter()
                .map(|(p, name)| {
                    let mut coord = base.clone();
                    coord[0] = *p;
                    if let (Some(a), Some(gi)) = (split_axis, gi) {
                        coord[1 + a] = gi;
                    } else if let Some(a) = split_axis {
                        coord[1 + a] = dim_values[a].len();
                    }
                    let at = |o: usize| {
                        if nobody {
                            return (0, Hidden::No);
                        }
                        let mut c = coord.clone();
                        let last = c.len() - 1;
                        c[last] = o;
                        cube.get(&c)
                    };
                    let (total, total_hidden) = at(answered);
                    let count = |(n, h): (u64, Hidden)| Count {
                        n: (h == Hidden::No).then_some(n),
                        share: (h == Hidden::No && total_hidden == Hidden::No && total > 0)
                            .then(|| n as f64 / total as f64),
                        hidden: match h {
                            Hidden::No => None,
                            Hidden::Small => Some("fewer than 5"),
                            Hidden::Secondary => Some("suppressed"),
                        },
                    };
                    let options: Vec<Count> = (0..answered).map(|o| count(at(o))).collect();
                    let measures = measures
                        .iter()
                        .map(|(id, label, weights)| Measure {
                            id,
                            label,
                            value: measure(&option_ids, &|o| at(o), *weights),
                        })
                        .collect();
                    Cell {
                        period: name.clone(),
                        answered: Count {
                            n: (total_hidden == Hidden::No).then_some(total),
                            share: None,
                            hidden: match total_hidden {
                                Hidden::No => None,
                                Hidden::Small => Some("fewer than 5"),
                                Hidden::Secondary => Some("suppressed"),
                            },
                        },
                        options,
                        measures,
                    }
                })
                .collect();
            let label = if key == "*" {
                "everyone".to_owned()
            } else if key.is_empty() {
                "not recorded".to_owned()
            } else {
                key.replace('_', " ")
            };
            Group { key, label, cells }
        })
        .collect();
    let options = option_ids
        .iter()
        .map(|id| OptionColumn {
            id: id.clone(),
            label: option_label(question, id, lang),
        })
        .collect();
    Ok(Report {
        form: plan.latest.id.clone(),
        form_title: plan.latest.title.get(lang, lang).to_owned(),
        audience: plan.latest.audience,
        question: question.id.clone(),
        question_text: question.label.get(lang, lang).to_owned(),
        kind: question.kind.name(),
        granularity: q.granularity,
        split: q.split,
        filters: q.filters.iter().cloned().collect(),
        versions: plan
            .tallies
            .versions
            .iter()
            .map(|(_, v)| v.clone())
            .collect(),
        excluded_versions: plan.excluded.clone(),
        threshold: THRESHOLD,
        options,
        periods: periods.into_iter().map(|(_, n)| n).collect(),
        groups,
    })
}

/// A score, or `None` when it could reveal a hidden cell: it is given only
/// when it follows from what is shown, i.e. every hidden option weighs the
/// same (their sum is known from "answered", so the score adds nothing).
fn measure(option_ids: &[String], at: &dyn Fn(usize) -> (u64, Hidden), w: Weights) -> Option<f64> {
    let total_hidden = at(option_ids.len()).1;
    if total_hidden != Hidden::No {
        return None;
    }
    let mut hidden_weights: Vec<Option<(f64, bool)>> = Vec::new();
    let (mut num, mut den) = (0.0, 0.0);
    let mut hidden_sum = at(option_ids.len()).0;
    for (i, id) in option_ids.iter().enumerate() {
        let (n, h) = at(i);
        let weight = w(id);
        if h == Hidden::No {
            hidden_sum = hidden_sum.saturating_sub(n);
            if let Some((x, counted)) = weight {
                num += x * n as f64;
                if counted {
                    den += n as f64;
                }
            }
        } else {
            hidden_weights.push(weight);
        }
    }
    if let Some(first) = hidden_weights.first() {
        if hidden_weights.iter().any(|x| x != first) {
            return None;
        }
        if let Some((x, counted)) = first {
            num += x * hidden_sum as f64;
            if *counted {
                den += hidden_sum as f64;
            }
        }
    }
    (den > 0.0).then(|| (num / den * 10.0).round() / 10.0)
}

fn option_label(q: &Question, id: &str, lang: &str) -> String {
    match id {
        DONT_KNOW => return "don't know".to_owned(),
        PREFER_NOT => return "don't want to say".to_owned(),
        _ => {}
    }
    match &q.kind {
        QuestionKind::FaceScale { labels, .. } => id
            .parse::<usize>()
            .ok()
            .and_then(|p| labels.get(p.wrapping_sub(1)))
            .map_or_else(|| id.to_owned(), |o| o.label.get(lang, lang).to_owned()),
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            options
                .iter()
                .find(|o| o.id == id)
                .map_or_else(|| id.to_owned(), |o| o.label.get(lang, lang).to_owned())
        }
        QuestionKind::YesNo => match id {
            "yes" => "yes",
            "no" => "no",
            "not_sure" => "not sure",
            other => other,
        }
        .to_owned(),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests;
