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

/// One built-in form by id.
pub fn builtin_form(id: &str) -> Option<Form> {
    builtin_forms().ok()?.into_iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn builtin_ids_are_unique() {
        let forms = builtin_forms().expect("valid");
        let mut ids: Vec<_> = forms.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), forms.len());
    }

    #[test]
    fn child_forms_have_child_friendly_variants_and_safeguarding() {
        for form in builtin_forms()
            .expect("valid")
            .iter()
            .filter(|f| f.audience.is_child())
        {
            for q in &form.questions {
                assert!(
                    q.easy_read.is_some() || q.read_aloud.is_some(),
                    "{}: {} lacks a child variant",
                    form.id,
                    q.id
                );
            }
            if form.theme == super::super::model::Theme::FeelingSafe {
                assert!(
                    !form.safeguarding.is_empty(),
                    "{} raises no safeguarding flag",
                    form.id
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
