//! Checking a merged response against its form before anything is counted.
//! The server trusts no device: every document is checked here after every
//! merge, against the exact form version the area has installed. Pure,
//! but for the forms sync keeps once read ([`FormCache`]).
//!
//! Two outcomes, and the line between them is what an honest device can
//! produce:
//!
//! - **Refused** (the document is not stored, the device is told why):
//!   what no honest device writes, because every device checks the same
//!   rules before writing — a form or version the area does not have, an
//!   answer to a question the form lacks, an answer its question would
//!   refuse (wrong kind, unknown option, a list of picks with repeats or out
//!   of bounds, a number, date or text out of range), an answer that cannot
//!   be read, an id that is not a plain id, a capture time before 2000 or
//!   more than a day ahead of the server's clock.
//! - **Stored and counted as the rules say** (listed as a data problem for
//!   administrators): what honest devices can produce by merging concurrent
//!   edits — answers to questions skip logic no longer asks (not counted),
//!   a submitted response missing a required answer (counted, that question
//!   unanswered), a submitted response whose consent or assent is not
//!   recorded as given (stored, not counted at all), a setting, age phase,
//!   need or pathway not on the area's lists (counted under "other").
//!
//! Every outcome depends only on the document, the form and the lists, so
//! every server counts a merged document the same way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use hark_core::Answer;
use hark_core::doc::form_from_doc;
use hark_core::form::{Form, FormRef};
use hark_core::lists::{AreaLists, ListDim};
use hark_core::response::{ResponseDoc, Status};

use crate::projection::{Problem, Projection, Safeguarding, answer_row, month_of};

/// Earliest capture time accepted: 2000-01-01T00:00:00Z, in ms.
pub const EARLIEST_CAPTURE: i64 = 946_684_800_000;
/// How far ahead of the server's clock a capture time may be (a tablet's
/// clock a little fast), in ms.
pub const CLOCK_SLACK: i64 = 24 * 3600 * 1000;
/// Longest response id accepted (honest ids are UUIDs).
pub const MAX_ID: usize = 64;

/// The form versions an area has installed.
#[derive(Clone, Debug, Default)]
pub struct AreaForms(HashMap<FormRef, Arc<Form>>);

impl AreaForms {
    /// From the area's stored form documents (ones that fail to read are
    /// left out: a response to them is refused).
    pub fn from_docs(docs: &[Vec<u8>]) -> Self {
        Self(
            docs.iter()
                .filter_map(|d| form_from_doc(d).ok())
                .map(|f| (f.form_ref(), Arc::new(f)))
                .collect(),
        )
    }

    /// From `Storage::area_forms`, uncached (see [`FormCache`]).
    pub fn from_stored(docs: Vec<(String, Vec<u8>)>) -> Self {
        Self::from_docs(&docs.into_iter().map(|(_, d)| d).collect::<Vec<_>>())
    }

    /// One exact version.
    pub fn get(&self, r: &FormRef) -> Option<&Form> {
        self.0.get(r).map(|f| &**f)
    }
}

impl FromIterator<Form> for AreaForms {
    fn from_iter<I: IntoIterator<Item = Form>>(forms: I) -> Self {
        Self(
            forms
                .into_iter()
                .map(|f| (f.form_ref(), Arc::new(f)))
                .collect(),
        )
    }
}

/// Forms read from their documents, kept by document key so that a sync
/// exchange does not load, parse and check every form of its area again.
/// An entry is used only while the stored document is byte for byte the
/// one it was read from (retiring a form changes its document, which is
/// then read again), so the cache never says anything the database does
/// not, and servers sharing a database need not agree on theirs. It holds
/// one entry per form version stored, which only administrators add.
#[derive(Debug, Default)]
pub struct FormCache(Mutex<HashMap<String, Read>>);

/// A stored document as read: its bytes, and its form if it holds one.
type Read = (Vec<u8>, Option<Arc<Form>>);

impl FormCache {
    /// The forms of an area's stored form documents, as (key, document)
    /// (see [`AreaForms::from_docs`]).
    pub fn area_forms(&self, docs: Vec<(String, Vec<u8>)>) -> AreaForms {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut forms = HashMap::new();
        for (key, bytes) in docs {
            let kept = match lock().get(&key) {
                Some((read, form)) if *read == bytes => Some(form.clone()),
                _ => None,
            };
            // Read outside the lock: one area's first exchange does not
            // hold up every other area's.
            let form = kept.unwrap_or_else(|| {
                let form = form_from_doc(&bytes).ok().map(Arc::new);
                lock().insert(key, (bytes, form.clone()));
                form
            });
            if let Some(f) = form {
                forms.insert(f.form_ref(), f);
            }
        }
        AreaForms(forms)
    }
}

/// Whether an id is a plain id (1 to 64 ASCII letters, digits and `-`).
pub fn plain_id(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Checks a merged response and, unless it is refused (`Err`, a reason a
/// device may show), gives the projection to store and count.
pub fn check(
    response: &ResponseDoc,
    forms: &AreaForms,
    lists: &AreaLists,
    now_ms: i64,
) -> Result<Projection, String> {
    if !plain_id(response.id()) {
        return Err("a response id is 1 to 64 letters, digits and '-'".into());
    }
    let form = forms
        .get(response.form_ref())
        .ok_or_else(|| format!("form {} is not installed in this area", response.form_ref()))?;
    let (header, answers) = response
        .read()
        .map_err(|_| "an answer or flag cannot be read".to_owned())?;
    let c = &header.context;
    if c.captured_at < EARLIEST_CAPTURE || c.captured_at > now_ms.saturating_add(CLOCK_SLACK) {
        return Err(
            "the capture time is before 2000 or more than a day ahead: check the device's clock"
                .into(),
        );
    }
    for (question, answer) in &answers {
        let q = form
            .question(question)
            .ok_or_else(|| format!("form {} has no question '{question}'", form.form_ref()))?;
        match q.check(answer.clone()) {
            Ok(canonical) if canonical == *answer => {}
            Ok(_) if matches!(answer, Answer::Choices(_)) => {
                return Err(format!(
                    "the answer to '{question}' repeats or reorders its picks"
                ));
            }
            Ok(_) => {
                return Err(format!(
                    "the {} answer to '{question}' is not in canonical form (a decimal has no \
                     leading or trailing zeros and no -0)",
                    answer.kind()
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let walk = form.walk(&answers);
    let submitted = header.status == Status::Submitted;
    let mut problems = Vec::new();
    if submitted {
        problems.extend(
            walk.skipped
                .iter()
                .map(|q| Problem::NotAsked((*q).to_owned())),
        );
        problems.extend(
            walk.missing_required()
                .into_iter()
                .map(|q| Problem::MissingRequired(q.to_owned())),
        );
        if !header.consent.permits(form) {
            problems.push(Problem::NoConsent);
        }
    }
    let mut dim = |d: ListDim, v: &Option<String>| {
        let normal = lists.normalise(d, v.as_deref());
        if submitted && normal.is_some() && normal.as_deref() != v.as_deref().map(str::trim) {
            problems.push(Problem::NotOnList(d));
        }
        normal
    };
    let setting = dim(ListDim::Setting, &c.setting);
    let age_phase = dim(ListDim::AgePhase, &c.age_phase);
    let need = dim(ListDim::Need, &c.need);
    let pathway = dim(ListDim::Pathway, &c.pathway);
    let counted = submitted && !problems.contains(&Problem::NoConsent);
    // The server decides what the answers raise; the time is the device's
    // where it recorded the flag, else the submission's.
    let triggers = if submitted {
        form.raised(&walk.kept)
    } else {
        Vec::new()
    };
    let raised: Vec<(String, String, i64)> = triggers
        .into_iter()
        .map(|t| {
            let at = header
                .flags
                .iter()
                .find(|f| f.trigger == t.id)
                .map(|f| f.at)
                .or(header.submitted_at)
                .unwrap_or(c.captured_at);
            (t.id.clone(), t.level.as_str().to_owned(), at)
        })
        .collect();
    let safeguarding = (!raised.is_empty()).then(|| Safeguarding {
        occasion: c.occasion.clone(),
        practitioner: c.practitioner.clone(),
        raised,
    });
    Ok(Projection {
        form_id: header.form.id.clone(),
        form_version: header.form.version.to_string(),
        status: header.status,
        counted,
        setting,
        age_phase,
        need,
        pathway,
        kiosk: c.kiosk,
        captured_at: c.captured_at,
        submitted_at: header.submitted_at,
        month: month_of(c.captured_at),
        arrived_month: month_of(now_ms),
        counted_in: None,
        flags: i64::try_from(header.flags.len()).unwrap_or(i64::MAX),
        answers: walk
            .kept
            .into_iter()
            .map(|(q, a)| answer_row(q, a))
            .collect(),
        problems,
        safeguarding,
    })
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value};
    use hark_core::answer::Answer;
    use hark_core::doc::form_doc;
    use hark_core::form::builtin_form;
    use hark_core::lists::OTHER;
    use hark_core::response::{Consent, Permission, ResponseContext};

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn forms() -> AreaForms {
        let docs: Vec<Vec<u8>> = ["service-satisfaction", "feeling-safe-child"]
            .iter()
            .map(|id| form_doc(&builtin_form(id).expect("form")).expect("doc").1)
            .collect();
        AreaForms::from_docs(&docs)
    }

    #[test]
    fn the_form_cache_says_only_what_the_stored_documents_say() {
        let cache = FormCache::default();
        let form = |id: &str| builtin_form(id).expect("form");
        let doc = |id: &str| form_doc(&form(id)).expect("doc").1;
        let (ss, fs) = (
            form("service-satisfaction").form_ref(),
            form("feeling-safe-child").form_ref(),
        );
        let read = |docs: Vec<(&str, Vec<u8>)>| {
            let forms = cache.area_forms(docs.into_iter().map(|(k, d)| (k.into(), d)).collect());
            (
                forms.get(&ss).is_some(),
                forms.get(&fs).is_some(),
                forms.0.len(),
            )
        };
        assert_eq!(
            read(vec![("k", doc("service-satisfaction"))]),
            (true, false, 1)
        );
        assert_eq!(
            read(vec![("k", doc("service-satisfaction"))]),
            (true, false, 1)
        );
        // The same key holding another document is read again.
        assert_eq!(
            read(vec![("k", doc("feeling-safe-child"))]),
            (false, true, 1)
        );
        assert_eq!(read(vec![("k", b"not a form".to_vec())]), (false, false, 0));
        assert_eq!(
            read(vec![
                ("k", doc("service-satisfaction")),
                ("k2", doc("feeling-safe-child"))
            ]),
            (true, true, 2)
        );
        assert_eq!(read(vec![]), (false, false, 0), "only the documents given");
    }

    fn ctx() -> ResponseContext {
        ResponseContext {
            area: "hartlepool".into(),
            device: "tablet".into(),
            setting: Some("clinic".into()),
            captured_at: NOW - 1000,
            ..ResponseContext::default()
        }
    }

    /// A submitted satisfaction response, made as a device makes it.
    fn satisfaction() -> ResponseDoc {
        let form = builtin_form("service-satisfaction").expect("form");
        let mut doc =
            ResponseDoc::start("r-1", &form, &ctx(), Consent::adult(), "fw").expect("start");
        doc.answer(&form, "fft", Answer::Choice("very_good".into()), NOW)
            .expect("answer");
        doc.submit(&form, NOW).expect("submit");
        doc
    }

    /// Writes an answer object straight into the document, as a buggy or
    /// hostile device could.
    fn forge(
        doc: &mut ResponseDoc,
        question: &str,
        kind: &str,
        value: Option<ScalarValue>,
        list: &[&str],
    ) {
        let d = doc.doc_mut();
        let Ok(Some((Value::Object(ObjType::Map), answers))) = d.get(ROOT, "answers") else {
            panic!("answers map");
        };
        let obj = d
            .put_object(&answers, question, ObjType::Map)
            .expect("object");
        d.put(&obj, "t", kind).expect("kind");
        if let Some(v) = value {
            d.put(&obj, "v", v).expect("value");
        }
        if !list.is_empty() {
            let l = d.put_object(&obj, "v", ObjType::List).expect("list");
            for (i, x) in list.iter().enumerate() {
                d.insert(&l, i, *x).expect("pick");
            }
        }
        d.commit();
    }

    fn refusal(doc: &ResponseDoc) -> String {
        check(doc, &forms(), &AreaLists::defaults(), NOW).expect_err("refused")
    }

    #[test]
    fn an_answer_to_a_note_is_refused_and_a_note_is_never_counted() {
        let mut form = builtin_form("service-satisfaction").expect("form");
        let note =
            serde_json::json!({"id": "thanks", "type": "note", "label": {"en": "Thank you"}});
        form.questions
            .push(serde_json::from_value(note).expect("a note"));
        form.validate().expect("valid");
        let forms = AreaForms::from_docs(&[form_doc(&form).expect("doc").1]);
        let mut doc =
            ResponseDoc::start("r-1", &form, &ctx(), Consent::adult(), "fw").expect("start");
        doc.answer(&form, "fft", Answer::Choice("very_good".into()), NOW)
            .expect("answer");
        doc.submit(&form, NOW).expect("submit");
        let p = check(&doc, &forms, &AreaLists::defaults(), NOW).expect("counted");
        assert!(p.answers.iter().all(|a| a.question != "thanks"));
        forge(&mut doc, "thanks", "text", Some("read it".into()), &[]);
        let why = check(&doc, &forms, &AreaLists::defaults(), NOW).expect_err("refused");
        assert_eq!(why, "question 'thanks' is a note: it takes no answer");
    }

    #[test]
    fn a_valid_response_is_counted_as_answered() {
        let p = check(&satisfaction(), &forms(), &AreaLists::defaults(), NOW).expect("valid");
        assert!(p.counted);
        assert_eq!(p.setting.as_deref(), Some("clinic"));
        assert_eq!(p.answers.len(), 1);
        assert!(p.problems.is_empty());
    }

    #[test]
    fn what_no_honest_device_writes_is_refused_naming_the_problem() {
        let mut picks = satisfaction();
        let thousand: Vec<&str> = std::iter::repeat_n("very_good", 1000).collect();
        forge(&mut picks, "fft", "choices", None, &thousand);
        assert!(
            refusal(&picks).contains("'fft' expects a single_choice answer"),
            "{}",
            refusal(&picks)
        );

        let mut unknown = satisfaction();
        forge(
            &mut unknown,
            "not_a_question",
            "choice",
            Some("x".into()),
            &[],
        );
        assert!(refusal(&unknown).contains("no question 'not_a_question'"));

        let mut option = satisfaction();
        forge(&mut option, "fft", "choice", Some("brilliant".into()), &[]);
        assert!(refusal(&option).contains("no option 'brilliant'"));

        let mut kind = satisfaction();
        forge(&mut kind, "fft", "hologram", Some("x".into()), &[]);
        assert_eq!(refusal(&kind), "an answer or flag cannot be read");

        let mut long = satisfaction();
        forge(
            &mut long,
            "fft_why",
            "text",
            Some("x".repeat(100_000).into()),
            &[],
        );
        assert!(refusal(&long).contains("longer than"));

        let form = builtin_form("feeling-safe-child").expect("form");
        let mut child = ResponseDoc::start(
            "r-2",
            &form,
            &ResponseContext {
                captured_at: 0,
                ..ctx()
            },
            Consent::child(),
            "fw",
        )
        .expect("start");
        assert!(refusal(&child).contains("device's clock"), "1970");
        child
            .set_context(
                &ResponseContext {
                    captured_at: NOW + CLOCK_SLACK + 1,
                    ..ctx()
                },
                NOW,
            )
            .expect("context");
        assert!(refusal(&child).contains("device's clock"), "the future");

        let mut other = ResponseDoc::start(
            "r-3",
            &builtin_form("local-offer").expect("form"),
            &ctx(),
            Consent::adult(),
            "fw",
        )
        .expect("start");
        assert!(refusal(&other).contains("not installed in this area"));
        other.set_author("x");

        let weird =
            ResponseDoc::start("../x", &form, &ctx(), Consent::child(), "fw").expect("start");
        assert!(refusal(&weird).contains("response id"));
    }

    #[test]
    fn what_merges_can_produce_is_counted_by_the_rules_and_listed() {
        // Merged: submitted without the required answer, with an answer
        // skip logic does not ask, without consent, off the lists.
        let form = builtin_form("feeling-safe-child").expect("form");
        let mut doc = ResponseDoc::start(
            "r-4",
            &form,
            &ResponseContext {
                setting: Some("Mrs Smith's kitchen".into()),
                need: Some("autism".into()),
                ..ctx()
            },
            Consent::child(),
            "fw",
        )
        .expect("start");
        for (q, a) in hark_core::form::plausible_answers(&form, hark_core::form::seeded(7)) {
            doc.answer(&form, &q, a, NOW).expect("answer");
        }
        doc.answer(&form, "goes_clubs", Answer::Choice("yes".into()), NOW)
            .expect("answer");
        doc.answer(&form, "safe_clubs", Answer::Scale(4), NOW)
            .expect("answer");
        doc.submit(&form, NOW).expect("submit");
        let required = form
            .questions
            .iter()
            .find(|q| q.required && q.relevant.is_none())
            .expect("a required question");
        let d = doc.doc_mut();
        let Ok(Some((_, answers))) = d.get(ROOT, "answers") else {
            panic!("answers");
        };
        d.delete(&answers, required.id.as_str()).expect("delete");
        d.commit();
        // Another device said "no" to clubs at the same time: the answer
        // about the club is no longer asked.
        forge(&mut doc, "goes_clubs", "choice", Some("no".into()), &[]);
        let p = check(&doc, &forms(), &AreaLists::defaults(), NOW).expect("stored");
        assert!(p.counted, "counted, with the question unanswered");
        assert!(
            p.problems
                .contains(&Problem::MissingRequired(required.id.clone()))
        );
        assert!(p.problems.contains(&Problem::NotAsked("safe_clubs".into())));
        assert!(
            !p.answers
                .iter()
                .any(|a| a.question == "safe_clubs" || a.question == required.id),
            "neither is counted"
        );
        assert_eq!(p.setting.as_deref(), Some(OTHER));
        assert_eq!(p.need.as_deref(), Some("autism"));
        assert!(p.problems.contains(&Problem::NotOnList(ListDim::Setting)));

        doc.set_consent(
            Consent {
                consent: Permission::Given,
                assent: Permission::Refused,
            },
            NOW,
        )
        .expect("consent");
        let p = check(&doc, &forms(), &AreaLists::defaults(), NOW).expect("stored");
        assert!(!p.counted, "no assent: stored, not counted");
        assert!(p.problems.contains(&Problem::NoConsent));
        for problem in &p.problems {
            assert_eq!(
                Problem::parse(problem.kind(), problem.subject()).as_ref(),
                Some(problem)
            );
            assert!(!problem.notice().is_empty());
        }
    }
}
