use super::*;
use crate::test_support::sample_form;
use proptest::prelude::*;

fn ctx() -> ResponseContext {
    ResponseContext {
        area: "hartlepool".into(),
        setting: Some("home".into()),
        occasion: Some("visit-1".into()),
        practitioner: Some("fw-17".into()),
        device: "dev-a".into(),
        captured_at: 1_700_000_000_000,
        ..ResponseContext::default()
    }
}

fn start() -> (Form, ResponseDoc) {
    let form = sample_form();
    let doc = ResponseDoc::start("r1", &form, &ctx(), Consent::child(), "fw-17").expect("start");
    (form, doc)
}

fn choice(s: &str) -> Answer {
    Answer::Choice(s.into())
}

/// A second device's copy of the same response.
fn copy(doc: &mut ResponseDoc, author: &str) -> ResponseDoc {
    ResponseDoc::load(&doc.save(), author).expect("load")
}

#[test]
fn a_visit_answers_submits_and_raises_the_written_guidance() {
    let (form, mut doc) = start();
    doc.answer(&form, "school", Answer::Scale(2), 1)
        .expect("answer");
    doc.answer(
        &form,
        "why_unsafe",
        Answer::Text("big kids on the bus".into()),
        2,
    )
    .expect("answer");
    doc.answer(&form, "tell", Answer::Choices(vec!["teacher".into()]), 3)
        .expect("answer");
    let flags = doc.submit(&form, 4).expect("submit");
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].trigger, "unsafe_school");
    assert_eq!(flags[0].level, FlagLevel::Urgent);
    assert_eq!(
        flags[0].guidance.get("en", "en"),
        "Follow local safeguarding procedures today."
    );
    let header = doc.header().expect("header");
    assert_eq!(header.status, Status::Submitted);
    assert_eq!(header.flags.len(), 1);
    assert_eq!(header.answered, 3);
    assert_eq!(header.submitted_at, Some(4));
}

#[test]
fn refused_answers_change_nothing() {
    let (form, mut doc) = start();
    doc.answer(&form, "school", Answer::Scale(4), 1)
        .expect("answer");
    let before = doc.heads();
    let cases: Vec<(&str, Answer)> = vec![
        ("nope", Answer::Scale(1)),
        ("school", choice("yes")),
        ("school", Answer::Scale(6)),
        ("why_unsafe", Answer::Text("not asked: school is 4".into())),
        ("tell", Answer::Choices(vec!["dragon".into()])),
        ("age", Answer::Number(99)),
        ("visit", Answer::Date("2019-01-01".into())),
        ("club", Answer::PreferNotToSay),
    ];
    for (q, a) in cases {
        let err = doc.answer(&form, q, a, 9).expect_err(q);
        assert!(matches!(err, Error::Answer(_)), "{q}: {err}");
        assert_eq!(doc.heads(), before, "{q} changed the document");
    }
    assert_eq!(doc.answers().expect("answers").len(), 1);
}

#[test]
fn a_note_is_shown_but_an_answer_to_it_is_refused() {
    let (form, mut doc) = start();
    doc.answer(&form, "club", choice("no"), 1).expect("answer");
    let before = doc.heads();
    let err = doc
        .answer(&form, "thanks", Answer::Text("read".into()), 2)
        .expect_err("a note takes no answer");
    assert_eq!(
        err.to_string(),
        "question 'thanks' is a note: it takes no answer"
    );
    assert_eq!(doc.heads(), before);
    assert!(
        form.asked(&doc.answers().expect("answers"))
            .contains(&"thanks")
    );
}

#[test]
fn changing_an_answer_clears_what_skip_logic_no_longer_asks() {
    let (form, mut doc) = start();
    doc.answer(&form, "school", Answer::Scale(1), 1)
        .expect("answer");
    doc.answer(&form, "why_unsafe", Answer::Text("shouting".into()), 2)
        .expect("answer");
    doc.answer(&form, "club", choice("yes"), 3).expect("answer");
    doc.answer(&form, "club_name", choice("sport"), 4)
        .expect("answer");
    let out = doc
        .answer(&form, "school", Answer::Scale(5), 5)
        .expect("answer");
    assert_eq!(out.cleared, ["why_unsafe"]);
    let out = doc.clear(&form, "club", 6).expect("clear");
    assert_eq!(out.cleared, ["club_name"]);
    assert_eq!(
        doc.answers().expect("answers").keys().collect::<Vec<_>>(),
        ["school"]
    );
}

#[test]
fn submit_checks_required_answers_and_consent() {
    let (form, mut doc) = start();
    let before = doc.heads();
    match doc.submit(&form, 1) {
        Err(Error::Incomplete(p)) => {
            assert_eq!(p, [SubmitProblem::MissingRequired("school".into())])
        }
        other => panic!("expected incomplete, got {other:?}"),
    }
    assert_eq!(doc.heads(), before);
    doc.answer(&form, "school", Answer::PreferNotToSay, 2)
        .expect("don't want to say counts as an answer");
    doc.set_consent(
        Consent {
            consent: Permission::Given,
            assent: Permission::Refused,
        },
        3,
    )
    .expect("consent");
    assert!(
        matches!(doc.submit(&form, 4), Err(Error::Incomplete(p)) if p == [SubmitProblem::NoConsent])
    );
    doc.set_consent(
        Consent {
            consent: Permission::NotApplicable,
            assent: Permission::Given,
        },
        5,
    )
    .expect("consent");
    assert_eq!(doc.submit(&form, 6).expect("submit"), []);
}

#[test]
fn edits_after_submit_need_a_reopen_and_flags_stay() {
    let (form, mut doc) = start();
    doc.answer(&form, "school", Answer::Scale(1), 1)
        .expect("answer");
    doc.submit(&form, 2).expect("submit");
    assert!(matches!(
        doc.answer(&form, "school", Answer::Scale(5), 3),
        Err(Error::AlreadySubmitted)
    ));
    assert!(matches!(
        doc.reopen(3).and_then(|()| doc.reopen(4)),
        Err(Error::NotSubmitted)
    ));
    doc.answer(&form, "school", Answer::Scale(5), 5)
        .expect("answer after reopen");
    assert_eq!(doc.submit(&form, 6).expect("resubmit"), []);
    assert_eq!(
        doc.flags().len(),
        1,
        "a disclosure once made is never silently removed"
    );
    assert_eq!(doc.answers().expect("answers")["school"], Answer::Scale(5));
}

#[test]
fn merge_keeps_both_sides_and_reports_the_same_conflict_everywhere() {
    let (form, mut a) = start();
    a.answer(&form, "school", Answer::Scale(3), 1)
        .expect("answer");
    let mut b = copy(&mut a, "fw-2");
    assert_ne!(
        a.doc.get_actor(),
        b.doc.get_actor(),
        "a copy never reuses an actor id"
    );
    a.answer(&form, "club", choice("no"), 2).expect("answer");
    b.answer(&form, "age", Answer::Number(10), 2)
        .expect("answer");
    a.answer(&form, "tell", Answer::Choices(vec!["parent".into()]), 3)
        .expect("answer");
    b.answer(&form, "tell", Answer::Choices(vec!["friend".into()]), 3)
        .expect("answer");
    let mut c = copy(&mut b, "fw-3");
    let ca = a.merge(&mut c).expect("merge");
    let cb = b.merge(&mut copy(&mut a, "x")).expect("merge");
    assert_eq!(a.answers().expect("a"), b.answers().expect("b"));
    assert_eq!(a.heads(), b.heads());
    assert_eq!(ca, cb);
    assert_eq!(ca.len(), 1);
    assert_eq!(ca[0].question, "tell");
    assert_eq!(ca[0].values.len(), 2);
    let answers = a.answers().expect("answers");
    assert_eq!(answers["club"], choice("no"));
    assert_eq!(answers["age"], Answer::Number(10));
    let authors: Vec<String> = a
        .doc
        .get_authors()
        .iter()
        .map(|x| String::from_utf8_lossy(x.as_bytes()).into())
        .collect();
    assert!(
        authors.contains(&"fw-17".to_owned()) && authors.contains(&"fw-2".to_owned()),
        "{authors:?}"
    );
    // A later answer resolves the conflict.
    a.answer(
        &form,
        "tell",
        Answer::Choices(vec!["parent".into(), "friend".into()]),
        4,
    )
    .expect("answer");
    assert!(a.conflicts().expect("conflicts").is_empty());
}

#[test]
fn concurrent_context_edits_merge_field_by_field() {
    let (form, mut a) = start();
    let mut b = copy(&mut a, "fw-2");
    let mut ca = a.context();
    ca.setting = Some("school".into());
    a.set_context(&ca, 1).expect("context");
    b.answer(&form, "school", Answer::Scale(5), 1)
        .expect("answer");
    let mut cb = b.context();
    cb.age_phase = Some("primary".into());
    b.set_context(&cb, 2).expect("context");
    a.merge(&mut b).expect("merge");
    let merged = a.context();
    assert_eq!(merged.setting.as_deref(), Some("school"));
    assert_eq!(merged.age_phase.as_deref(), Some("primary"));
    assert_eq!(a.answers().expect("answers")["school"], Answer::Scale(5));
}

#[test]
fn only_copies_of_one_response_merge() {
    let (form, mut a) = start();
    let mut other = ResponseDoc::start("r2", &form, &ctx(), Consent::child(), "x").expect("start");
    assert!(matches!(a.merge(&mut other), Err(Error::NotSameResponse)));
}

#[test]
fn garbage_bytes_are_refused() {
    assert!(ResponseDoc::load(b"not automerge", "x").is_err());
    let mut plain = AutoCommit::new();
    plain.put(ROOT, "hark", "something/else").expect("put");
    assert!(matches!(
        ResponseDoc::load(&plain.save(), "x"),
        Err(Error::Malformed(_))
    ));
}

// ----- properties -----------------------------------------------------

/// Questions free of skip logic, so edits to one never clear another.
const FREE: [&str; 4] = ["q8", "q9", "q10", "age"];

fn value_for(q: &str, n: u8) -> Answer {
    if q == "age" {
        Answer::Number(4 + i64::from(n % 20))
    } else {
        choice(["yes", "no", "not_sure"][usize::from(n % 3)])
    }
}

#[derive(Clone, Debug)]
enum Op {
    Answer { replica: usize, q: usize, n: u8 },
    Clear { replica: usize, q: usize },
    Sync { a: usize, b: usize },
}

fn ops(replicas: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..replicas, 0..FREE.len(), any::<u8>()).prop_map(|(replica, q, n)| Op::Answer { replica, q, n }),
        1 => (0..replicas, 0..FREE.len()).prop_map(|(replica, q)| Op::Clear { replica, q }),
        2 => (0..replicas, 0..replicas).prop_map(|(a, b)| Op::Sync { a, b }),
    ];
    proptest::collection::vec(op, 0..40)
}

fn replicas(n: usize) -> (Form, Vec<ResponseDoc>) {
    let (form, mut first) = start();
    let mut reps: Vec<ResponseDoc> = (1..n)
        .map(|i| copy(&mut first, &format!("dev-{i}")))
        .collect();
    reps.insert(0, first);
    (form, reps)
}

fn sync(reps: &mut [ResponseDoc], a: usize, b: usize) {
    if a == b {
        return;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    let (left, right) = reps.split_at_mut(hi);
    left[lo].merge(&mut right[0]).expect("merge");
    right[0].merge(&mut left[lo]).expect("merge");
}

fn sync_all(reps: &mut [ResponseDoc]) {
    for i in 1..reps.len() {
        sync(reps, 0, i);
    }
    for i in 1..reps.len() {
        sync(reps, 0, i);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any interleaving of edits and partial syncs on 2 or 3 copies
    /// converges: same answers, same conflicts, same heads everywhere.
    #[test]
    fn copies_converge(n in 2usize..=3, ops in ops(3)) {
        let (form, mut reps) = replicas(n);
        for op in ops {
            match op {
                Op::Answer { replica, q, n: v } => {
                    let r = &mut reps[replica % n];
                    r.answer(&form, FREE[q], value_for(FREE[q], v), 1).expect("valid answer");
                }
                Op::Clear { replica, q } => { reps[replica % n].clear(&form, FREE[q], 1).expect("clear"); }
                Op::Sync { a, b } => sync(&mut reps, a % n, b % n),
            }
        }
        sync_all(&mut reps);
        let first = reps[0].answers().expect("answers");
        let conflicts = reps[0].conflicts().expect("conflicts");
        let heads = reps[0].heads();
        for r in &mut reps[1..] {
            prop_assert_eq!(&r.answers().expect("answers"), &first);
            prop_assert_eq!(&r.conflicts().expect("conflicts"), &conflicts);
            prop_assert_eq!(&r.heads(), &heads);
        }
    }

    /// When each question is edited on one device only, every device ends
    /// with exactly the last answer its owner gave (or none if cleared),
    /// whatever the order of syncs: nothing non-conflicting is lost.
    #[test]
    fn non_conflicting_answers_are_all_kept(n in 2usize..=3, ops in ops(3)) {
        let (form, mut reps) = replicas(n);
        let owner = |q: usize| q % n;
        let mut expected: BTreeMap<String, Answer> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Answer { q, n: v, .. } => {
                    let a = value_for(FREE[q], v);
                    reps[owner(q)].answer(&form, FREE[q], a.clone(), 1).expect("valid answer");
                    expected.insert(FREE[q].to_owned(), a);
                }
                Op::Clear { q, .. } => {
                    reps[owner(q)].clear(&form, FREE[q], 1).expect("clear");
                    expected.remove(FREE[q]);
                }
                Op::Sync { a, b } => sync(&mut reps, a % n, b % n),
            }
        }
        sync_all(&mut reps);
        for r in &reps {
            prop_assert_eq!(&r.answers().expect("answers"), &expected);
            prop_assert!(r.conflicts().expect("conflicts").is_empty());
        }
    }

    /// Two devices answering one question concurrently: both values are
    /// kept as a conflict, and every replica shows the same winner.
    #[test]
    fn concurrent_answers_conflict_visibly(x in any::<u8>(), y in any::<u8>(), q in 0..FREE.len(), order in any::<bool>()) {
        let (form, mut reps) = replicas(2);
        let (a, b) = (value_for(FREE[q], x), value_for(FREE[q], y));
        reps[0].answer(&form, FREE[q], a.clone(), 1).expect("answer");
        reps[1].answer(&form, FREE[q], b.clone(), 1).expect("answer");
        if order { sync(&mut reps, 0, 1) } else { sync(&mut reps, 1, 0) }
        let c0 = reps[0].conflicts().expect("conflicts");
        let c1 = reps[1].conflicts().expect("conflicts");
        prop_assert_eq!(&c0, &c1);
        prop_assert_eq!(c0.len(), 1);
        prop_assert!(c0[0].values.contains(&a) && c0[0].values.contains(&b));
        prop_assert!(c0[0].winner == a || c0[0].winner == b);
        prop_assert_eq!(&reps[0].answers().expect("answers")[FREE[q]], &c0[0].winner);
    }
}
