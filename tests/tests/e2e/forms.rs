//! A local area's own survey, as an administrator publishes it: an XLSForm
//! checked, imported, refused when it would rewrite a version, filled on a
//! device, synced, counted, and exported again.

use std::sync::Arc;

use hark_core::form::{Text, builtin_form};
use hark_server::cli::{Cli, Parser, run};
use hark_server::storage::sqlite::SqliteStorage;
use hark_tests::TestServer;

fn hark(args: &[&str]) -> Result<(), String> {
    run(Cli::parse_from(
        std::iter::once("hark").chain(args.iter().copied()),
    ))
    .map_err(|e| e.to_string())
}

#[test]
fn an_imported_xlsform_is_published_filled_synced_and_exported() {
    let dir = tempfile::tempdir().expect("dir");
    let db_path = dir.path().join("hark.db");
    let server = TestServer::start(Arc::new(SqliteStorage::open(&db_path).expect("sqlite")));
    server.area("hartlepool");
    let db = format!("sqlite://{}", db_path.display());
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();

    // The area adapts a built-in form: its own id and wording.
    let mut form = builtin_form("local-offer").expect("local-offer");
    form.id = "local-offer-hartlepool".into();
    form.title = Text::new("en", "The local offer in Hartlepool");
    std::fs::write(
        path("ours.xlsx"),
        hark_xlsform::export_file(&form).expect("export"),
    )
    .expect("write");

    let import = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "admin",
            "--db",
            &db,
            "form",
            "import",
            file,
            "--area",
            "hartlepool",
        ];
        args.extend_from_slice(extra);
        hark(&args)
    };
    let installed = || {
        let area =
            hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
        hark_server::admin::area_form(server.storage.as_ref(), &area, &form.id, None).ok()
    };

    // A dry run installs nothing.
    import(&path("ours.xlsx"), &["--dry-run"]).expect("dry run");
    assert_eq!(installed(), None);
    // Imported, it is the form; again, nothing changes.
    import(&path("ours.xlsx"), &[]).expect("import");
    assert_eq!(installed().as_ref(), Some(&form));
    import(&path("ours.xlsx"), &[]).expect("the same version again is no change");

    // Other content under the same version is refused, dry run or not.
    let mut changed = form.clone();
    changed.title = Text::new("en", "Something else");
    std::fs::write(
        path("changed.xlsx"),
        hark_xlsform::export_file(&changed).expect("export"),
    )
    .expect("write");
    for extra in [&["--dry-run"][..], &[]] {
        let err = import(&path("changed.xlsx"), extra).expect_err("a version is never rewritten");
        assert!(
            err.contains("already installed with different content"),
            "{err}"
        );
    }
    assert_eq!(installed().as_ref(), Some(&form));

    // A file that is not a form is refused with every problem by cell.
    std::fs::write(path("bad.xlsx"), bad_xlsform()).expect("write");
    let err = import(&path("bad.xlsx"), &[]).expect_err("refused");
    assert!(err.contains("the XLSForm has 2 problems"), "{err}");
    assert!(
        err.contains(
            "sheet 'survey', row 2, column A (type): type 'begin repeat' is not supported"
        ),
        "{err}"
    );
    assert!(
        err.contains("sheet 'survey', row 3, column C (relevant): cannot read"),
        "{err}"
    );

    // A device receives the new form at enrolment, fills it and syncs.
    let store = path("tablet");
    hark(&[
        "device",
        "--store",
        &store,
        "enrol",
        "--server",
        &server.url,
        "--code",
        &server.code("hartlepool"),
    ])
    .expect("enrol");
    std::fs::write(
        path("answers.json"),
        r#"{"heard_local_offer": "yes", "know_who_to_ask": "no", "used_local_offer": "yes"}"#,
    )
    .expect("write");
    hark(&[
        "device",
        "--store",
        &store,
        "fill",
        &form.id,
        "--answers",
        &path("answers.json"),
    ])
    .expect("fill");
    hark(&["device", "--store", &store, "sync"]).expect("sync");
    assert_eq!(server.count("hartlepool", Some(&form.id)), 1);

    // Exported from the area, it reads back as the same form.
    hark(&[
        "admin",
        "--db",
        &db,
        "form",
        "export",
        &form.id,
        "--area",
        "hartlepool",
        "-o",
        &path("out.xlsx"),
    ])
    .expect("export");
    let back =
        hark_xlsform::import_file(&std::fs::read(path("out.xlsx")).expect("read")).expect("import");
    assert_eq!(back.form, form);
    hark(&["admin", "--db", &db, "form", "list", "--area", "hartlepool"]).expect("list");
    let err = hark(&[
        "admin",
        "--db",
        &db,
        "form",
        "export",
        "nope",
        "--area",
        "hartlepool",
        "-o",
        &path("x.xlsx"),
    ])
    .expect_err("unknown form");
    assert!(
        err.contains("form nope in area 'hartlepool' not found"),
        "{err}"
    );
}

/// An XLSForm with a repeat and an unreadable relevant.
fn bad_xlsform() -> Vec<u8> {
    use hark_xlsform::{Sheet, Workbook};
    hark_xlsform::write_workbook(&Workbook {
        sheets: vec![
            Sheet::new(
                "survey",
                &[
                    &["type", "name", "relevant", "label"],
                    &["begin repeat", "kids", "", "Each child"],
                    &["text", "why", "${kids} = ", "Why?"],
                ],
            ),
            Sheet::new(
                "settings",
                &[
                    &["form_id", "version", "audience"],
                    &["bad", "1.0.0", "parent_carer"],
                ],
            ),
        ],
    })
    .expect("write")
}
