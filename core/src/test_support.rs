//! A small form with every question kind, skip logic and a safeguarding
//! trigger, shared by the unit tests.

use crate::form::Form;

pub(crate) const SAMPLE_FORM: &str = r#"{
  "id": "sample",
  "version": "1.0.0",
  "title": {"en": "Sample"},
  "audience": "child_8_to_11",
  "theme": "feeling_safe",
  "languages": ["en", "cy"],
  "sections": [{"id": "more", "title": {"en": "A few more"}, "one_page": true}],
  "questions": [
    {"id": "school", "type": "face_scale", "points": 5, "required": true,
     "labels": [{"id": "1", "label": {"en": "Very unsafe"}, "symbol": "😢"},
                {"id": "2", "label": {"en": "Unsafe"}, "symbol": "🙁"},
                {"id": "3", "label": {"en": "Not sure"}, "symbol": "😐"},
                {"id": "4", "label": {"en": "Safe"}, "symbol": "🙂"},
                {"id": "5", "label": {"en": "Very safe"}, "symbol": "😄"}],
     "label": {"en": "How safe do you feel at school?", "cy": "Pa mor ddiogel wyt ti'n teimlo yn yr ysgol?"},
     "easy_read": {"en": "School. Do you feel safe?"},
     "read_aloud": {"en": "How safe do you feel at school? Tap a face."},
     "allow_dont_know": true, "allow_prefer_not_to_say": true},
    {"id": "why_unsafe", "type": "free_text", "max_length": 200,
     "label": {"en": "What makes you feel unsafe at school?"},
     "relevant": {"at_most": {"question": "school", "value": 2}}},
    {"id": "tell", "type": "multiple_choice", "max_selected": 3,
     "options": [{"id": "parent", "label": {"en": "Mum, dad or carer"}},
                 {"id": "teacher", "label": {"en": "A teacher"}},
                 {"id": "friend", "label": {"en": "A friend"}},
                 {"id": "nobody", "label": {"en": "Nobody"}}],
     "label": {"en": "Who would you tell?"}, "allow_prefer_not_to_say": true},
    {"id": "club", "type": "yes_no", "label": {"en": "Do you go to a club?"}, "allow_dont_know": true},
    {"id": "club_name", "type": "single_choice",
     "options": [{"id": "sport", "label": {"en": "Sport"}}, {"id": "youth", "label": {"en": "Youth club"}}],
     "label": {"en": "Which club?"},
     "relevant": {"equals": {"question": "club", "value": "yes"}}},
    {"id": "age", "type": "number", "min": 4, "max": 25, "label": {"en": "How old are you?"}},
    {"id": "visit", "type": "date", "min": "2020-01-01", "label": {"en": "Date of visit"}},
    {"id": "q8", "type": "yes_no", "label": {"en": "Q8"}, "section": "more"},
    {"id": "q9", "type": "yes_no", "label": {"en": "Q9"}, "section": "more"},
    {"id": "q10", "type": "yes_no", "label": {"en": "Q10"}},
    {"id": "thanks", "type": "note", "label": {"en": "Thank you for telling us."},
     "relevant": {"answered": "club"}}
  ],
  "safeguarding": [
    {"id": "unsafe_school", "level": "urgent",
     "when": {"at_most": {"question": "school", "value": 2}},
     "guidance": {"en": "Follow local safeguarding procedures today."}},
    {"id": "tells_nobody", "level": "concern",
     "when": {"equals": {"question": "tell", "value": "nobody"}},
     "guidance": {"en": "Talk with the child about trusted adults."}}
  ]
}"#;

pub(crate) fn sample_form() -> Form {
    match Form::from_json(SAMPLE_FORM) {
        Ok(f) => f,
        Err(e) => panic!("sample form: {e}"),
    }
}
