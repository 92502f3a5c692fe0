//! A LibreOffice `.ods` XLSForm reads like an `.xlsx` one. The file is
//! written here by hand, as the OpenDocument format lays it out.

use std::io::{Cursor, Write};

use hark_core::form::QuestionKind;
use hark_xlsform::import_file;

fn cell(v: &str) -> String {
    if v.is_empty() {
        "<table:table-cell/>".into()
    } else if v.parse::<f64>().is_ok() {
        format!(
            r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>"#
        )
    } else {
        let v = v
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('\'', "&apos;");
        format!(
            r#"<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>"#
        )
    }
}

fn ods(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    ods_with(sheets, "")
}

/// An `.ods` of these sheets, with `extra` (raw rows) at the end of the
/// first one.
fn ods_with(sheets: &[(&str, &[&[&str]])], extra: &str) -> Vec<u8> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
    );
    for (name, rows) in sheets {
        content.push_str(&format!(r#"<table:table table:name="{name}">"#));
        for row in *rows {
            content.push_str("<table:table-row>");
            for v in *row {
                content.push_str(&cell(v));
            }
            content.push_str("</table:table-row>");
        }
        if *name == sheets[0].0 {
            content.push_str(extra);
        }
        content.push_str("</table:table>");
    }
    content.push_str("</office:spreadsheet></office:body></office:document-content>");
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, body) in [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content.as_str()),
    ] {
        zip.start_file(path, stored).expect("start");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn an_ods_xlsform_imports() {
    let bytes = ods(&[
        (
            "survey",
            &[
                &[
                    "type",
                    "name",
                    "label::English (en)",
                    "label::Polish (pl)",
                    "relevant",
                    "constraint",
                ],
                &[
                    "select_one yn",
                    "club",
                    "Do you go to a club?",
                    "Czy chodzisz do klubu?",
                    "",
                    "",
                ],
                &[
                    "integer",
                    "days",
                    "How many days a week?",
                    "Ile dni w tygodniu?",
                    "${club} = 'yes'",
                    ". >= 1 and . <= 7",
                ],
            ],
        ),
        (
            "choices",
            &[
                &[
                    "list_name",
                    "name",
                    "label::English (en)",
                    "label::Polish (pl)",
                ],
                &["yn", "yes", "Yes", "Tak"],
                &["yn", "no", "No", "Nie"],
            ],
        ),
        (
            "settings",
            &[
                &["form_title", "form_id", "version", "audience", "theme"],
                &[
                    "Clubs",
                    "clubs",
                    "2024031501",
                    "young_person_11_to_17",
                    "other",
                ],
            ],
        ),
    ]);
    let imported = import_file(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let f = imported.form;
    assert_eq!(f.languages, ["en", "pl"]);
    assert_eq!(f.version.to_string(), "2024.315.1");
    assert_eq!(f.questions[1].kind, QuestionKind::Number { min: 1, max: 7 });
    assert_eq!(
        f.questions[0].label.get("pl", "en"),
        "Czy chodzisz do klubu?"
    );
    assert!(f.questions[1].relevant.is_some());
}

const SURVEY: &[&[&str]] = &[
    &["type", "name", "label"],
    &["yes_no", "heard", "Have you heard of the local offer?"],
    &["text", "why", "Why?"],
];
const SETTINGS: &[&[&str]] = &[
    &["form_id", "version", "audience", "theme", "form_title"],
    &["ours", "1.0.0", "parent_carer", "information", "Ours"],
];

/// LibreOffice ends every sheet with its blank rows and columns, repeated
/// to the sheet's edge: they count nothing.
#[test]
fn libreoffice_trailing_blank_rows_cost_nothing() {
    let blank = r#"<table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#;
    let bytes = ods_with(&[("survey", SURVEY), ("settings", SETTINGS)], blank);
    let form = import_file(&bytes).expect("imports").form;
    assert_eq!(form.questions.len(), 2);
}

/// A few hundred bytes that would make the reader build a hundred million
/// cells (one cell with content repeated across 1,000 columns, that row
/// repeated 100,000 times) are refused before anything is built.
#[test]
fn repeated_cells_that_would_fill_memory_are_refused_unbuilt() {
    let bomb = r#"<table:table-row table:number-rows-repeated="100000"><table:table-cell table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#;
    let bytes = ods_with(&[("survey", SURVEY), ("settings", SETTINGS)], bomb);
    assert!(bytes.len() < 4096);
    let err = import_file(&bytes).expect_err("refused");
    assert!(
        err.to_string().contains("sheet 'survey' is too large"),
        "{err}"
    );
}
