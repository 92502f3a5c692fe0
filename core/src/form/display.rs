//! An answer as a person reads it: option labels, face-scale labels and
//! the two special answers in words, in the form's language. For the one
//! place hark shows a response's answers on their own (the safeguarding
//! lead's list) and for terminal devices.

use super::model::{Question, QuestionKind};
use crate::answer::Answer;

impl Question {
    /// The question's text in `lang` (falling back to the form's first).
    pub fn text(&self, lang: &str) -> &str {
        self.label.get(lang, lang)
    }

    /// `answer` in words, in `lang`.
    pub fn describe(&self, answer: &Answer, lang: &str) -> String {
        let option = |id: &str| {
            let options = match &self.kind {
                QuestionKind::FaceScale { labels, .. } => labels,
                QuestionKind::SingleChoice { options }
                | QuestionKind::MultipleChoice { options, .. } => options,
                _ => return id.replace('_', " "),
            };
            options
                .iter()
                .find(|o| o.id == id)
                .map_or_else(|| id.to_owned(), |o| o.label.get(lang, lang).to_owned())
        };
        match answer {
            Answer::Scale(n) => match &self.kind {
                QuestionKind::FaceScale { labels, .. } => labels
                    .get(usize::from(*n).wrapping_sub(1))
                    .map_or_else(|| n.to_string(), |o| o.label.get(lang, lang).to_owned()),
                _ => n.to_string(),
            },
            Answer::Choice(id) => option(id),
            Answer::Choices(ids) => ids.iter().map(|i| option(i)).collect::<Vec<_>>().join(", "),
            Answer::Text(t) | Answer::Date(t) | Answer::Decimal(t) => t.clone(),
            Answer::Number(n) => n.to_string(),
            Answer::DontKnow => "don't know".to_owned(),
            Answer::PreferNotToSay => "don't want to say".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_form;

    #[test]
    fn answers_read_in_words() {
        let form = sample_form();
        let school = form.question("school").expect("q");
        assert_eq!(school.describe(&Answer::Scale(1), "en"), "Very unsafe");
        assert_eq!(school.describe(&Answer::DontKnow, "en"), "don't know");
        let tell = form.question("tell").expect("q");
        assert_eq!(
            tell.describe(
                &Answer::Choices(vec!["parent".into(), "nobody".into()]),
                "en"
            ),
            "Mum, dad or carer, Nobody"
        );
        let club = form.question("club").expect("q");
        assert_eq!(
            club.describe(&Answer::Choice("not_sure".into()), "en"),
            "not sure"
        );
        assert_eq!(
            school.text("cy"),
            "Pa mor ddiogel wyt ti'n teimlo yn yr ysgol?"
        );
    }
}
