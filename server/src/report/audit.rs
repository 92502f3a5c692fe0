//! The attacker's audit (tau-ARGUS's and sdcTable's "attacker problem"):
//! for random small datasets, read every report a leader can read about a
//! form — each question, split, filter value, month, quarter and version —
//! and hand every published number to a linear programme over the
//! dataset's unknown counts, together with everything else a reader knows
//! (counts are never negative, required questions are answered by every
//! respondent, a "not enough responses" row has fewer than 10). For each
//! hidden count, the programme finds the smallest and largest value it
//! could have. The audit fails if any hidden count is pinned exactly, or is
//! shown to be 1 to 4 (at least 1 and at most 4: a small group exists and
//! is small). A count that published zeros alone pin at 0 is let pass:
//! zeros of groups of 10 or more are published (nobody there gave that
//! answer), and so is what they say about the groups' parts. It also checks
//! that the same number reads the same in every report.

use std::collections::{BTreeMap, BTreeSet};

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, microlp, variable};
use hark_core::form::Form;
use proptest::prelude::*;

use super::suppress::{MIN_BREAKDOWN, THRESHOLD};
use super::{Granularity, ReportQuery, build, listed_since, plan};
use crate::publication::month_index;
use crate::tally::{Dim, TallyQuery, TallyRow, VALUE_ANSWERED};

const QUESTIONS: [&str; 2] = ["q1", "q2"];
const OPTIONS: [[&str; 3]; 2] = [["a", "b", "c"], ["x", "y", "z"]];
const MONTHS: [&str; 3] = ["2026-03", "2026-04", "2026-05"];

/// Whether month `m` (of [`MONTHS`]) is in a month or quarter's period.
fn in_one(m: usize, period: &str) -> bool {
    if period.contains('Q') {
        let q: usize = period[6..].parse().expect("quarter");
        (MONTHS[m][5..].parse::<usize>().expect("month") - 1) / 3 + 1 == q
    } else {
        MONTHS[m] == period
    }
}
const VERSIONS: [&str; 2] = ["1.0.0", "1.1.0"];

/// A form of two required one-answer questions, in two versions.
fn forms() -> Vec<Form> {
    let mut json: serde_json::Value = serde_json::from_str(include_str!(
        "../../../core/forms/service_satisfaction.json"
    ))
    .expect("shipped");
    json["id"] = "audit".into();
    json["questions"] = QUESTIONS
        .iter()
        .zip(OPTIONS)
        .map(|(q, options)| {
            serde_json::json!({
                "id": q,
                "type": "single_choice",
                "required": true,
                "label": {"en": q},
                "options": options.iter().map(|o| serde_json::json!({"id": o, "label": {"en": o}})).collect::<Vec<_>>(),
            })
        })
        .collect();
    VERSIONS
        .iter()
        .map(|v| {
            json["version"] = (*v).into();
            Form::from_json(&json.to_string()).expect("valid")
        })
        .collect()
}

/// One response: month, setting, need, version, and each answer.
#[derive(Clone, Debug)]
struct Response {
    at: [usize; 4],
    answers: [usize; 2],
}

/// The sizes of a dataset's axes: months, settings, needs, versions.
type Shape = [usize; 4];

const DIMS: [Dim; 3] = [Dim::Setting, Dim::Need, Dim::Version];

fn dim_value(dim: Dim, i: usize) -> String {
    match dim {
        Dim::Version => VERSIONS[i].to_owned(),
        Dim::Setting => format!("setting{i}"),
        _ => format!("need{i}"),
    }
}

fn axis_of(dim: Dim) -> usize {
    1 + DIMS.iter().position(|d| *d == dim).expect("audited")
}

/// The tallies a query reads, computed from the responses.
fn tallies(data: &[Response], q: &TallyQuery) -> Vec<TallyRow> {
    let question = QUESTIONS.iter().position(|x| *x == q.question);
    let mut n: BTreeMap<(String, Vec<String>, String), i64> = BTreeMap::new();
    for r in data {
        let dims: Vec<String> = q
            .dims
            .iter()
            .map(|d| dim_value(*d, r.at[axis_of(*d)]))
            .collect();
        let month = MONTHS[r.at[0]].to_owned();
        let mut values = vec![VALUE_ANSWERED.to_owned()];
        if let Some(qi) = question {
            values.push(OPTIONS[qi][r.answers[qi]].to_owned());
        }
        for v in values {
            *n.entry((month.clone(), dims.clone(), v)).or_default() += 1;
        }
    }
    n.into_iter()
        .map(|((month, dims, value), n)| TallyRow {
            form_id: "audit".into(),
            month,
            dims,
            value,
            n,
        })
        .collect()
}

/// A published number: question, months it covers, each dimension's value
/// (or `None` for all), and the option (or `None` for "answered").
type Key = (usize, Vec<usize>, [Option<usize>; 3], Option<usize>);

/// What a reader saw of a number: its count, or its label.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Shown(u64),
    Hidden(&'static str),
}

/// Every number of every report a leader can read about the form.
fn read_everything(data: &[Response], shape: Shape) -> BTreeMap<Key, Seen> {
    let forms = forms();
    let mut seen: BTreeMap<Key, (Seen, String)> = BTreeMap::new();
    let dim_sets = (0u8..8).map(|m| {
        DIMS.iter()
            .enumerate()
            .filter(|(i, _)| m & (1 << i) != 0)
            .map(|(_, d)| *d)
            .collect::<Vec<_>>()
    });
    for dims in dim_sets {
        let values = |d: Dim| shape[axis_of(d)];
        for (qi, question) in QUESTIONS.iter().enumerate() {
            // Split by each dimension of the set (or none), filter by
            // every combination of the others' values.
            let splits: Vec<Option<Dim>> = if dims.is_empty() {
                vec![None]
            } else {
                dims.iter().copied().map(Some).collect()
            };
            for split in splits {
                let filtered: Vec<Dim> =
                    dims.iter().copied().filter(|d| Some(*d) != split).collect();
                let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
                for d in &filtered {
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            (0..values(*d)).map(move |v| {
                                let mut c = c.clone();
                                c.push(v);
                                c
                            })
                        })
                        .collect();
                }
                for combo in combos {
                    for granularity in [Granularity::Month, Granularity::Quarter] {
                        let query = ReportQuery {
                            form: "audit".into(),
                            question: (*question).into(),
                            granularity,
                            split,
                            filters: filtered
                                .iter()
                                .zip(&combo)
                                .map(|(d, v)| (*d, dim_value(*d, *v)))
                                .collect(),
                            from: None,
                            to: None,
                        };
                        let p = plan("area", &query, &forms, MONTHS.last().copied()).expect("plan");
                        let r = build(
                            &p,
                            &tallies(data, &p.tallies),
                            &tallies(data, &p.respondents),
                            &tallies(data, &p.listing),
                        )
                        .expect("build");
                        for g in &r.groups {
                            let mut at: [Option<usize>; 3] = [None; 3];
                            for (d, v) in filtered.iter().zip(&combo) {
                                at[axis_of(*d) - 1] = Some(*v);
                            }
                            if let Some(s) = split
                                && g.key != "*"
                            {
                                at[axis_of(s) - 1] =
                                    (0..values(s)).find(|v| dim_value(s, *v) == g.key);
                            }
                            for (cell, period) in g.cells.iter().zip(&r.periods) {
                                // The whole range is added up from the
                                // periods shown: it says nothing they do
                                // not (`slice`).
                                if period == "all" {
                                    continue;
                                }
                                let months: Vec<usize> =
                                    (0..MONTHS.len()).filter(|m| in_one(*m, period)).collect();
                                let counts = std::iter::once((None, &cell.answered)).chain(
                                    r.options.iter().zip(&cell.options).map(|(o, c)| {
                                        (OPTIONS[qi].iter().position(|x| *x == o.id), c)
                                    }),
                                );
                                for (option, c) in counts {
                                    // A filter on a value not listed (or a
                                    // number not listed then): no number.
                                    if matches!(
                                        c.hidden,
                                        Some("in other values" | super::suppress::UNLISTED)
                                    ) {
                                        continue;
                                    }
                                    let key = (qi, months.clone(), at, option);
                                    let now = match c.n {
                                        Some(n) => Seen::Shown(n),
                                        None => Seen::Hidden(c.hidden.expect("a label")),
                                    };
                                    if let Some((before, by)) = seen.get(&key) {
                                        assert_eq!(
                                            before,
                                            &now,
                                            "{key:?} reads differently in two reports: {by} and {:?}",
                                            (split, &query.filters, granularity)
                                        );
                                    }
                                    seen.insert(
                                        key,
                                        (
                                            now,
                                            format!("{:?}", (split, &query.filters, granularity)),
                                        ),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    seen.into_iter().map(|(k, (v, _))| (k, v)).collect()
}

/// The unknown counts: one per question, month, setting, need, version and
/// option.
struct Unknowns {
    shape: Shape,
    vars: Vec<Variable>,
}

impl Unknowns {
    fn index(&self, q: usize, at: [usize; 4], o: usize) -> usize {
        let [m, s, n, v] = at;
        let sh = self.shape;
        ((((q * sh[0] + m) * sh[1] + s) * sh[2] + n) * sh[3] + v) * 3 + o
    }

    fn cells(&self) -> impl Iterator<Item = [usize; 4]> + '_ {
        let sh = self.shape;
        (0..sh[0]).flat_map(move |m| {
            (0..sh[1]).flat_map(move |s| {
                (0..sh[2]).flat_map(move |n| (0..sh[3]).map(move |v| [m, s, n, v]))
            })
        })
    }

    /// The sum a published number stands for.
    fn expr(&self, key: &Key) -> Expression {
        let (q, months, at, option) = key;
        let mut e = Expression::from(0);
        for cell in self.cells() {
            if !months.contains(&cell[0])
                || at
                    .iter()
                    .enumerate()
                    .any(|(i, v)| v.is_some_and(|v| v != cell[i + 1]))
            {
                continue;
            }
            for o in 0..3 {
                if option.is_none_or(|x| x == o) {
                    e += self.vars[self.index(*q, cell, o)];
                }
            }
        }
        e
    }

    fn truth(key: &Key, data: &[Response]) -> u64 {
        let (q, months, at, option) = key;
        data.iter()
            .filter(|r| {
                months.contains(&r.at[0])
                    && at
                        .iter()
                        .enumerate()
                        .all(|(i, v)| v.is_none_or(|v| v == r.at[i + 1]))
                    && option.is_none_or(|o| o == r.answers[*q])
            })
            .count() as u64
    }
}

/// The attacker's bounds on each hidden number (key, truth, min, max),
/// but for those that published zeros alone pin at 0.
fn attack(data: &[Response], shape: Shape) -> Vec<(Key, u64, f64, f64)> {
    let seen = read_everything(data, shape);
    // Every month up to the last published is read, whether or not the
    // dataset has any response in it: one unknown each.
    let shape = [MONTHS.len(), shape[1], shape[2], shape[3]];
    let mut problem = ProblemVariables::new();
    let n = 2 * shape.iter().product::<usize>() * 3;
    let vars = problem.add_vector(variable().min(0), n);
    let u = Unknowns { shape, vars };
    let mut known: Vec<good_lp::Constraint> = Vec::new();
    // The published zeros, kept apart: see `attack`'s result.
    let mut zeros: Vec<good_lp::Constraint> = Vec::new();
    // Every respondent answered both questions.
    for cell in u.cells() {
        let a: Expression = (0..3).map(|o| u.vars[u.index(0, cell, o)]).sum();
        let b: Expression = (0..3).map(|o| u.vars[u.index(1, cell, o)]).sum();
        known.push(a.eq(b));
    }
    let mut hidden = Vec::new();
    let mut thin_groups = BTreeSet::new();
    for (key, s) in &seen {
        match s {
            Seen::Shown(0) => zeros.push(u.expr(key).eq(0)),
            Seen::Shown(n) => known.push(u.expr(key).eq(*n as f64)),
            Seen::Hidden(label) => {
                if *label == "not enough responses" {
                    thin_groups.insert((key.0, key.1.clone(), key.2, None));
                }
                hidden.push(key.clone());
            }
        }
    }
    for g in &thin_groups {
        known.push(u.expr(g).leq((MIN_BREAKDOWN - 1) as f64));
    }
    // Which values a split lists, read month by month, says how many had
    // each (`report::listed_since`, a rule the reader knows): fewer than 5
    // before the month it is listed from, and by its end at least 5 — or,
    // for the first value listed, alone, that it is the one most had and
    // still fewer than 5, everyone having reached 4 × (the values recorded
    // so far − 1) and 5: the reader tries both. While none is listed, fewer than
    // that had answered. (The reader knows which values were recorded,
    // as one who knows the area may.) And every cell of a group before it
    // is listed is shown nowhere: the attacker goes for those too.
    let mut alternatives: Vec<[Vec<good_lp::Constraint>; 2]> = Vec::new();
    let everyone = |months: Vec<usize>| u.expr(&(0, months, [None; 3], None));
    let most = (THRESHOLD - 1) as f64;
    let listing_at = |values: usize| super::cube::listed_early_at(values as i64) as f64;
    for (d, dim) in DIMS.iter().enumerate().filter(|(_, d)| **d != Dim::Version) {
        let names: Vec<String> = (0..shape[d + 1]).map(|v| dim_value(*dim, v)).collect();
        let since = listed_since(
            *dim,
            data.iter()
                .map(|r| (Some(&names[r.at[d + 1]]), month_index(MONTHS[r.at[0]]), 1)),
        );
        let position = |m: i64| {
            (0..shape[0])
                .find(|&i| month_index(MONTHS[i]) == Some(m))
                .expect("a month of the data")
        };
        let from: Vec<Option<usize>> = names
            .iter()
            .map(|n| since.get(n).map(|&m| position(m)))
            .collect();
        let first = from.iter().flatten().min().copied();
        let recorded = |m: usize| {
            (0..shape[d + 1])
                .filter(|&v| data.iter().any(|r| r.at[d + 1] == v && r.at[0] <= m))
                .count()
        };
        for m in 0..first.unwrap_or(shape[0]) {
            let values = recorded(m);
            if values > 1 {
                known.push(everyone((0..=m).collect()).leq(listing_at(values) - 1.0));
            }
        }
        let alone = first.filter(|f| from.iter().filter(|x| **x == Some(*f)).count() == 1);
        for (v, listed_from) in from.iter().enumerate() {
            let mut at = [None; 3];
            at[d] = Some(v);
            let by = |months: Vec<usize>| (0, months, at, None);
            let before = listed_from.unwrap_or(shape[0]);
            if before > 0 {
                known.push(u.expr(&by((0..before).collect())).leq(most));
            }
            if let Some(f) = *listed_from {
                let at_five = u.expr(&by((0..=f).collect())).geq(THRESHOLD as f64);
                if alone == Some(f) {
                    let mut promoted = vec![
                        u.expr(&by((0..=f).collect())).leq(most),
                        everyone((0..=f).collect()).geq(listing_at(recorded(f))),
                    ];
                    for w in (0..shape[d + 1]).filter(|w| *w != v) {
                        let mut other = [None; 3];
                        other[d] = Some(w);
                        promoted.push(u.expr(&by((0..=f).collect())).geq(u.expr(&(
                            0,
                            (0..=f).collect(),
                            other,
                            None,
                        ))));
                    }
                    alternatives.push([vec![at_five], promoted]);
                } else {
                    known.push(at_five);
                }
            }
            for m in 0..before {
                for qi in 0..QUESTIONS.len() {
                    for option in std::iter::once(None).chain((0..3).map(Some)) {
                        let key = (qi, vec![m], at, option);
                        if !seen.contains_key(&key) {
                            hidden.push(key);
                        }
                    }
                }
            }
        }
    }
    // Every combination of the alternatives.
    let mut cases: Vec<Vec<good_lp::Constraint>> = vec![Vec::new()];
    for pair in &alternatives {
        cases = cases
            .into_iter()
            .flat_map(|case| {
                pair.iter().map(move |alt| {
                    let mut c = case.clone();
                    c.extend(alt.iter().cloned());
                    c
                })
            })
            .collect();
    }
    // The bound in one case; `None` where the case cannot be.
    let solve = |objective: &Expression,
                 maximise: bool,
                 with_zeros: bool,
                 case: &[good_lp::Constraint]|
     -> Option<f64> {
        let p = problem.clone();
        let model = if maximise {
            p.maximise(objective.clone())
        } else {
            p.minimise(objective.clone())
        };
        let mut m = model.using(microlp);
        for c in known
            .iter()
            .chain(case)
            .chain(zeros.iter().filter(|_| with_zeros))
        {
            m = m.with(c.clone());
        }
        match m.solve() {
            Ok(sol) => Some(sol.eval(objective)),
            // Nothing published bounds it.
            Err(good_lp::ResolutionError::Unbounded) if maximise => Some(f64::INFINITY),
            Err(good_lp::ResolutionError::Infeasible) => None,
            Err(e) => panic!("the published numbers are consistent: {e}"),
        }
    };
    // The bound over every case that can be.
    let bound = |objective: &Expression, maximise: bool, with_zeros: bool| -> f64 {
        let each = cases
            .iter()
            .filter_map(|case| solve(objective, maximise, with_zeros, case));
        let b = if maximise {
            each.fold(f64::NEG_INFINITY, f64::max)
        } else {
            each.fold(f64::INFINITY, f64::min)
        };
        assert!(
            b.is_finite() || maximise,
            "the published numbers are consistent"
        );
        b
    };
    hidden
        .into_iter()
        .filter_map(|key| {
            let e = u.expr(&key);
            let lo = bound(&e, false, true);
            let hi = bound(&e, true, true);
            // Pinned at 0 only by published zeros: what a zero for a group
            // of 10 or more says about its members (nobody there gave
            // that answer, so nobody in any part of it did) is accepted.
            if hi < 0.5 && bound(&e, true, false) >= 0.5 {
                return None;
            }
            let truth = Unknowns::truth(&key, data);
            Some((key, truth, lo, hi))
        })
        .collect()
}

/// A dataset, compactly: each (month, setting, need, version) cell's
/// answers.
fn describe(data: &[Response]) -> String {
    let mut cells: BTreeMap<[usize; 4], Vec<String>> = BTreeMap::new();
    for r in data {
        cells.entry(r.at).or_default().push(format!(
            "{}{}",
            OPTIONS[0][r.answers[0]], OPTIONS[1][r.answers[1]]
        ));
    }
    cells
        .iter()
        .map(|(at, a)| format!("{at:?}: {}", a.join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn dataset() -> impl Strategy<Value = (Shape, Vec<Response>)> {
    (1usize..=3, 1usize..=3, 1usize..=2, 1usize..=2).prop_flat_map(|(m, s, n, v)| {
        let shape = [m, s, n, v];
        // Answers skewed so that small groups and lopsided rows are common.
        let response =
            (0..m, 0..s, 0..n, 0..v, 0usize..5, 0usize..4).prop_map(|(m, s, n, v, a, b)| {
                Response {
                    at: [m, s, n, v],
                    answers: [a.min(2), b.min(2)],
                }
            });
        (Just(shape), proptest::collection::vec(response, 0..70))
    })
}

/// What the audit found over a set of datasets.
#[derive(Debug, Default)]
struct Findings {
    datasets: usize,
    hidden: usize,
    /// Datasets with a hidden count pinned to one value.
    pinned: usize,
    /// Datasets with a hidden count of 1 to 4 shown to be 1 to 4.
    small: usize,
    /// Hidden counts pinned or shown to be 1 to 4, in all.
    exposed: usize,
}

/// Attacks `n` datasets drawn deterministically.
fn findings(n: usize) -> Findings {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut f = Findings::default();
    for _ in 0..n {
        let (shape, data) = dataset().new_tree(&mut runner).expect("tree").current();
        let (mut pinned, mut small) = (false, false);
        for (key, truth, lo, hi) in attack(&data, shape) {
            f.hidden += 1;
            let (lo, hi) = ((lo - 1e-6).ceil(), (hi + 1e-6).floor());
            let this = (
                lo >= hi,
                (1..THRESHOLD).contains(&truth) && lo >= 1.0 && hi < THRESHOLD as f64,
            );
            if (this.0 || this.1) && std::env::var_os("HARK_AUDIT_SHOW").is_some() {
                eprintln!(
                    "{key:?} truly {truth} in [{lo}, {hi}], shape {shape:?}\n{}",
                    describe(&data)
                );
            }
            pinned |= this.0;
            small |= this.1;
            f.exposed += usize::from(this.0 || this.1);
        }
        f.datasets += 1;
        f.pinned += usize::from(pinned);
        f.small += usize::from(small);
    }
    f
}

/// Where the audit stands (see ARCHITECTURE.md, "Disclosure control"):
/// the suppression's line rules do not yet stop every attack a linear
/// programme makes across lines, so this holds the measured level and
/// fails if it gets worse. (Before this suppression, every small count's
/// own label said "fewer than 5": every dataset with one failed.)
#[test]
fn the_attacker_audit_does_not_get_worse() {
    let f = findings(
        std::env::var("HARK_AUDIT_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(24),
    );
    eprintln!("{f:?}");
    assert!(f.hidden > 1000, "the datasets hide something: {f:?}");
    assert!(f.pinned * 10 <= f.datasets, "{f:?}");
    assert!(f.small * 20 <= f.datasets, "{f:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("HARK_AUDIT_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24)
    ))]

    /// The guarantee the suppression aims at, not yet met (see
    /// `the_attacker_audit_does_not_get_worse`): no hidden count can be
    /// narrowed below what its label says — none is pinned to one value,
    /// and none can be shown to be 1 to 4 (someone is there, and they are
    /// few), which the old "fewer than 5" label told outright.
    #[test]
    #[ignore = "not yet met; run with --ignored to see a counter-example"]
    fn an_attacker_with_every_report_learns_no_hidden_count((shape, data) in dataset()) {
        for (key, truth, lo, hi) in attack(&data, shape) {
            // A reader knows counts are whole numbers.
            let (lo, hi) = ((lo - 1e-6).ceil(), (hi + 1e-6).floor());
            prop_assert!(
                lo < hi,
                "{key:?} (truly {truth}) is pinned at {lo}\n{}", describe(&data)
            );
            prop_assert!(
                lo < 1.0 || hi >= THRESHOLD as f64,
                "{key:?} (truly {truth}) is shown to be {lo} to {hi}\n{}", describe(&data)
            );
        }
    }
}
