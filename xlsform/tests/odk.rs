//! XLSForms written the way ODK and KoboToolbox authors write them, built
//! as real `.xlsx` files: each gives the right form, or every problem by
//! its cell.

use hark_core::form::{Audience, CondValue, Condition, FormProblem, QuestionKind, Text, Theme};
use hark_xlsform::{ImportError, Imported, Problem, Warning, import_file};
use rust_xlsxwriter::Workbook;

/// A cell as an author's spreadsheet holds it.
#[derive(Clone, Copy)]
enum C<'a> {
    S(&'a str),
    N(f64),
    B(bool),
}

/// Writes sheets of text cells ("" is empty; "#n" a number; "#true" a
/// boolean) to `.xlsx` bytes.
fn xlsx(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).expect("name");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let value = match cell.strip_prefix('#') {
                    Some("true") => C::B(true),
                    Some("false") => C::B(false),
                    Some(n) if n.parse::<f64>().is_ok() => C::N(n.parse().expect("number")),
                    _ => C::S(cell),
                };
                let (r, c) = (r as u32, c as u16);
                match value {
                    C::S("") => {}
                    C::S(s) => {
                        ws.write_string(r, c, s).expect("write");
                    }
                    C::N(n) => {
                        ws.write_number(r, c, n).expect("write");
                    }
                    C::B(b) => {
                        ws.write_boolean(r, c, b).expect("write");
                    }
                }
            }
        }
    }
    book.save_to_buffer().expect("save")
}

fn ok(sheets: &[(&str, &[&[&str]])]) -> Imported {
    import_file(&xlsx(sheets)).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(sheets: &[(&str, &[&[&str]])]) -> ImportError {
    match import_file(&xlsx(sheets)) {
        Ok(i) => panic!("imported {:?}", i.form),
        Err(e) => e,
    }
}

/// Each problem as (sheet, cell or "-", the problem).
fn cells(e: &ImportError) -> Vec<(String, String, Problem)> {
    e.problems
        .iter()
        .map(|p| {
            (
                p.at.sheet.clone(),
                p.at.cell().unwrap_or_else(|| "-".into()),
                p.what.clone(),
            )
        })
        .collect()
}

const SETTINGS: &[&[&str]] = &[
    &["form_title", "form_id", "version", "audience", "theme"],
    &[
        "Feeling safe",
        "feeling-safe-local",
        "#2024031502",
        "child_8_to_11",
        "feeling_safe",
    ],
];

#[test]
fn a_kobo_style_form_in_two_languages() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English (en)",
            "label::Welsh (cy)",
            "hint::English (en)",
            "required",
            "relevant",
            "constraint",
            "constraint_message::English (en)",
            "appearance",
        ],
        &["start", "start", "", "", "", "", "", "", "", ""],
        &["deviceid", "deviceid", "", "", "", "", "", "", "", ""],
        &[
            "select_one yes_no",
            "goes_club",
            "Do you go to a club?",
            "Wyt ti'n mynd i glwb?",
            "After school",
            "#true",
            "",
            "",
            "",
            "minimal",
        ],
        &[
            "select_multiple clubs",
            "which_clubs",
            "Which clubs?",
            "Pa glybiau?",
            "",
            "yes",
            "${goes_club} = 'yes'",
            "count-selected(.) <= 2",
            "Two at most",
            "",
        ],
        &[
            "integer",
            "age",
            "How old are you?",
            "Faint yw dy oed di?",
            "",
            "",
            "",
            ". >= 4 and . <= 18",
            "",
            "",
        ],
        &[
            "text",
            "why",
            "Why?",
            "Pam?",
            "",
            "",
            "selected(${which_clubs}, 'sport') and not(${age} < 8) or ${goes_club} != 'yes'",
            "string-length(.) < 501",
            "",
            "",
        ],
        &[
            "date",
            "visit",
            "When?",
            "Pryd?",
            "",
            "",
            "",
            ". >= date('2024-01-01')",
            "",
            "",
        ],
        &["end", "end", "", "", "", "", "", "", "", ""],
    ];
    let choices: &[&[&str]] = &[
        &[
            "list_name",
            "name",
            "label::English (en)",
            "label::Welsh (cy)",
            "media::image",
        ],
        &["yes_no", "yes", "Yes", "Ie", ""],
        &["yes_no", "no", "No", "Na", ""],
        &["clubs", "sport", "Sport", "Chwaraeon", "⚽"],
        &["clubs", "music", "Music", "Cerddoriaeth", "🎵"],
        &["clubs", "art", "Art", "Celf", ""],
    ];
    let settings: &[&[&str]] = &[
        &[
            "form_title::English (en)",
            "form_title::Welsh (cy)",
            "form_id",
            "version",
            "default_language",
            "audience",
            "theme",
        ],
        &[
            "Clubs",
            "Clybiau",
            "clubs",
            "#2024031502",
            "English (en)",
            "child_8_to_11",
            "feeling_safe",
        ],
    ];
    let imported = ok(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", settings),
    ]);
    let f = &imported.form;
    assert_eq!(f.id, "clubs");
    assert_eq!(f.version, semver::Version::new(2024, 315, 2));
    assert_eq!(f.languages, ["en", "cy"]);
    assert_eq!(f.audience, Audience::Child8To11);
    assert_eq!(f.theme, Theme::FeelingSafe);
    assert_eq!(f.title.get("cy", "en"), "Clybiau");
    let ids: Vec<&str> = f.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["goes_club", "which_clubs", "age", "why", "visit"]);
    let q = &f.questions[0];
    assert!(q.required);
    assert_eq!(q.hint, Some(Text::new("en", "After school")));
    assert_eq!(q.label.get("cy", "en"), "Wyt ti'n mynd i glwb?");
    let QuestionKind::MultipleChoice {
        options,
        min_selected,
        max_selected,
    } = &f.questions[1].kind
    else {
        panic!("multiple choice");
    };
    assert_eq!(options.len(), 3);
    assert_eq!(options[0].symbol.as_deref(), Some("⚽"));
    assert_eq!(options[2].symbol, None);
    assert_eq!((*min_selected, *max_selected), (None, Some(2)));
    assert_eq!(
        f.questions[1].relevant,
        Some(Condition::Equals {
            question: "goes_club".into(),
            value: CondValue::Str("yes".into()),
        })
    );
    assert_eq!(
        f.questions[2].kind,
        QuestionKind::Number { min: 4, max: 18 }
    );
    assert_eq!(
        f.questions[3].kind,
        QuestionKind::FreeText {
            max_length: Some(500)
        }
    );
    assert_eq!(
        f.questions[3].relevant,
        Some(Condition::Any(vec![
            Condition::All(vec![
                Condition::Equals {
                    question: "which_clubs".into(),
                    value: CondValue::Str("sport".into()),
                },
                Condition::Not(Box::new(Condition::AtMost {
                    question: "age".into(),
                    value: CondValue::Int(7),
                })),
            ]),
            Condition::Not(Box::new(Condition::Equals {
                question: "goes_club".into(),
                value: CondValue::Str("yes".into()),
            })),
        ]))
    );
    assert_eq!(
        f.questions[4].kind,
        QuestionKind::Date {
            min: Some("2024-01-01".into()),
            max: None
        }
    );
    // Metadata and the columns hark does not read are warned about.
    let warnings: Vec<(String, &Warning)> = imported
        .warnings
        .iter()
        .map(|w| (w.at.cell().unwrap_or_default(), &w.what))
        .collect();
    assert!(warnings.contains(&("A2".into(), &Warning::Metadata("start".into()))));
    assert!(warnings.contains(&("A3".into(), &Warning::Metadata("deviceid".into()))));
    assert!(warnings.contains(&("A9".into(), &Warning::Metadata("end".into()))));
    assert!(
        !warnings.iter().any(
            |(_, w)| matches!(w, Warning::IgnoredColumn(c) if c.starts_with("constraint_message"))
        ),
        "constraint_message is read"
    );
    assert!(warnings.contains(&("J4".into(), &Warning::IgnoredAppearance("minimal".into()))));
}

#[test]
fn every_problem_by_cell() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label",
            "relevant",
            "calculation",
            "choice_filter",
        ],
        &["begin repeat", "kids", "Each child", "", "", ""],
        &["select_one yes_no or_other", "club", "Club?", "", "", ""],
        &[
            "select_one yes_no",
            "ok",
            "OK?",
            "${club} = 'yes' and",
            "",
            "",
        ],
        &[
            "integer",
            "age",
            "Age",
            "${ok} = 'yes' or ${later} > 3",
            "",
            "",
        ],
        &["note", "thanks", "Thank you", "", "", ""],
        &["calculate", "score", "", "", "${age} * 2", ""],
        &[
            "select_one towns",
            "town",
            "Town?",
            "count-selected(${ok}) > 1",
            "",
            "${ok} = 'yes'",
        ],
        &["range", "height", "Height", "", "", ""],
        &["end repeat", "", "", "", "", ""],
        &["text", "later", "Later", "", "", ""],
        &["text", "Bad Name", "Oops", "", "", ""],
        &["text", "later", "Again", "", "", ""],
        &["geopoint", "where", "Where?", "", "", ""],
        &["select_one nowhere", "lost", "Lost?", "", "", ""],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", "label"],
        &["yes_no", "yes", "Yes"],
        &["yes_no", "no", "No"],
        &["towns", "leeds", "Leeds"],
        &["towns", "leeds", "Leeds again"],
    ];
    let e = problems(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", SETTINGS),
    ]);
    let got = cells(&e);
    let at = |cell: &str| -> Vec<&Problem> {
        got.iter()
            .filter(|(s, c, _)| s == "survey" && c == cell)
            .map(|(_, _, p)| p)
            .collect()
    };
    let one = |cell: &str| -> &Problem {
        let ps = at(cell);
        assert_eq!(ps.len(), 1, "{cell}: {ps:?}\nall: {got:#?}");
        ps[0]
    };
    assert!(
        matches!(one("A2"), Problem::Unsupported { what, .. } if what == "type 'begin repeat'")
    );
    assert!(
        matches!(one("A3"), Problem::Unsupported { what, why } if what.contains("or_other") && why.contains("or_other"))
    );
    assert!(matches!(one("D4"), Problem::Syntax { expr, .. } if expr == "${club} = 'yes' and"));
    assert!(
        matches!(one("D5"), Problem::Reference { question, where_, .. } if question == "later" && *where_ == "an earlier question")
    );
    assert!(at("A6").is_empty(), "a note is a question hark has");
    assert!(matches!(one("A7"), Problem::Unsupported { what, .. } if what == "type 'calculate'"));
    assert!(
        matches!(one("E7"), Problem::Unsupported { what, .. } if what == "column 'calculation'")
    );
    assert!(
        matches!(one("D8"), Problem::Inexpressible { why, .. } if why.contains("count-selected"))
    );
    assert!(
        matches!(one("F8"), Problem::Unsupported { what, .. } if what == "column 'choice_filter'")
    );
    assert!(matches!(one("A9"), Problem::Unsupported { what, .. } if what == "type 'range'"));
    assert!(matches!(one("A10"), Problem::Unsupported { what, .. } if what == "type 'end repeat'"));
    assert!(matches!(one("B12"), Problem::BadValue { value, .. } if value == "Bad Name"));
    assert!(matches!(one("B13"), Problem::Duplicate { name, first_row: 11 } if name == "later"));
    assert!(matches!(one("A14"), Problem::Unsupported { what, .. } if what == "type 'geopoint'"));
    assert!(matches!(one("A15"), Problem::UnknownList(l) if l == "nowhere"));
    let dup: Vec<_> = got
        .iter()
        .filter(|(s, c, _)| s == "choices" && c == "B5")
        .collect();
    assert!(
        matches!(dup.as_slice(), [(_, _, Problem::Duplicate { name, first_row: 4 })] if name == "leeds"),
        "{got:#?}"
    );
    assert_eq!(got.len(), 15, "{got:#?}");
    // The report reads as a list an author can work through.
    let text = e.to_string();
    assert!(text.starts_with("the XLSForm has 15 problems"), "{text}");
    assert!(
        text.contains("sheet 'survey', row 4, column D (relevant): cannot read"),
        "{text}"
    );
}

#[test]
fn an_empty_survey_sheet() {
    let e = problems(&[
        ("survey", &[&["type", "name", "label"]]),
        ("settings", SETTINGS),
    ]);
    assert_eq!(
        cells(&e),
        [("survey".into(), "-".into(), Problem::NoQuestions)]
    );
    let e = problems(&[("survey", &[]), ("settings", SETTINGS)]);
    let got = cells(&e);
    assert!(
        got.contains(&("survey".into(), "-".into(), Problem::MissingColumn("type"))),
        "{got:?}"
    );
}

#[test]
fn missing_sheets_and_settings() {
    let e = problems(&[("choices", &[&["list_name", "name", "label"]])]);
    assert_eq!(
        cells(&e),
        [("survey".into(), "-".into(), Problem::MissingSheet("survey"))]
    );
    let survey: &[&[&str]] = &[&["type", "name", "label"], &["text", "why", "Why?"]];
    let settings: &[&[&str]] = &[
        &["form_id", "version", "audience", "default_language"],
        &["x", "next week", "grown_up", "Klingon"],
    ];
    let got = cells(&problems(&[("survey", survey), ("settings", settings)]));
    assert!(
        got.contains(&(
            "settings".into(),
            "D2".into(),
            Problem::LanguageCode("Klingon".into())
        )),
        "{got:?}"
    );
    assert!(
        got.iter().any(|(s, c, p)| s == "settings"
            && c == "B2"
            && matches!(p, Problem::BadValue { value, .. } if value == "next week")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|(s, c, p)| s == "settings"
            && c == "C2"
            && matches!(p, Problem::BadValue { value, .. } if value == "grown_up")),
        "{got:?}"
    );
    assert_eq!(got.len(), 3, "{got:?}");
    let header_only: &[&[&str]] = &[&["form_id", "version", "audience"]];
    let got = cells(&problems(&[("survey", survey), ("settings", header_only)]));
    assert_eq!(
        got,
        [(
            "settings".into(),
            "-".into(),
            Problem::Missing("the row of values under the settings header")
        )]
    );
}

#[test]
fn every_finding_of_the_core_validation_is_located_at_its_cell() {
    // The sheets are fine; the form model refuses five things.
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English (en)",
            "hint::Welsh (cy)",
            "relevant",
            "constraint",
            "allow_dont_know",
        ],
        &["select_one one", "pick", "Pick", "", "", "", ""],
        &["integer", "age", "Age", "", "", ". >= 10 and . <= 5", ""],
        &["text", "why", "Why?", "", "", "", "yes"],
        &[
            "select_one yn",
            "club",
            "Club?",
            "",
            "${pick} = 'only'",
            "",
            "",
        ],
        &["select_one yn", "goes", "Goes?", "", "", "", ""],
        &[
            "select_one yn",
            "tell",
            "Tell?",
            "",
            "${goes} = 'maybe'",
            "",
            "",
        ],
        &["text", "more", "More?", "Mwy?", "", "", ""],
        &["text", "fine", "Fine", "", "", "", ""],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", "label"],
        &["one", "only", "Only"],
        &["yn", "yes", "Yes"],
        &["yn", "no", "No"],
    ];
    let triggers: &[&[&str]] = &[
        &["id", "level", "when", "guidance"],
        &["told", "concern", "${tell} = 'yes'", "Follow up."],
        &["silent", "concern", "${fine} = 'x'", ""],
    ];
    let e = problems(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", SETTINGS),
        ("safeguarding", triggers),
    ]);
    let got: Vec<(String, String, FormProblem)> = cells(&e)
        .into_iter()
        .map(|(s, c, p)| match p {
            Problem::Invalid(fe) => (s, c, fe.problem),
            other => panic!("{s} {c}: {other}"),
        })
        .collect();
    let want = |s: &str, c: &str, p: FormProblem| (s.to_owned(), c.to_owned(), p);
    assert_eq!(
        got,
        [
            want("survey", "A2", FormProblem::TooFewOptions),
            want("survey", "F3", FormProblem::BadBounds("10 > 5".into())),
            want("survey", "G4", FormProblem::SpecialOnOpenQuestion),
            // club's relevant names pick, already reported: not again.
            want(
                "survey",
                "E7",
                FormProblem::ImpossibleValue("the relevance condition", "goes".into())
            ),
            want(
                "survey",
                "D8",
                FormProblem::MissingText("the hint", "en".into())
            ),
            // told's condition names tell, already reported: not again.
            want("safeguarding", "D3", FormProblem::NoGuidance),
        ]
    );
}

#[test]
fn hark_columns_face_scales_and_triggers() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label",
            "easy_read",
            "read_aloud",
            "allow_dont_know",
            "allow_prefer_not_to_say",
            "relevant",
        ],
        &[
            "face_scale faces",
            "safe_school",
            "How safe at school?",
            "Safe at school?",
            "How safe? Choose a face.",
            "yes",
            "yes",
            "",
        ],
        &[
            "yes_no",
            "tell",
            "Would you tell someone?",
            "",
            "",
            "",
            "",
            "${safe_school} = 'sad'",
        ],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", "label", "symbol"],
        &["faces", "sad", "Sad", "🙁"],
        &["faces", "middle", "In the middle", "😐"],
        &["faces", "happy", "Happy", "🙂"],
    ];
    let triggers: &[&[&str]] = &[
        &["id", "level", "when", "guidance"],
        &[
            "unsafe_school",
            "urgent",
            "${safe_school} <= 1 and ${tell} = 'no'",
            "Talk to the DSL today.",
        ],
    ];
    let f = ok(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", SETTINGS),
        ("safeguarding", triggers),
    ])
    .form;
    let q = &f.questions[0];
    assert!(
        matches!(&q.kind, QuestionKind::FaceScale { points: 3, labels } if labels[2].symbol.as_deref() == Some("🙂"))
    );
    assert!(q.allow_dont_know && q.allow_prefer_not_to_say);
    assert_eq!(q.easy_read, Some(Text::new("en", "Safe at school?")));
    // A face-scale point named by its label is its number.
    assert_eq!(
        f.questions[1].relevant,
        Some(Condition::Equals {
            question: "safe_school".into(),
            value: CondValue::Int(1)
        })
    );
    assert_eq!(f.safeguarding.len(), 1);
    assert_eq!(
        f.safeguarding[0].when,
        Condition::All(vec![
            Condition::AtMost {
                question: "safe_school".into(),
                value: CondValue::Int(1)
            },
            Condition::Equals {
                question: "tell".into(),
                value: CondValue::Str("no".into())
            },
        ])
    );
}

#[test]
fn not_a_spreadsheet() {
    let e = import_file(b"type,name,label\ntext,why,Why?\n").expect_err("csv is refused");
    assert!(matches!(e.problems.as_slice(), [p] if matches!(p.what, Problem::Unreadable(_))));
}

#[test]
fn a_survey_past_the_row_limit_is_refused_whole() {
    use hark_xlsform::{Sheet, Workbook, import};
    let mut survey = Sheet::new("survey", &[&["type", "name", "label"]]);
    for i in 0..2001 {
        survey
            .rows
            .push(vec!["text".into(), format!("q{i}"), "Q".into()]);
    }
    let settings = Sheet::new(
        "settings",
        &[
            &["form_id", "version", "audience"],
            &["big", "1.0.0", "parent_carer"],
        ],
    );
    let e = import(&Workbook {
        sheets: vec![survey, settings],
    })
    .expect_err("too large");
    assert_eq!(
        cells(&e),
        [(
            "survey".into(),
            "-".into(),
            Problem::TooLarge {
                rows: 2001,
                max: 2000
            }
        )]
    );
}

#[test]
fn a_condition_on_metadata_is_refused_not_dropped() {
    let survey: &[&[&str]] = &[
        &["type", "name", "label", "relevant"],
        &["today", "today", "", ""],
        &["text", "why", "Why?", "${today} != ''"],
    ];
    let e = problems(&[("survey", survey), ("settings", SETTINGS)]);
    let got = cells(&e);
    assert!(
        matches!(got.as_slice(), [(s, c, Problem::Reference { question, where_, .. })]
            if s == "survey" && c == "D3" && question == "today" && where_.contains("metadata")),
        "{got:?}"
    );
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    let e = import_file(b"").expect_err("empty");
    assert!(
        e.to_string()
            .contains("the file: cannot be read as a spreadsheet"),
        "{e}"
    );
}

#[test]
fn numbered_choices_compare_as_their_names_and_are_not_ordered() {
    let survey: &[&[&str]] = &[
        &["type", "name", "label", "relevant"],
        &["select_one agree", "agree", "Agree?", ""],
        &[
            "text",
            "why",
            "Why?",
            "${agree} = 1 or selected(${agree}, 2)",
        ],
        &["text", "more", "More?", "${agree} >= 2"],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", "label"],
        &["agree", "#1", "Yes"],
        &["agree", "#2", "No"],
    ];
    let e = problems(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", SETTINGS),
    ]);
    let got = cells(&e);
    assert!(
        matches!(got.as_slice(), [(_, c, Problem::Inexpressible { why, .. })] if c == "D4" && why.contains("single_choice")),
        "{got:?}"
    );
    let ok_survey = &survey[..3];
    let f = ok(&[
        ("survey", ok_survey),
        ("choices", choices),
        ("settings", SETTINGS),
    ])
    .form;
    assert_eq!(
        f.questions[1].relevant,
        Some(Condition::Any(vec![
            Condition::Equals {
                question: "agree".into(),
                value: CondValue::Str("1".into())
            },
            Condition::Equals {
                question: "agree".into(),
                value: CondValue::Str("2".into())
            },
        ]))
    );
}

/// Two cells, at A1 and at XFD1048576: the reader would build the grid
/// between them (seventeen billion cells). Refused, cell by cell, first.
#[test]
fn a_cell_at_the_far_corner_is_refused_before_the_grid_is_built() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("survey").expect("name");
    ws.write_string(0, 0, "type").expect("cell");
    ws.write_string(1_048_575, 16_383, "x").expect("cell");
    let bytes = book.save_to_buffer().expect("xlsx");
    let err = import_file(&bytes).expect_err("refused");
    assert!(
        err.to_string().contains("sheet 'survey' is too large"),
        "{err}"
    );
}

#[test]
fn a_note_imports_as_text_to_show_and_round_trips() {
    let survey: &[&[&str]] = &[
        &["type", "name", "label", "hint", "relevant", "required"],
        &["yes_no", "club", "Do you go to a club?", "", "", "yes"],
        &[
            "note",
            "club_thanks",
            "Thank you: clubs matter to us.",
            "Next, a few questions about school.",
            "${club} = 'yes'",
            "",
        ],
        &["note", "asked", "Asked again", "", "", "yes"],
    ];
    let e = problems(&[("survey", survey), ("settings", SETTINGS)]);
    // A required note is refused at its `required` cell.
    assert!(
        matches!(cells(&e).as_slice(), [(s, c, Problem::Invalid(err))] if s == "survey" && c == "F4" && err.problem == FormProblem::AnsweredNote),
        "{e}"
    );
    let f = ok(&[("survey", &survey[..3]), ("settings", SETTINGS)]).form;
    let note = &f.questions[1];
    assert_eq!(note.kind, QuestionKind::Note);
    assert_eq!(
        note.hint,
        Some(Text::new("en", "Next, a few questions about school."))
    );
    assert!(note.relevant.is_some() && !note.required);
    let back = hark_xlsform::import(&hark_xlsform::export(&f).expect("export")).expect("import");
    assert_eq!(back.form, f);
}

#[test]
fn a_field_list_group_is_a_section_on_one_page_and_round_trips() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English (en)",
            "label::Welsh (cy)",
            "appearance",
        ],
        &[
            "yes_no",
            "club",
            "Do you go to a club?",
            "Wyt ti'n mynd i glwb?",
            "",
        ],
        &[
            "begin group",
            "about_you",
            "About you",
            "Amdanat ti",
            "field-list",
        ],
        &[
            "integer",
            "age",
            "How old are you?",
            "Faint yw dy oed di?",
            "",
        ],
        &["note", "nearly", "Nearly done", "Bron wedi gorffen", ""],
        &["end group", "", "", "", ""],
        &["begin_group", "school", "School", "Ysgol", ""],
        &[
            "yes_no",
            "likes",
            "Do you like school?",
            "Wyt ti'n hoffi'r ysgol?",
            "",
        ],
        &["end_group", "", "", "", ""],
        &["text", "else", "Anything else?", "Unrhyw beth arall?", ""],
    ];
    let f = ok(&[("survey", survey), ("settings", SETTINGS)]).form;
    assert_eq!(f.sections.len(), 2);
    assert_eq!(f.sections[0].id, "about_you");
    assert!(f.sections[0].one_page, "field-list is one page");
    assert_eq!(f.sections[0].title.get("cy", "en"), "Amdanat ti");
    assert!(!f.sections[1].one_page);
    let sections: Vec<Option<&str>> = f.questions.iter().map(|q| q.section.as_deref()).collect();
    assert_eq!(
        sections,
        [
            None,
            Some("about_you"),
            Some("about_you"),
            Some("school"),
            None
        ]
    );
    assert_eq!(
        f.section_of(&f.questions[3]).map(|s| s.id.as_str()),
        Some("school")
    );
    let bytes = hark_xlsform::export_file(&f).expect("export");
    assert_eq!(import_file(&bytes).expect("import").form, f);
    // A form without sections writes none: its JSON is unchanged.
    assert!(
        !hark_core::form::builtin_forms().expect("forms")[0]
            .to_json()
            .contains("section")
    );
}

#[test]
fn nested_unclosed_and_empty_groups_are_refused_by_row() {
    let survey: &[&[&str]] = &[
        &["type", "name", "label"],
        &["begin group", "outer", "Outer"],
        &["yes_no", "a", "A?"],
        &["begin group", "inner", "Inner"],
        &["yes_no", "b", "B?"],
        &["end group", "", ""],
        &["end group", "", ""],
        &["begin group", "empty", "Empty"],
        &["end group", "", ""],
        &["begin group", "open", "Open"],
        &["yes_no", "c", "C?"],
    ];
    let e = problems(&[("survey", survey), ("settings", SETTINGS)]);
    let got = cells(&e);
    assert!(
        got.contains(&(
            "survey".into(),
            "A4".into(),
            Problem::Nested { first_row: 2 }
        )),
        "{got:#?}"
    );
    assert!(
        got.contains(&("survey".into(), "A7".into(), Problem::UnopenedGroup)),
        "{got:#?}"
    );
    assert!(
        got.contains(&(
            "survey".into(),
            "A9".into(),
            Problem::EmptyGroup { first_row: 8 }
        )),
        "{got:#?}"
    );
    assert!(
        got.contains(&(
            "survey".into(),
            "A10".into(),
            Problem::Missing("the 'end group' row for this group")
        )),
        "{got:#?}"
    );
    assert!(
        e.to_string()
            .contains("sheet 'survey', row 4, column A (type): groups do not nest"),
        "{e}"
    );
}

#[test]
fn required_and_constraint_messages_per_language_import_and_round_trip() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English (en)",
            "label::Welsh (cy)",
            "required",
            "constraint",
            "required_message::English (en)",
            "required_message::Welsh (cy)",
            "constraint_message::English (en)",
            "constraint_message::Welsh (cy)",
        ],
        &[
            "integer",
            "age",
            "How old are you?",
            "Faint yw dy oed di?",
            "yes",
            ". >= 4 and . <= 18",
            "Please tell us your age",
            "Dywed wrthym dy oed",
            "An age from 4 to 18",
            "Oed o 4 i 18",
        ],
        &["text", "why", "Why?", "Pam?", "", "", "", "", "", "Gair"],
    ];
    let f = ok(&[("survey", &survey[..2]), ("settings", SETTINGS)]);
    let age = &f.form.questions[0];
    assert_eq!(
        age.required_message.as_ref().map(|t| t.get("cy", "en")),
        Some("Dywed wrthym dy oed")
    );
    let e = age
        .check(hark_core::answer::Answer::Number(30))
        .expect_err("out of range");
    assert_eq!(e.explain("cy", "en"), "Oed o 4 i 18");
    assert_eq!(e.explain("en", "en"), "An age from 4 to 18");
    let back =
        hark_xlsform::import(&hark_xlsform::export(&f.form).expect("export")).expect("import");
    assert_eq!(back.form, f.form);
    // A message without the default language is refused on its row.
    let e = problems(&[("survey", survey), ("settings", SETTINGS)]);
    assert!(
        e.problems.iter().any(|p| p.at.row == Some(3)
            && matches!(&p.what, Problem::Invalid(err) if err.problem == FormProblem::MissingText("the constraint message", "en".into()))),
        "{e}"
    );
}

#[test]
fn a_decimal_imports_with_exact_bounds_and_conditions_and_round_trips() {
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label",
            "constraint",
            "relevant",
            "required",
        ],
        &[
            "decimal",
            "hours",
            "How many hours did you sleep?",
            ". >= 0.5 and . <= 14.25",
            "",
            "yes",
        ],
        &[
            "select_one tired",
            "tired",
            "Were you tired?",
            "",
            "${hours} < 6.5",
            "",
        ],
        &[
            "decimal",
            "weight",
            "Weight in kg",
            ". >= -1",
            // 0 is below the bound: still a condition a form may hold.
            "${hours} > 0",
            "",
        ],
        &["decimal", "bad", "Bad", ". > 1.5", "", ""],
        &["decimal", "bad2", "Bad", "", "${tired} > 2.5", ""],
    ];
    let choices: &[&[&str]] = &[
        &["list_name", "name", "label"],
        &["tired", "yes", "Yes"],
        &["tired", "no", "No"],
    ];
    let e = problems(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", SETTINGS),
    ]);
    let got = cells(&e);
    assert!(
        matches!(got.as_slice(), [
            (_, d5, Problem::Inexpressible { why: a, .. }),
            (_, e6, Problem::Inexpressible { why: b, .. }),
        ] if d5 == "D5" && a.contains(">= and <=") && e6 == "E6" && b.contains("decimal")),
        "{got:#?}"
    );
    let f = ok(&[
        ("survey", &survey[..4]),
        ("choices", choices),
        ("settings", SETTINGS),
    ])
    .form;
    assert_eq!(
        f.questions[0].kind,
        QuestionKind::Decimal {
            min: Some("0.5".into()),
            max: Some("14.25".into())
        }
    );
    // `<` on a decimal: at most, and not at least, so 6.5 itself is not below.
    let below = CondValue::Str("6.5".into());
    assert_eq!(
        f.questions[1].relevant,
        Some(Condition::All(vec![
            Condition::AtMost {
                question: "hours".into(),
                value: below.clone()
            },
            Condition::Not(Box::new(Condition::AtLeast {
                question: "hours".into(),
                value: below
            })),
        ]))
    );
    let asked = |hours: &str| {
        let answers = std::collections::BTreeMap::from([(
            "hours".to_owned(),
            hark_core::Answer::Decimal(hours.into()),
        )]);
        f.questions[1]
            .relevant
            .as_ref()
            .is_some_and(|c| c.holds(&answers))
    };
    assert!(asked("6.49") && !asked("6.5") && !asked("6.50") && !asked("7"));
    assert_eq!(
        f.questions[2].kind,
        QuestionKind::Decimal {
            min: Some("-1".into()),
            max: None
        }
    );
    let back = hark_xlsform::import(&hark_xlsform::export(&f).expect("export")).expect("import");
    assert_eq!(back.form, f);
}
