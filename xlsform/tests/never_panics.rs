//! Whatever the bytes or the cells, the import answers with a form or a
//! report, never a panic; and what it accepts is a valid form that exports
//! and reads back the same.

use hark_core::form::builtin_forms;
use hark_xlsform::{Sheet, Workbook, export, export_file, import, import_file};
use proptest::prelude::*;

/// Cells drawn mostly from XLSForm's vocabulary, so that random grids get
/// past the headers and into the rows.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "type",
            "name",
            "label",
            "label::English (en)",
            "label::Welsh (cy)",
            "label::Klingon",
            "hint",
            "easy_read",
            "read_aloud",
            "required",
            "relevant",
            "constraint",
            "list_name",
            "symbol",
            "media::image",
            "form_id",
            "version",
            "audience",
            "theme",
            "default_language",
            "id",
            "level",
            "when",
            "guidance",
            "select_one l",
            "select_multiple l",
            "face_scale l",
            "text",
            "integer",
            "date",
            "yes_no",
            "begin group",
            "begin repeat",
            "note",
            "start",
            "l",
            "a",
            "b",
            "c",
            "yes",
            "no",
            "child_8_to_11",
            "parent_carer",
            "feeling_safe",
            "urgent",
            "1.0.0",
            "2024031501",
            "${a} = 'yes'",
            "${b} >= 3",
            "selected(${a}, 'b')",
            ". >= 0 and . <= 9",
            "string-length(.) <= 5",
            "count-selected(.) <= 2",
            "not(${a} = 'x') or (${b} < 2",
            "((((",
            "${",
            "'",
            "--1",
            "😀",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

fn sheet() -> impl Strategy<Value = Sheet> {
    (
        prop::sample::select(vec![
            "survey",
            "choices",
            "settings",
            "safeguarding",
            "Sheet1",
        ]),
        prop::collection::vec(prop::collection::vec(cell(), 0..8), 0..10),
    )
        .prop_map(|(name, rows)| Sheet {
            name: name.to_owned(),
            rows,
        })
}

/// A survey row that is often valid: a type, a name, a label, a relevant
/// and a constraint drawn from what the import reads.
fn survey_row() -> impl Strategy<Value = Vec<String>> {
    let often_empty =
        |pool: Vec<&'static str>| prop_oneof![3 => Just(""), 1 => prop::sample::select(pool)];
    (
        prop_oneof![
            8 => prop::sample::select(vec![
                "text", "integer", "date", "yes_no", "select_one l", "select_multiple l",
                "face_scale f",
            ]),
            1 => prop::sample::select(vec!["note", "start", "begin group"]),
        ],
        prop::sample::select(vec!["a", "b", "c", "d", "e"]),
        often_empty(vec![
            "${a} = 'x'",
            "${b} != ''",
            "selected(${a}, 'y')",
            "${c} >= 2",
            "${d} = 'yes' or ${a} = 'z'",
            "not(${b} = 'x') and ${c} < 3",
            "selected(${e}, 'x') or selected(${e}, 'y')",
            "${a} = 'sad'",
            "${a} = ",
        ]),
        often_empty(vec![
            ". >= 0 and . <= 9",
            "string-length(.) <= 5",
            "count-selected(.) <= 2",
            ". >= date('2024-01-01')",
            ". > 3",
        ]),
        often_empty(vec!["yes"]),
    )
        .prop_map(|(ty, name, relevant, constraint, dk)| {
            [ty, name, "Label", relevant, constraint, dk]
                .map(str::to_owned)
                .to_vec()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn plausible_forms_import_or_say_why(rows in prop::collection::vec(survey_row(), 1..7)) {
        let mut survey = Sheet::new(
            "survey",
            &[&["type", "name", "label", "relevant", "constraint", "allow_dont_know"]],
        );
        // Distinct names, in order, so that conditions often name an
        // earlier question; one row in five keeps a drawn (maybe repeated) name.
        for (i, mut row) in rows.into_iter().enumerate() {
            if i % 5 != 4 {
                row[1] = ["a", "b", "c", "d", "e"][i % 5].to_owned();
            }
            survey.rows.push(row);
        }
        let wb = Workbook {
            sheets: vec![
                survey,
                Sheet::new("choices", &[
                    &["list_name", "name", "label"],
                    &["l", "x", "X"], &["l", "y", "Y"], &["l", "z", "Z"],
                    &["f", "sad", "Sad"], &["f", "middle", "Middle"], &["f", "happy", "Happy"],
                ]),
                Sheet::new("settings", &[
                    &["form_id", "version", "audience"],
                    &["f", "1.0.0", "parent_carer"],
                ]),
            ],
        };
        match import(&wb) {
            Ok(imported) => {
                prop_assert!(imported.form.validate().is_ok());
                let grid = export(&imported.form).expect("an imported form exports");
                let back = import(&grid).map(|i| i.form);
                prop_assert_eq!(back, Ok(imported.form));
            }
            Err(e) => prop_assert!(!e.problems.is_empty()),
        }
    }

    #[test]
    fn random_grids_never_panic(sheets in prop::collection::vec(sheet(), 0..5)) {
        let wb = Workbook { sheets };
        match import(&wb) {
            Ok(imported) => {
                prop_assert!(imported.form.validate().is_ok());
                // What is accepted round-trips.
                if let Ok(grid) = export(&imported.form) {
                    let back = import(&grid).map(|i| i.form);
                    prop_assert_eq!(back, Ok(imported.form));
                }
            }
            Err(e) => prop_assert!(!e.problems.is_empty()),
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(import_file(&bytes).is_err());
    }

    #[test]
    fn damaged_workbooks_never_panic(
        which in 0usize..8,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let forms = builtin_forms().expect("built-in forms");
        let form = &forms[which % forms.len()];
        let mut bytes = export_file(form).expect("export");
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = import_file(&bytes);
        let _ = import_file(&bytes[..cut.index(bytes.len())]);
    }

    #[test]
    fn random_expressions_never_panic(expr in ".{0,40}", pick in 0usize..3) {
        let column = ["relevant", "constraint", "relevant"][pick];
        let wb = Workbook {
            sheets: vec![
                Sheet::new("survey", &[
                    &["type", "name", "label", column],
                    &["integer", "a", "A", ""],
                    &["text", "b", "B", &expr],
                ]),
                Sheet::new("settings", &[
                    &["form_id", "version", "audience"],
                    &["f", "1.0.0", "parent_carer"],
                ]),
            ],
        };
        let _ = import(&wb);
    }
}
