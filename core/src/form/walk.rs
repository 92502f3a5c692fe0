//! Skip logic, written once. Every place that needs to know which
//! questions are asked — the response (answer, clear, submit), the store,
//! the FFI's "questions to show", `hark device`, the server counting a
//! merged document, the plausible-answer generator — walks the form here.
//!
//! The rule: questions are taken in order; a question is *asked* when it
//! has no relevance condition or its condition holds on the answers *kept*
//! so far (the answers to questions asked before it). An answer to a
//! question that is not asked is *skipped*: it does not count, and the
//! response drops it on submit. Because relevance may only look backwards
//! (validation refuses anything else), one pass decides every question.
//! The safeguarding triggers are read off the answers a walk keeps
//! ([`Form::raised`]).
//!
//! Sections do not change what is asked: each asked question carries
//! its `section`, and [`Form::section_of`] gives its title and whether it
//! is one page.
//!
//! A note is asked like any question (it is shown when its condition
//! holds) but never keeps an answer: nothing counts it as answered.

use std::collections::BTreeMap;

use super::model::{Form, Question, Trigger};
use crate::answer::Answer;

/// The outcome of walking a form over a set of answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Walk<'f> {
    /// The questions asked, in form order.
    pub asked: Vec<&'f Question>,
    /// The answers that count: those to asked questions.
    pub kept: BTreeMap<String, Answer>,
    /// Questions that have an answer but are not asked (or are notes,
    /// which take none), in form order.
    pub skipped: Vec<&'f str>,
}

impl Walk<'_> {
    /// Whether the question is asked.
    pub fn is_asked(&self, question: &str) -> bool {
        self.asked.iter().any(|q| q.id == question)
    }

    /// Asked, required questions without an answer that counts (what to
    /// say about each is its `required_message`, where it has one).
    pub fn missing_required(&self) -> Vec<&str> {
        self.asked
            .iter()
            .filter(|q| q.required && !self.kept.contains_key(&q.id))
            .map(|q| q.id.as_str())
            .collect()
    }
}

impl Form {
    /// Walks the form over `answers` (see the module header).
    pub fn walk(&self, answers: &BTreeMap<String, Answer>) -> Walk<'_> {
        let mut walk = self.fill(|q| answers.get(&q.id).cloned());
        walk.skipped = self
            .questions
            .iter()
            .filter(|q| {
                answers.contains_key(&q.id) && !(walk.is_asked(&q.id) && q.kind.takes_answer())
            })
            .map(|q| q.id.as_str())
            .collect();
        walk
    }

    /// Walks the form asking `answer` for each asked question as it is
    /// reached (a respondent going through the form): `None` leaves it
    /// unanswered. A note is shown, not asked for an answer.
    pub fn fill(&self, mut answer: impl FnMut(&Question) -> Option<Answer>) -> Walk<'_> {
        let mut walk = Walk::default();
        for q in &self.questions {
            if q.relevant.as_ref().is_none_or(|c| c.holds(&walk.kept)) {
                walk.asked.push(q);
                if !q.kind.takes_answer() {
                    continue;
                }
                if let Some(a) = answer(q) {
                    walk.kept.insert(q.id.clone(), a);
                }
            }
        }
        walk
    }

    /// The safeguarding triggers the answers that count raise (`kept` from
    /// a walk), in the form's order: what a submit shows the practitioner
    /// and what the server puts on the safeguarding list.
    pub fn raised(&self, kept: &BTreeMap<String, Answer>) -> Vec<&Trigger> {
        self.safeguarding
            .iter()
            .filter(|t| t.when.holds(kept))
            .collect()
    }

    /// The ids of the questions asked given `answers`, in order: what an
    /// app shows.
    pub fn asked(&self, answers: &BTreeMap<String, Answer>) -> Vec<&str> {
        self.walk(answers)
            .asked
            .into_iter()
            .map(|q| q.id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_form;

    fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_question_is_asked_only_when_the_kept_answers_say_so() {
        let form = sample_form();
        // `why_unsafe` is asked when `school` is at most 2; `club_name` when
        // `club` is yes.
        let given = answers(&[
            ("school", Answer::Scale(4)),
            ("why_unsafe", Answer::Text("left over".into())),
            ("club", Answer::Choice("yes".into())),
            ("club_name", Answer::Choice("sport".into())),
        ]);
        let walk = form.walk(&given);
        assert!(!walk.is_asked("why_unsafe"));
        assert!(walk.is_asked("club_name"));
        assert!(
            walk.is_asked("thanks"),
            "the note is shown when club is answered"
        );
        assert_eq!(walk.skipped, vec!["why_unsafe"]);
        assert_eq!(
            walk.kept.keys().map(String::as_str).collect::<Vec<_>>(),
            vec!["club", "club_name", "school"]
        );
        assert_eq!(walk.missing_required(), Vec::<&str>::new());
        let empty = form.walk(&BTreeMap::new());
        assert_eq!(empty.missing_required(), vec!["school"]);
        assert!(!empty.is_asked("club_name"));
        assert!(!empty.is_asked("thanks"));
    }

    #[test]
    fn a_note_is_shown_but_never_keeps_an_answer() {
        let form = sample_form();
        let given = answers(&[
            ("school", Answer::Scale(3)),
            ("club", Answer::Choice("no".into())),
            ("thanks", Answer::Text("smuggled".into())),
        ]);
        let walk = form.walk(&given);
        assert!(walk.is_asked("thanks"));
        assert!(!walk.kept.contains_key("thanks"));
        assert_eq!(walk.skipped, vec!["thanks"]);
        let mut offered = Vec::new();
        let filled = form.fill(|q| {
            offered.push(q.id.clone());
            Some(Answer::Choice("yes".into()))
        });
        assert!(filled.is_asked("thanks"));
        assert!(
            !offered.contains(&"thanks".to_owned()),
            "a note is never asked for an answer"
        );
    }

    #[test]
    fn asked_questions_name_their_section() {
        let form = sample_form();
        let walk = form.walk(&BTreeMap::new());
        let sections: Vec<(&str, Option<&str>)> = walk
            .asked
            .iter()
            .filter(|q| q.id.starts_with('q'))
            .map(|q| (q.id.as_str(), form.section_of(q).map(|s| s.id.as_str())))
            .collect();
        assert_eq!(
            sections,
            [("q8", Some("more")), ("q9", Some("more")), ("q10", None)]
        );
        assert!(form.section("more").is_some_and(|s| s.one_page));
    }

    #[test]
    fn fill_asks_only_for_the_questions_reached() {
        let form = sample_form();
        let mut asked = Vec::new();
        let walk = form.fill(|q| {
            asked.push(q.id.clone());
            match q.id.as_str() {
                "school" => Some(Answer::Scale(1)),
                "club" => Some(Answer::Choice("no".into())),
                _ => None,
            }
        });
        assert!(asked.contains(&"why_unsafe".to_owned()), "school is 1");
        assert!(!asked.contains(&"club_name".to_owned()), "club is no");
        assert_eq!(walk.kept.len(), 2);
    }
}
