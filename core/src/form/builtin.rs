//! The forms an area can use on day one, shipped inside the library and
//! validated like any other form. Their JSON lives in `core/forms/`.

use super::model::Form;
use super::validate::FormError;

/// The JSON source of each built-in form, by file name.
const SOURCES: &[(&str, &str)] = &[
    (
        "feeling_safe_early.json",
        include_str!("../../forms/feeling_safe_early.json"),
    ),
    (
        "feeling_safe_child.json",
        include_str!("../../forms/feeling_safe_child.json"),
    ),
    (
        "feeling_safe_young_person.json",
        include_str!("../../forms/feeling_safe_young_person.json"),
    ),
    (
        "diagnosis_experience.json",
        include_str!("../../forms/diagnosis_experience.json"),
    ),
    (
        "diagnosis_experience_young_person.json",
        include_str!("../../forms/diagnosis_experience_young_person.json"),
    ),
    (
        "service_satisfaction.json",
        include_str!("../../forms/service_satisfaction.json"),
    ),
    (
        "service_satisfaction_young_person.json",
        include_str!("../../forms/service_satisfaction_young_person.json"),
    ),
    (
        "local_offer.json",
        include_str!("../../forms/local_offer.json"),
    ),
    (
        "being_heard.json",
        include_str!("../../forms/being_heard.json"),
    ),
    (
        "being_heard_parent.json",
        include_str!("../../forms/being_heard_parent.json"),
    ),
];

/// Every built-in form, parsed and validated.
///
/// # Errors
/// Only if a shipped form is invalid, which the test suite rules out.
pub fn builtin_forms() -> Result<Vec<Form>, FormError> {
    SOURCES
        .iter()
        .map(|(_, json)| Form::from_json(json))
        .collect()
}

/// Every built-in form version hark has ever shipped, one line each: id,
/// version and the SHA-256 of the form's JSON ([`Form::to_json`]). A line
/// is added, never changed, whenever a built-in form gets a new version;
/// a test holds the shipped forms to it, so a shipped version's content
/// can never change.
const SHIPPED: &str = include_str!("../../forms/shipped.txt");

/// The SHA-256 of a form's JSON, in hex.
fn fingerprint(form: &Form) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(form.to_json().as_bytes()))
}

/// Whether `form` is, byte for byte, a built-in form version some release
/// of hark shipped (an area's own edit of a built-in form is not).
pub fn is_shipped(form: &Form) -> bool {
    let line = format!("{} {} {}", form.id, form.version, fingerprint(form));
    SHIPPED.lines().any(|l| l.trim() == line)
}

/// One built-in form by id.
pub fn builtin_form(id: &str) -> Option<Form> {
    builtin_forms().ok()?.into_iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::super::model::{
        Audience, ChoiceOption, FlagLevel, Question, QuestionKind, Text, Theme,
    };
    use super::*;

    #[test]
    fn every_builtin_form_loads() {
        for (file, json) in SOURCES {
            let form = Form::from_json(json).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(
                form.questions.len() >= 3,
                "{file} is too short to be useful"
            );
        }
    }

    #[test]
    fn asked_follows_skip_logic() {
        use crate::answer::Answer;
        let form = builtin_form("feeling-safe-child").expect("form");
        let asks_clubs = |goes: Option<&str>| {
            let answers: std::collections::BTreeMap<String, Answer> = goes
                .map(|g| ("goes_clubs".to_owned(), Answer::Choice(g.to_owned())))
                .into_iter()
                .collect();
            form.asked(&answers).contains(&"safe_clubs")
        };
        assert!(!asks_clubs(None));
        assert!(!asks_clubs(Some("no")));
        assert!(asks_clubs(Some("yes")));
        assert_eq!(
            form.asked(&Default::default()).len(),
            form.questions.len() - 1
        );
    }

    /// Every built-in form is listed in `forms/shipped.txt` with its
    /// content's fingerprint: a shipped version is never rewritten, and a
    /// changed form needs a new version (and a new line).
    #[test]
    fn every_builtin_form_is_listed_as_shipped() {
        let missing: Vec<String> = builtin_forms()
            .expect("valid")
            .iter()
            .filter(|f| !is_shipped(f))
            .map(|f| format!("{} {} {}", f.id, f.version, fingerprint(f)))
            .collect();
        assert!(
            missing.is_empty(),
            "a built-in form's content is not as shipped: give it a new version and add to \
             core/forms/shipped.txt:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn an_edited_builtin_form_is_not_shipped() {
        let mut form = builtin_form("feeling-safe-child").expect("shipped");
        assert!(is_shipped(&form));
        form.title = super::super::model::Text::new("en", "Our own wording");
        assert!(!is_shipped(&form));
    }

    #[test]
    fn builtin_ids_are_unique() {
        let forms = builtin_forms().expect("valid");
        let mut ids: Vec<_> = forms.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), forms.len());
    }

    /// The text in the form's default language, if it has any.
    fn text<'a>(form: &Form, t: Option<&'a Text>) -> Option<&'a str> {
        t.and_then(|t| t.0.get(form.default_language()))
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    /// The options a respondent sees: a face scale's labels or a choice's
    /// options (yes / no has fixed options, drawn by the device).
    fn options(q: &Question) -> &[ChoiceOption] {
        match &q.kind {
            QuestionKind::FaceScale { labels, .. } => labels,
            QuestionKind::SingleChoice { options }
            | QuestionKind::MultipleChoice { options, .. } => options,
            _ => &[],
        }
    }

    #[test]
    fn child_forms_have_child_friendly_variants_and_safeguarding() {
        for form in builtin_forms().expect("valid") {
            for q in &form.questions {
                // Parent carers may have SEND themselves or read English as
                // an additional language: every audience gets both.
                assert!(
                    text(&form, q.easy_read.as_ref()).is_some(),
                    "{}: {} has no easy-read text",
                    form.id,
                    q.id
                );
                let aloud = text(&form, q.read_aloud.as_ref())
                    .unwrap_or_else(|| panic!("{}: {} has no read-aloud text", form.id, q.id));
                // What is read aloud offers what the screen offers.
                for (allowed, words) in [
                    (q.allow_dont_know, "don't know"),
                    (q.allow_prefer_not_to_say, "don't want to say"),
                ] {
                    assert_eq!(
                        aloud.contains(words),
                        allowed,
                        "{}: {} reads aloud {words:?} {}",
                        form.id,
                        q.id,
                        if allowed {
                            "nowhere"
                        } else {
                            "but does not offer it"
                        }
                    );
                }
                if form.audience.is_child() {
                    for o in options(q) {
                        assert!(
                            o.symbol.as_deref().is_some_and(|s| !s.trim().is_empty()),
                            "{}: option {} of {} has no symbol",
                            form.id,
                            o.id,
                            q.id
                        );
                    }
                }
            }
            if form.audience.is_child() && form.theme == Theme::FeelingSafe {
                assert!(
                    !form.safeguarding.is_empty(),
                    "{} raises no safeguarding flag",
                    form.id
                );
            }
        }
    }

    #[test]
    fn the_form_for_children_aged_4_to_7_needs_no_reading_or_writing() {
        let forms: Vec<Form> = builtin_forms()
            .expect("valid")
            .into_iter()
            .filter(|f| f.audience == Audience::Child4To7)
            .collect();
        assert!(!forms.is_empty(), "a form for children aged 4 to 7 ships");
        for form in forms {
            assert!(
                (5..=7).contains(&form.questions.len()),
                "{} is not short: {} questions",
                form.id,
                form.questions.len()
            );
            for q in &form.questions {
                assert!(
                    !matches!(
                        q.kind,
                        QuestionKind::FreeText { .. }
                            | QuestionKind::Number { .. }
                            | QuestionKind::Decimal { .. }
                            | QuestionKind::Date { .. }
                    ),
                    "{}: {} asks for {}, which needs reading or writing",
                    form.id,
                    q.id,
                    q.kind.name()
                );
                assert!(
                    q.allow_dont_know && q.allow_prefer_not_to_say,
                    "{}: {} must allow \"I don't know\" and \"I don't want to say\"",
                    form.id,
                    q.id
                );
                let aloud = text(&form, q.read_aloud.as_ref())
                    .unwrap_or_else(|| panic!("{}: {} is not read aloud", form.id, q.id))
                    .to_lowercase();
                if matches!(q.kind, QuestionKind::FaceScale { .. }) {
                    assert!(
                        aloud.contains("face"),
                        "{}: {} names no face",
                        form.id,
                        q.id
                    );
                } else {
                    for o in options(q) {
                        let label = o.label.get(form.default_language(), "en").to_lowercase();
                        assert!(
                            aloud.contains(&label),
                            "{}: {} does not read out {label:?}",
                            form.id,
                            q.id
                        );
                    }
                }
            }
            assert!(
                form.safeguarding
                    .iter()
                    .any(|t| t.level == FlagLevel::Urgent),
                "{} has no urgent safeguarding flag",
                form.id
            );
        }
    }

    /// Each audience has the themes the inspections asked about, ready on day
    /// one.
    #[test]
    fn every_audience_has_its_templates() {
        let forms = builtin_forms().expect("valid");
        let has = |audience: Audience, theme: Theme| {
            forms
                .iter()
                .any(|f| f.audience == audience && f.theme == theme)
        };
        for (audience, themes) in [
            (Audience::Child4To7, &[Theme::FeelingSafe][..]),
            (Audience::Child8To11, &[Theme::FeelingSafe]),
            (
                Audience::YoungPerson11To17,
                &[
                    Theme::FeelingSafe,
                    Theme::Diagnosis,
                    Theme::Satisfaction,
                    Theme::BeingHeard,
                ],
            ),
            (
                Audience::ParentCarer,
                &[
                    Theme::Diagnosis,
                    Theme::Satisfaction,
                    Theme::Information,
                    Theme::BeingHeard,
                ],
            ),
        ] {
            for &theme in themes {
                assert!(
                    has(audience, theme),
                    "no {theme:?} form for {}",
                    audience.as_str()
                );
            }
        }
    }

    #[test]
    fn satisfaction_uses_the_six_friends_and_family_test_answers() {
        let form = builtin_form("service-satisfaction").expect("shipped");
        let fft = form
            .questions
            .iter()
            .find(|q| q.id == "fft")
            .expect("the Friends and Family Test question has id 'fft'");
        // The sixth standard answer, "don't know", is the form model's own.
        assert_eq!(
            fft.kind.option_ids(),
            ["very_good", "good", "neither", "poor", "very_poor"]
        );
        assert!(fft.allow_dont_know);
        assert!(
            form.questions.iter().any(|q| q.id == "fft_why"),
            "the 'why' free text follows"
        );
    }

    /// The example in README.md is a valid form.
    #[test]
    fn the_readme_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```json\n").expect("a json block") + "```json\n".len();
        let end = start + readme[start..].find("```").expect("closed");
        let form =
            Form::from_json(&readme[start..end]).unwrap_or_else(|e| panic!("README example: {e}"));
        assert_eq!(form.id, "feeling-safe-mini");
    }
}
