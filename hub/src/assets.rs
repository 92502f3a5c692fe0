//! The web form's files, compiled in (plain JavaScript and CSS: no
//! framework, no CDN, nothing fetched from elsewhere): served by the event
//! hub, practitioner mode and the server's survey links alike.

/// hark's own web form, served by the event hub and by survey links: its
/// own words (buttons, consent, checks, end screens) in each language hark
/// has them, `assets/form-words.json`, then the script. A form's own text
/// comes from the form; a language or a word missing from the words falls
/// back to English, word by word. Adding a language: copy `en`, translate
/// every value keeping each `{name}`, and have a speaker of the language
/// read it on the form (a test checks the words and placeholders match).
pub const FORM_JS: &str = concat!(
    "window.HARK_WORDS = ",
    include_str!("../assets/form-words.json"),
    ";\n",
    include_str!("../assets/form.js")
);
/// Its style sheet.
pub const FORM_CSS: &str = include_str!("../assets/form.css");
/// The organiser's page's script (the live count).
pub const ORGANISER_JS: &str = include_str!("../assets/organiser.js");

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::FORM_JS;

    /// The words of [`FORM_JS`], by language.
    const FORM_WORDS: &str = include_str!("../assets/form-words.json");

    fn placeholders(s: &str) -> BTreeSet<&str> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_language_of_the_forms_own_words_has_englishs_words_and_placeholders() {
        let words: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_str(FORM_WORDS).expect("form-words.json is JSON");
        let en = &words["en"];
        assert!(words.len() > 1, "a language besides English");
        for (lang, these) in &words {
            let keys: BTreeSet<&String> = these.keys().collect();
            assert_eq!(keys, en.keys().collect(), "{lang} has English's words");
            for (id, text) in these {
                assert!(!text.trim().is_empty(), "{lang} {id} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(&en[id]),
                    "{lang} {id} keeps English's placeholders"
                );
            }
        }
    }

    #[test]
    fn the_form_asks_for_every_english_word_and_no_other() {
        let words: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_str(FORM_WORDS).expect("form-words.json is JSON");
        let en = &words["en"];
        let calls =
            regex::Regex::new(r"\b(?:t|allLanguages)\(((?:[^()]|\([^()]*\))*)\)").expect("regex");
        let id = regex::Regex::new(r"'([a-z_]+)'").expect("regex");
        let mut asked = 0;
        for call in calls.captures_iter(FORM_JS) {
            for m in id.captures_iter(&call[1]) {
                asked += 1;
                assert!(
                    en.contains_key(&m[1]),
                    "form.js asks for '{}', not in form-words.json",
                    &m[1]
                );
            }
        }
        assert!(asked > 60, "form.js asks for its words by name ({asked})");
    }
}
