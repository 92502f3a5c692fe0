//! Report tests over hand-made tallies.

use hark_core::form::builtin_form;

use super::*;
use crate::publication::month_index;
use crate::tally::{Dim, TallyRow, VALUE_ANSWERED, VALUE_DONT_KNOW};
use hark_core::form::{Form, QuestionKind};

fn satisfaction() -> Form {
    builtin_form("service-satisfaction").expect("built in")
}

fn row(month: &str, dims: &[&str], value: &str, n: i64) -> TallyRow {
    TallyRow {
        form_id: "service-satisfaction".into(),
        month: month.into(),
        dims: dims.iter().map(|d| (*d).to_owned()).collect(),
        value: value.into(),
        n,
    }
}

/// FFT answers for one group and month: (option, n) plus the answered row.
fn fft(month: &str, dims: &[&str], answers: &[(&str, i64)]) -> Vec<TallyRow> {
    let mut rows: Vec<TallyRow> = answers
        .iter()
        .map(|(o, n)| row(month, dims, o, *n))
        .collect();
    rows.push(row(
        month,
        dims,
        VALUE_ANSWERED,
        answers.iter().map(|(_, n)| n).sum(),
    ));
    rows
}

fn query(split: Option<Dim>, filters: &[(Dim, &str)]) -> ReportQuery {
    ReportQuery {
        form: "service-satisfaction".into(),
        question: "fft".into(),
        split,
        filters: filters.iter().map(|(d, v)| (*d, (*v).to_owned())).collect(),
        ..ReportQuery::default()
    }
}

/// The respondent counts of `rows` where every respondent answered the
/// question (as the required `fft` is).
fn respondents(rows: &[TallyRow]) -> Vec<TallyRow> {
    rows.iter()
        .filter(|r| r.value == VALUE_ANSWERED)
        .cloned()
        .collect()
}

/// The last month of `rows`, as if it were the last published.
fn through(rows: &[TallyRow]) -> Option<String> {
    rows.iter().map(|r| r.month.clone()).max()
}

fn report(q: &ReportQuery, rows: &[TallyRow]) -> Report {
    let p = plan("area", q, &[satisfaction()], through(rows).as_deref()).expect("plan");
    build(&p, rows, &respondents(rows), &respondents(rows)).expect("build")
}

fn group<'a>(r: &'a Report, key: &str) -> &'a Group {
    r.groups.iter().find(|g| g.key == key).expect("group")
}

#[test]
fn counts_shares_and_the_friends_and_family_test() {
    let rows = fft(
        "2026-01",
        &[],
        &[
            ("very_good", 10),
            ("good", 6),
            ("neither", 5),
            ("poor", 0),
            ("very_poor", 0),
            (VALUE_DONT_KNOW, 0),
        ],
    );
    let r = report(&query(None, &[]), &rows);
    assert_eq!(r.periods, vec!["2026-01", "all"]);
    let all = &group(&r, "*").cells[1];
    assert_eq!(all.answered.n, Some(21));
    assert_eq!(all.options[0].n, Some(10));
    let share = all.options[0].share.expect("shown");
    assert!((share - 10.0 / 21.0).abs() < 1e-9);
    let pos = all
        .measures
        .iter()
        .find(|m| m.id == "fft_positive")
        .expect("fft");
    assert_eq!(pos.value, Some(76.2), "16 of 21");
    let neg = all
        .measures
        .iter()
        .find(|m| m.id == "fft_negative")
        .expect("fft");
    assert_eq!(neg.value, Some(0.0));
}

#[test]
fn a_small_school_reads_fewer_than_5_and_cannot_be_worked_out_from_everyone() {
    // Three respondents at the special school; everyone's totals shown.
    let mut rows = fft(
        "2026-01",
        &["special_school"],
        &[("very_good", 1), ("poor", 2)],
    );
    rows.extend(fft(
        "2026-01",
        &["clinic"],
        &[("very_good", 12), ("good", 9), ("poor", 6)],
    ));
    rows.extend(fft(
        "2026-01",
        &["home"],
        &[("very_good", 7), ("good", 8), ("poor", 5)],
    ));
    let r = report(&query(Some(Dim::Setting), &[]), &rows);
    // The school has no row: a group listed says that someone there
    // answered. Its counts are still in everyone's.
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["clinic", "home", "*"]);
    let everyone = &group(&r, "*").cells[1];
    assert_eq!(everyone.answered.n, Some(50));
    // Everyone minus the settings shown would give the school: so, in
    // every column where the school has someone, a setting shown is
    // hidden there.
    let hidden_in = |at: &dyn Fn(&Cell) -> &Count| {
        r.groups
            .iter()
            .filter(|g| g.key != "*" && at(&g.cells[1]).n.is_none())
            .count()
    };
    assert!(hidden_in(&|c| &c.answered) >= 1, "the school's total");
    for o in [0, 3] {
        assert!(hidden_in(&|c| &c.options[o]) >= 1, "option {o}");
    }
    // And a filter on the school reads as one on a setting nobody has.
    let school = report(&query(None, &[(Dim::Setting, "special_school")]), &rows);
    let nobody = report(&query(None, &[(Dim::Setting, "library")]), &rows);
    assert_eq!(school.groups, nobody.groups);
    for cell in &group(&school, "*").cells {
        assert_eq!(
            (cell.answered.n, cell.answered.hidden),
            (None, Some(suppress::UNLISTED))
        );
        assert!(cell.measures.iter().all(|m| m.value.is_none()));
    }
}

#[test]
fn a_filter_shows_exactly_what_the_split_shows_for_that_value() {
    let mut rows = fft(
        "2026-02",
        &["special_school"],
        &[("very_good", 1), ("poor", 2)],
    );
    rows.extend(fft(
        "2026-01",
        &["clinic"],
        &[("very_good", 12), ("good", 3), ("poor", 6)],
    ));
    rows.extend(fft(
        "2026-02",
        &["home"],
        &[("very_good", 7), ("good", 8), ("poor", 5)],
    ));
    let split = report(&query(Some(Dim::Setting), &[]), &rows);
    for setting in ["clinic", "home"] {
        let filtered = report(&query(None, &[(Dim::Setting, setting)]), &rows);
        assert_eq!(
            group(&filtered, "*").cells,
            group(&split, setting).cells,
            "{setting}"
        );
    }
    // The school (3) has no row in the split, and its filter no number.
    assert!(split.groups.iter().all(|g| g.key != "special_school"));
}

#[test]
fn quarters_and_months_agree_and_protect_each_other() {
    let mut rows = fft("2026-01", &[], &[("very_good", 3)]);
    rows.extend(fft("2026-02", &[], &[("very_good", 6)]));
    rows.extend(fft("2026-03", &[], &[("very_good", 9)]));
    rows.extend(fft("2026-04", &[], &[("very_good", 20)]));
    let months = report(&query(None, &[]), &rows);
    let mut q = query(None, &[]);
    q.granularity = Granularity::Quarter;
    let quarters = report(&q, &rows);
    // Q2 is not complete (May and June are not published yet): it is not
    // shown at all, for it would change as they are.
    assert_eq!(quarters.periods, vec!["2026-Q1", "all"]);
    let m = &group(&months, "*").cells;
    let qs = &group(&quarters, "*").cells;
    assert_eq!(qs[0].answered.n, Some(18));
    assert_eq!(m[0].answered.hidden, Some("hidden"));
    // Q1 is shown, so January = Q1 - February - March must not be possible.
    let shown_feb_mar = [&m[1], &m[2]]
        .iter()
        .filter(|c| c.answered.n.is_some())
        .count();
    assert!(shown_feb_mar < 2);
    // The whole range is added up from the periods shown: hidden where one
    // of them is.
    assert_eq!(m.last().expect("all").answered.n, None);
    assert_eq!(qs.last().expect("all").answered.n, Some(18));
}

#[test]
fn versions_with_a_changed_question_are_left_out_and_named() {
    let v1 = satisfaction();
    let mut v2 = v1.clone();
    v2.version = semver::Version::new(2, 0, 0);
    let mut v3 = v1.clone();
    v3.version = semver::Version::new(3, 0, 0);
    if let Some(q) = v2.questions.iter_mut().find(|q| q.id == "fft")
        && let QuestionKind::SingleChoice { options } = &mut q.kind
    {
        options.pop();
    }
    let mut v0 = v1.clone();
    v0.version = semver::Version::new(0, 9, 0);
    v0.questions.retain(|q| q.id != "fft");
    let p = plan("area", &query(None, &[]), &[v0, v1, v2, v3], None).expect("plan");
    let r = build(&p, &[], &[], &[]).expect("build");
    assert_eq!(r.versions, vec!["1.0.1", "3.0.0"]);
    let reasons: Vec<(&str, bool)> = r
        .excluded_versions
        .iter()
        .map(|e| (e.version.as_str(), e.reason.contains("differently")))
        .collect();
    assert_eq!(reasons, vec![("0.9.0", false), ("2.0.0", true)]);
}

#[test]
fn bad_queries_are_refused_with_a_reason() {
    let forms = [satisfaction()];
    let mut q = query(None, &[]);
    q.question = "nope".into();
    assert!(matches!(
        plan("a", &q, &forms, None),
        Err(ReportError::UnknownQuestion { .. })
    ));
    assert!(matches!(
        plan("a", &q, &[], None),
        Err(ReportError::UnknownForm(_))
    ));
    let mut q = query(None, &[]);
    q.from = Some("2026-13".into());
    assert!(matches!(
        plan("a", &q, &forms, None),
        Err(ReportError::Bad(_))
    ));
    let q = query(Some(Dim::Setting), &[(Dim::Setting, "home")]);
    assert!(matches!(
        plan("a", &q, &forms, None),
        Err(ReportError::Bad(_))
    ));
    let q = query(
        Some(Dim::Need),
        &[(Dim::Setting, "home"), (Dim::AgePhase, "primary")],
    );
    assert!(
        matches!(plan("a", &q, &forms, None), Err(ReportError::Bad(_))),
        "three of setting, age phase, need and pathway"
    );
    let q = query(
        Some(Dim::Version),
        &[(Dim::Setting, "home"), (Dim::Need, "autism")],
    );
    assert!(plan("a", &q, &forms, None).is_ok(), "two, and the version");
}

#[test]
fn a_score_is_hidden_when_it_would_reveal_a_hidden_cell() {
    // very_good 3 and poor 2 are hidden together: % positive would give
    // very_good exactly, so it is hidden; % negative likewise.
    let rows = fft(
        "2026-01",
        &[],
        &[("very_good", 3), ("good", 10), ("neither", 9), ("poor", 2)],
    );
    let r = report(&query(None, &[]), &rows);
    let cell = &group(&r, "*").cells[1];
    assert_eq!(cell.options[0].n, None);
    assert!(cell.measures.iter().all(|m| m.value.is_none()));
    // Both hidden cells positive: % positive follows from what is shown.
    let rows = fft(
        "2026-01",
        &[],
        &[("very_good", 3), ("good", 2), ("neither", 9), ("poor", 10)],
    );
    let r = report(&query(None, &[]), &rows);
    let cell = &group(&r, "*").cells[1];
    let pos = cell
        .measures
        .iter()
        .find(|m| m.id == "fft_positive")
        .expect("fft");
    assert_eq!(pos.value, Some(20.8), "5 of 24");
}

#[test]
fn a_group_of_fewer_than_10_shows_its_count_but_not_its_breakdown() {
    // Seven at the clinic, all "very good": the row says how many, never
    // "0" for the other answers.
    let mut rows = fft("2026-01", &["clinic"], &[("very_good", 7)]);
    rows.extend(fft(
        "2026-01",
        &["home"],
        &[("very_good", 12), ("good", 9), ("poor", 6)],
    ));
    rows.extend(fft(
        "2026-01",
        &["school"],
        &[("very_good", 10), ("good", 10), ("poor", 8)],
    ));
    let r = report(&query(Some(Dim::Setting), &[]), &rows);
    let clinic = &group(&r, "clinic").cells[1];
    assert_eq!(clinic.answered.n, Some(7));
    for o in &clinic.options {
        assert_eq!((o.n, o.hidden), (None, Some("not enough responses")));
        assert_eq!(o.share, None);
    }
    assert!(clinic.measures.iter().all(|m| m.value.is_none()));
    // And "everyone minus the others" cannot give the clinic's zeros back:
    // in every option column where the clinic is hidden, something else
    // is hidden too.
    for o in 0..r.options.len() {
        let hidden = r
            .groups
            .iter()
            .filter(|g| g.key != "*" && g.cells[1].options[o].n.is_none())
            .count();
        let everyone = group(&r, "*").cells[1].options[o].n;
        assert!(
            everyone.is_none() || everyone == Some(0) || hidden >= 2,
            "option {o}"
        );
    }
    assert_eq!(r.min_breakdown, 10);
}

#[test]
fn every_hidden_count_reads_the_same_so_a_row_total_cannot_pin_one() {
    // 30 answered: 24 / 5 / 1. With "fewer than 5" on the 1 and
    // "suppressed" on the 5, the labels alone would pin both.
    let rows = fft(
        "2026-01",
        &[],
        &[("very_good", 24), ("good", 5), ("poor", 1)],
    );
    let r = report(&query(None, &[]), &rows);
    let cell = &group(&r, "*").cells[1];
    let labels: Vec<Option<&str>> = cell
        .options
        .iter()
        .filter(|o| o.n.is_none())
        .map(|o| o.hidden)
        .collect();
    assert!(labels.len() >= 2, "{labels:?}");
    assert!(labels.iter().all(|l| *l == Some("hidden")), "{labels:?}");
}

#[test]
fn an_answered_count_shared_with_the_respondents_is_suppressed_alike() {
    // An optional question answered by everyone but one respondent at the
    // home: its answered cells differ from the respondents' there, equal
    // elsewhere; where equal they are shown or hidden exactly as the
    // respondent counts are (which every required question's report shows).
    let mut rows = fft(
        "2026-01",
        &["home"],
        &[("very_good", 12), ("good", 9), ("poor", 6)],
    );
    rows.extend(fft("2026-01", &["school"], &[("very_good", 3)]));
    rows.extend(fft(
        "2026-01",
        &["clinic"],
        &[("very_good", 20), ("good", 9)],
    ));
    let mut people = respondents(&rows);
    for p in &mut people {
        if p.dims == ["home"] {
            p.n += 1;
        }
    }
    let q = query(Some(Dim::Setting), &[]);
    let p = plan("area", &q, &[satisfaction()], through(&rows).as_deref()).expect("plan");
    let with_base = build(&p, &rows, &people, &people).expect("build");
    let base_only = build(&p, &respondents(&people), &people, &people).expect("build");
    for g in &with_base.groups {
        let b = group(&base_only, &g.key);
        for (c, bc) in g.cells.iter().zip(&b.cells) {
            if c.answered.n.is_some() && bc.answered.n.is_some() {
                continue;
            }
            if g.key != "home" && g.key != "*" {
                assert_eq!(c.answered.n, bc.answered.n, "{} {}", g.key, c.period);
            }
        }
    }
    // The school's three are not a group of their own.
    assert!(with_base.groups.iter().all(|g| g.key != "school"));
}

/// Responses for the measurement: (month, setting, age phase, fft option).
fn area_responses(
    n: usize,
    months: usize,
    settings: usize,
    seed: u64,
) -> Vec<(String, String, String, &'static str)> {
    let options = ["very_good", "good", "neither", "poor", "very_poor"];
    let phases = ["early_years", "primary", "secondary", "post_16", "19_25"];
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let m = (next() % months as u64) as i64;
            // Settings of very different sizes: the first few hold most.
            let s = (next() % (settings * settings) as u64) as f64;
            let s = (s.sqrt() as usize).min(settings - 1);
            let o = match next() % 100 {
                0..55 => 0,
                55..80 => 1,
                80..90 => 2,
                90..96 => 3,
                _ => 4,
            };
            (
                format!("{:04}-{:02}", 2025 + m / 12, m % 12 + 1),
                format!("setting{}", settings - 1 - s),
                phases[(next() % 5) as usize].to_owned(),
                options[o],
            )
        })
        .collect()
}

/// The tallies a plan reads of responses (month, setting, age phase,
/// option), every one answering `fft`.
fn tallies_of(p: &Plan, data: &[(String, String, String, &str)]) -> Vec<TallyRow> {
    let mut tally: std::collections::BTreeMap<(String, Vec<String>, String), i64> =
        std::collections::BTreeMap::new();
    for (m, s, a, o) in data {
        let dims: Vec<String> = p
            .tallies
            .dims
            .iter()
            .map(|d| {
                if *d == Dim::Setting {
                    s.clone()
                } else {
                    a.clone()
                }
            })
            .collect();
        for v in [VALUE_ANSWERED, o] {
            *tally
                .entry((m.clone(), dims.clone(), v.to_owned()))
                .or_default() += 1;
        }
    }
    tally
        .into_iter()
        .map(|((month, dims, value), n)| TallyRow {
            form_id: "service-satisfaction".into(),
            month,
            dims,
            value,
            n,
        })
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(120))]
    /// Time: a report read when a month is published and read again after
    /// later months are (with late responses counted in those) shows every
    /// earlier period exactly as before, every count, label and score, in
    /// every split, filter and period: so no read before and after tells
    /// where a response went.
    #[test]
    fn a_later_read_shows_every_published_period_as_it_was(
        data in proptest::collection::vec(
            (0usize..8, 0usize..3, 0usize..2, proptest::prelude::prop_oneof![0usize..2, 0usize..5]),
            0..160,
        ),
        first in 0usize..7,
        gap in 1usize..4,
    ) {
        let options = ["very_good", "good", "neither", "poor", "very_poor"];
        let month = |m: usize| format!("2026-{:02}", m + 1);
        let data: Vec<(String, String, String, &str)> = data
            .iter()
            .map(|&(m, s, a, o)| (month(m), format!("s{s}"), ["primary", "secondary"][a].to_owned(), options[o]))
            .collect();
        let (before, after) = (month(first), month((first + gap).min(7)));
        for (split, filter, granularity) in [
            (None, None, Granularity::Month),
            (Some(Dim::Setting), None, Granularity::Month),
            (Some(Dim::Setting), None, Granularity::Quarter),
            (Some(Dim::AgePhase), Some((Dim::Setting, "s1")), Granularity::Month),
            (Some(Dim::Setting), Some((Dim::AgePhase, "primary")), Granularity::Quarter),
        ] {
            let mut q = query(split, &filter.into_iter().collect::<Vec<_>>());
            q.granularity = granularity;
            let read = |through: &str| {
                let p = plan("area", &q, &[satisfaction()], Some(through)).expect("plan");
                let published: Vec<_> = data.iter().filter(|d| d.0.as_str() <= through).cloned().collect();
                let rows = tallies_of(&p, &published);
                build(&p, &rows, &respondents(&rows), &respondents(&rows)).expect("build")
            };
            let (early, late) = (read(&before), read(&after));
            for g in &early.groups {
                let Some(lg) = late.groups.iter().find(|l| l.key == g.key) else {
                    proptest::prop_assert!(false, "group {} is gone", g.key);
                    continue;
                };
                // A value not yet listed reads as nobody's; once listed, its periods read as the cube
                // always had them (listing changes no count).
                for c in g.cells.iter().filter(|c| c.period != "all" && c.answered.hidden != Some(suppress::UNLISTED)) {
                    let lc = lg.cells.iter().find(|l| l.period == c.period);
                    proptest::prop_assert_eq!(Some(c), lc, "{} {} ({:?})", g.key, c.period, (split, filter, granularity));
                }
            }
        }
    }
}

/// Hidden share and % positive coverage, for the closing note:
/// `cargo test -p hark-server --lib report::tests::measure -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn measure_hidden_shares() {
    for (name, n, months, settings) in [
        ("small area (300, 12 months, 6 settings)", 300, 12, 6),
        (
            "1,000,000 responses (36 months, 12 settings)",
            1_000_000,
            36,
            12,
        ),
    ] {
        let data = area_responses(n, months, settings, 7);
        for (split, filter, granularity) in [
            (Dim::Setting, None, Granularity::Month),
            (Dim::Setting, None, Granularity::Quarter),
            (
                Dim::Setting,
                Some((Dim::AgePhase, "primary")),
                Granularity::Quarter,
            ),
            (Dim::AgePhase, None, Granularity::Month),
        ] {
            let mut q = query(Some(split), &filter.into_iter().collect::<Vec<_>>());
            q.granularity = granularity;
            let last = data.iter().map(|d| d.0.clone()).max();
            let p = plan("area", &q, &[satisfaction()], last.as_deref()).expect("plan");
            let rows = tallies_of(&p, &data);
            let r = build(&p, &rows, &respondents(&rows), &respondents(&rows)).expect("build");
            let (mut cells, mut hidden, mut groups10, mut shown10) = (0, 0, 0, 0);
            for g in r.groups.iter().filter(|g| g.key != "*") {
                for c in &g.cells {
                    for o in std::iter::once(&c.answered).chain(&c.options) {
                        cells += 1;
                        hidden += usize::from(o.n.is_none());
                    }
                    let positive = c.measures.iter().find(|m| m.id == "fft_positive");
                    // Respondents known from any report of a required question.
                    let answered = c.answered.n.unwrap_or(0);
                    if answered >= 10 {
                        if std::env::var_os("HARK_MEASURE_SHOW").is_some()
                            && positive.is_none_or(|m| m.value.is_none())
                        {
                            eprintln!(
                                "{} {} answered {answered}: {:?}",
                                g.key,
                                c.period,
                                c.options.iter().map(|o| o.n).collect::<Vec<_>>()
                            );
                        }
                        groups10 += 1;
                        shown10 += usize::from(positive.is_some_and(|m| m.value.is_some()));
                    }
                }
            }
            println!(
                "{name} | split {split:?} filter {filter:?} {granularity:?} | cells hidden {hidden}/{cells} ({:.1}%) | % positive shown for {shown10} of {groups10} group-periods with 10+ answered",
                100.0 * hidden as f64 / cells.max(1) as f64
            );
        }
    }
}

#[test]
fn a_number_is_listed_from_the_quarter_after_5_gave_it_and_published_months_keep_it_pooled() {
    let form = Form::from_json(
        r#"{"id": "waiting", "version": "1.0.0", "title": {"en": "Waiting"},
            "audience": "parent_carer", "theme": "diagnosis", "languages": ["en"],
            "questions": [{"id": "weeks", "type": "decimal", "required": true,
                           "label": {"en": "Weeks waited?"}}]}"#,
    )
    .expect("valid");
    let tally = |month: &str, value: &str, n: i64| TallyRow {
        form_id: "waiting".into(),
        month: month.into(),
        dims: Vec::new(),
        value: value.into(),
        n,
    };
    // 2.5 and 10 are each given by 5 or more over the whole form (10 only
    // across two months) by March; 3 by one parent, 7.25 by two.
    let answers = [
        ("2026-02", "2.5", 7),
        ("2026-02", "10", 3),
        ("2026-03", "10", 3),
        ("2026-03", "3", 1),
        ("2026-03", "7.25", 2),
        ("2026-04", "2.5", 6),
        ("2026-04", "10", 5),
        ("2026-04", "3", 1),
    ];
    let mut rows: Vec<TallyRow> = answers.iter().map(|(m, v, n)| tally(m, v, *n)).collect();
    for month in ["2026-02", "2026-03", "2026-04"] {
        let n = answers.iter().filter(|a| a.0 == month).map(|a| a.2).sum();
        rows.push(tally(month, VALUE_ANSWERED, n));
    }
    let q = ReportQuery {
        form: "waiting".into(),
        question: "weeks".into(),
        ..ReportQuery::default()
    };
    let read = |through: &str| {
        let rows: Vec<TallyRow> = rows
            .iter()
            .filter(|r| r.month.as_str() <= through)
            .cloned()
            .collect();
        let p = plan("area", &q, std::slice::from_ref(&form), Some(through)).expect("plan");
        build(&p, &rows, &respondents(&rows), &respondents(&rows)).expect("build")
    };
    // In March, nothing is listed yet: a value reaching 5 is listed from
    // the next quarter, so the months published keep it in "other values".
    let march = read("2026-03");
    let ids: Vec<&str> = march.options.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["~other"]);
    assert_eq!(march.options[0].label, "other values");
    let feb = &group(&march, "*").cells[0];
    assert_eq!((feb.answered.n, feb.options[0].n), (Some(10), Some(10)));
    // In April, 2.5 and 10 are listed from April on; February reads as it
    // did, the two values "in other values" there.
    let april = read("2026-04");
    let ids: Vec<&str> = april.options.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["2.5", "10", "~other"]);
    let cells = &group(&april, "*").cells;
    let shown = |c: &Cell| {
        c.options
            .iter()
            .map(|o| (o.n, o.hidden))
            .collect::<Vec<_>>()
    };
    let pooled = (None, Some("in other values"));
    assert_eq!(shown(&cells[0]), [pooled, pooled, (Some(10), None)]);
    assert_eq!(cells[0].answered.n, Some(10));
    let apr = cells.iter().find(|c| c.period == "2026-04").expect("April");
    assert_eq!(apr.options[0].n, Some(6));
    // The one parent who gave 3 is counted, and hidden (1 < 5), with a
    // complement so that it cannot be worked out from "answered".
    assert_eq!(apr.options[2].hidden, Some("hidden"));
    assert_eq!(apr.options[1].hidden, Some("hidden"));
    assert_eq!(apr.answered.n, Some(12));
}

#[test]
fn a_report_spans_at_most_ten_years_dropping_whole_quarters() {
    let mut rows = fft("2000-01", &[], &[("very_good", 20)]);
    rows.extend(fft("2026-05", &[], &[("good", 20)]));
    let r = report(&query(None, &[]), &rows);
    // Periods: 120 months at most, then "all".
    assert!(r.periods.len() <= MAX_MONTHS + 1, "{}", r.periods.len());
    assert_eq!(r.periods.first().map(String::as_str), Some("2016-07"));
    assert_eq!(r.periods[r.periods.len() - 2], "2026-05");
    let mut q = query(None, &[]);
    q.granularity = Granularity::Quarter;
    let quarters = report(&q, &rows);
    assert_eq!(
        quarters.periods.first().map(String::as_str),
        Some("2016-Q3")
    );
}

#[test]
fn two_small_groups_not_listed_do_not_protect_each_other() {
    // A school of 3 and an event of 2 have no rows; everyone's 40 less the
    // clinic's and the home's would be their 5, and a reader who knows
    // each had at most 4 would prove each 1 to 4. So a listed group is
    // hidden beside them.
    let mut rows = fft("2026-01", &["clinic"], &[("very_good", 12), ("good", 8)]);
    rows.extend(fft("2026-01", &["home"], &[("very_good", 9), ("good", 6)]));
    rows.extend(fft("2026-01", &["school"], &[("very_good", 3)]));
    rows.extend(fft("2026-01", &["event"], &[("good", 2)]));
    let r = report(&query(Some(Dim::Setting), &[]), &rows);
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["clinic", "home", "*"]);
    assert_eq!(group(&r, "*").cells[0].answered.n, Some(40));
    assert!(
        ["clinic", "home"]
            .iter()
            .any(|g| group(&r, g).cells[0].answered.n.is_none()),
        "{:?}",
        r.groups
    );
}

#[test]
fn a_dimension_none_of_whose_values_is_listed_never_bounds_them_all_from_everyone() {
    // Six answered in January, three with each of two needs. Were neither
    // listed, a reader would know each had at most 4, and from everyone's
    // 6, at least 2: both needs there, and small.
    let mut rows = fft("2026-01", &["autism"], &[("very_good", 3)]);
    rows.extend(fft("2026-01", &["adhd"], &[("good", 3)]));
    let listed = |rows: &[TallyRow]| {
        let people = respondents(rows);
        listed_since(
            Dim::Need,
            people
                .iter()
                .map(|r| (r.dims.first(), month_index(&r.month), r.n)),
        )
    };
    // So the one most had (the first by name) is listed too: its count
    // is no longer bounded, and no total bounds the other's from below.
    let since = listed(&rows);
    assert_eq!(since.keys().collect::<Vec<_>>(), ["adhd"]);
    let split = report(&query(Some(Dim::Need), &[]), &rows);
    let adhd = group(&split, "adhd");
    assert_eq!(adhd.cells[0].answered.n, None, "3 is small: hidden");
    assert_eq!(adhd.cells[0].answered.hidden, Some("hidden"));
    assert!(split.groups.iter().all(|g| g.key != "autism"));
    assert_eq!(group(&split, "*").cells[0].answered.n, Some(6));
    // It stays listed as more are recorded.
    let mut later = rows.clone();
    later.extend(fft("2026-02", &["autism"], &[("very_good", 2)]));
    assert_eq!(
        listed(&later).keys().collect::<Vec<_>>(),
        ["adhd", "autism"]
    );
    // Where the total bounds nobody from below (2 + 2 + 2 of three needs:
    // each at most 4, so at least 6 - 8), nothing is listed early; nor at
    // 4 of two needs, where each may have none.
    let mut three = fft("2026-01", &["autism"], &[("good", 2)]);
    three.extend(fft("2026-01", &["adhd"], &[("good", 2)]));
    assert!(listed(&three).is_empty());
    three.extend(fft("2026-01", &["sensory"], &[("good", 2)]));
    assert!(listed(&three).is_empty());
    // At 8 (4 × 2, where one more would bound each at 1), the one most
    // had is listed, from that month.
    three.extend(fft("2026-02", &["sensory"], &[("good", 2)]));
    let feb = month_index("2026-02").expect("a month");
    assert_eq!(listed(&three), [("sensory".to_owned(), feb)].into());
}
