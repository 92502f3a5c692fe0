//! The slice of a suppressed cube that a leader asked for: the filters
//! fixed, the split varied, the periods in range (then the whole range,
//! added up from what they show),
//! each cell with its counts, shares and scores, and the labels a reader
//! sees. Reads only what the cube shows: nothing here can unhide a cell.

use hark_core::form::{Question, QuestionKind};

use super::cube::ReportCube;
use super::measures::{score, scores_for};
use super::plan::Plan;
use super::suppress::{Hidden, MIN_BREAKDOWN, THRESHOLD};
use super::types::{Cell, Count, Granularity, Group, Measure, OptionColumn, Report};
use crate::publication::{self, month_index, month_name};
use crate::tally::{VALUE_DONT_KNOW, VALUE_OTHER, VALUE_PREFER_NOT};

/// The report the plan asked for, read from its cube.
pub(super) fn slice(plan: &Plan, rc: &ReportCube) -> Report {
    let q = &plan.query;
    let question = &plan.question;
    let lang = plan.latest.languages.first().map_or("en", String::as_str);
    let periods = periods(plan, rc);
    // Coordinates: period, the plan's dimensions (in `Dim` order), option.
    let split_axis = q.split.map(|s| plan.axis(s));
    let mut base = vec![0usize; plan.dims.len() + 2];
    for (d, v) in &q.filters {
        let a = plan.axis(*d);
        base[1 + a] = rc.dim_values[a].iter().position(|x| x == v).unwrap_or(0);
    }
    let mut group_keys: Vec<(Option<usize>, String)> = Vec::new();
    if let Some(a) = split_axis {
        for (i, v) in rc.dim_values[a].iter().enumerate() {
            if rc.listed(a, i) {
                group_keys.push((Some(i), v.clone()));
            }
        }
    }
    group_keys.push((None, "*".to_owned()));
    let scores = scores_for(
        &rc.option_ids,
        matches!(question.kind, QuestionKind::FaceScale { .. }),
    );
    let groups = group_keys
        .into_iter()
        .map(|(gi, key)| {
            let at_period = |p: usize, o: usize| {
                if rc.unlisted {
                    return (0, Hidden::Unlisted);
                }
                let mut coord = base.clone();
                coord[0] = p;
                if let Some(a) = split_axis {
                    coord[1 + a] = gi.unwrap_or(rc.dim_values[a].len());
                }
                let last = coord.len() - 1;
                coord[last] = o;
                rc.cube.get(&coord)
            };
            let mut cells: Vec<Cell> = periods
                .iter()
                .map(|(p, name)| cell(rc, &|o| at_period(*p, o), name, &scores))
                .collect();
            // The range: the sum of its periods where every one is shown
            // (a total of its own would be a running total, changing by
            // exactly its newest month).
            let sum_of = |o: usize| {
                let mut sum = 0;
                let mut hidden = Hidden::No;
                for (p, _) in &periods {
                    match at_period(*p, o) {
                        (n, Hidden::No) => sum += n,
                        // One reason where they all agree ("not enough
                        // responses" in every month), "hidden" otherwise.
                        (_, h) if hidden == Hidden::No || hidden == h => hidden = h,
                        _ => hidden = Hidden::Secondary,
                    }
                }
                if hidden == Hidden::No {
                    (sum, hidden)
                } else {
                    (0, hidden)
                }
            };
            // "Not enough responses" only where fewer than 10 answered in
            // the whole range too.
            let thin_range = matches!(
                sum_of(rc.answered()),
                (n, Hidden::No) if n < MIN_BREAKDOWN
            );
            // (One period: the range is that period, label and all.)
            let all = |o: usize| match sum_of(o) {
                (n, Hidden::Thin) if !thin_range && periods.len() > 1 => (n, Hidden::Secondary),
                c => c,
            };
            cells.push(cell(rc, &all, "all", &scores));
            Group {
                label: group_label(&key),
                key,
                cells,
            }
        })
        .collect();
    Report {
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
        min_breakdown: MIN_BREAKDOWN,
        options: rc
            .option_ids
            .iter()
            .map(|id| OptionColumn {
                id: id.clone(),
                label: option_label(question, id, lang),
            })
            .collect(),
        periods: periods
            .into_iter()
            .map(|(_, n)| n)
            .chain(["all".to_owned()])
            .collect(),
        groups,
        published_through: plan.published.clone(),
        next_publication: plan
            .published
            .as_deref()
            .and_then(publication::next_month)
            .and_then(|m| publication::publication_day(&m)),
    }
}

/// The periods shown, as (position on the period axis, name): the
/// published months, or the complete quarters, in range (the whole range
/// is added up from them).
fn periods(plan: &Plan, rc: &ReportCube) -> Vec<(usize, String)> {
    let q = &plan.query;
    let from = q.from.as_deref().and_then(month_index).unwrap_or(i64::MIN);
    let to = q.to.as_deref().and_then(month_index).unwrap_or(i64::MAX);
    let in_range = |m: &i64| (from..=to).contains(m);
    match q.granularity {
        Granularity::Month => rc
            .months
            .iter()
            .enumerate()
            .filter(|(_, m)| in_range(m))
            .map(|(i, &m)| (i, month_name(m)))
            .collect(),
        Granularity::Quarter => rc
            .quarters
            .iter()
            .enumerate()
            .filter(|(_, (_, members))| members.iter().any(|&i| in_range(&rc.months[i])))
            .map(|(i, (name, _))| (rc.months.len() + i, name.clone()))
            .collect(),
    }
}

/// One period of one group: every option's count and share, the answered
/// total, and the scores; `at(option)` reads a count.
fn cell(
    rc: &ReportCube,
    at: &dyn Fn(usize) -> (u64, Hidden),
    period: &str,
    scores: &[super::measures::Score],
) -> Cell {
    let answered = rc.answered();
    let (total, total_hidden) = at(answered);
    let count = |(n, h): (u64, Hidden)| Count {
        n: (h == Hidden::No).then_some(n),
        share: (h == Hidden::No && total_hidden == Hidden::No && total > 0)
            .then(|| n as f64 / total as f64),
        hidden: h.label(),
    };
    Cell {
        period: period.to_owned(),
        answered: Count {
            share: None,
            ..count((total, total_hidden))
        },
        options: (0..answered).map(|o| count(at(o))).collect(),
        measures: scores
            .iter()
            .map(|(id, label, weights)| Measure {
                id,
                label,
                value: score(&rc.option_ids, at, *weights),
            })
            .collect(),
    }
}

fn group_label(key: &str) -> String {
    match key {
        "*" => "everyone".to_owned(),
        "" => "not recorded".to_owned(),
        k => k.replace('_', " "),
    }
}

fn option_label(q: &Question, id: &str, lang: &str) -> String {
    match id {
        VALUE_DONT_KNOW => return "don't know".to_owned(),
        VALUE_OTHER => return "other values".to_owned(),
        VALUE_PREFER_NOT => return "don't want to say".to_owned(),
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
