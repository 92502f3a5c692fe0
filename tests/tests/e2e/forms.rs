//! A local area's own survey, as an administrator publishes it: an XLSForm
//! checked, imported, refused when it would rewrite a version, filled on a
//! device, synced, counted, and exported again; through the CLI and
//! through the API the dashboard uses.

use std::sync::Arc;

use hark_core::form::{Text, builtin_form};
use hark_core::{Consent, ResponseContext};
use hark_server::cli::{Cli, Parser, run};
use hark_server::model::Role;
use hark_server::storage::sqlite::SqliteStorage;
use hark_tests::{TestDevice, TestServer};
use serde_json::Value;

use crate::leaders::{PASSWORD, Web, user};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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

/// An area with its administrator and a leader signed in, and a tablet
/// with a draft on the area's local-offer form.
struct Visit {
    server: TestServer,
    admin: Web,
    leader: Web,
    tablet: TestDevice,
    form: std::sync::Arc<hark_core::Form>,
    ctx: ResponseContext,
    draft: String,
}

fn visit() -> Visit {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    user(&server, "hartlepool", "priya", Role::Leader);
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let mut leader = Web::new(&server.url);
    assert_eq!(leader.sign_in("priya", PASSWORD), 200);
    let tablet = TestDevice::enrol(&server, "hartlepool");
    let form = tablet
        .store
        .latest_form("local-offer")
        .expect("forms")
        .expect("installed");
    let ctx = ResponseContext {
        area: tablet.area.clone(),
        setting: Some("clinic".into()),
        ..Default::default()
    };
    let draft = tablet
        .store
        .start_response("local-offer", &ctx, Consent::given_for(form.audience))
        .expect("draft");
    Visit {
        server,
        admin,
        leader,
        tablet,
        form,
        ctx,
        draft,
    }
}

#[test]
fn an_administrator_publishes_through_the_api_and_devices_get_it_at_their_next_sync() {
    // A tablet has a draft on the version the area has now. (The server
    // runs while `_server` lives.)
    let Visit {
        server: _server,
        admin,
        leader,
        tablet,
        form: old,
        ctx,
        draft,
    } = visit();

    // The administrator downloads the form to edit it.
    let (status, bytes) = admin.get_bytes("/api/v1/forms/local-offer/xlsx");
    assert_eq!(status, 200);
    let mut form = hark_xlsform::import_file(&bytes)
        .expect("the download imports")
        .form;
    assert_eq!(form, *old);
    assert_eq!(leader.get_bytes("/api/v1/forms/local-offer/xlsx").0, 403);

    // Edited: new wording and a question that changed shape, but only a
    // minor version number.
    form.version = semver::Version::new(old.version.major, old.version.minor + 1, 0);
    form.questions[0].label = Text::new("en", "Have you heard of Hartlepool's local offer?");
    let reshaped = form.questions[1].id.clone();
    form.questions[1].allow_prefer_not_to_say = !form.questions[1].allow_prefer_not_to_say;
    let upload = hark_xlsform::export_file(&form).expect("export");

    // Leaders cannot publish; a body that is not a spreadsheet is refused.
    assert_eq!(leader.post_bytes("/api/v1/forms", XLSX, &upload).0, 403);
    assert_eq!(
        admin.post_bytes("/api/v1/forms", "text/plain", &upload).0,
        415
    );

    // The check says what changed and warns; nothing is installed.
    let (status, body) = admin.post_bytes("/api/v1/forms?dry_run=true", XLSX, &upload);
    assert_eq!(status, 200, "{body}");
    let checked: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(checked["outcome"], "checked");
    assert_eq!(checked["previous"], old.version.to_string());
    assert_eq!(checked["changes"]["reshaped"][0], reshaped.as_str());
    assert_eq!(
        checked["changes"]["reworded"][0],
        form.questions[0].id.as_str()
    );
    assert!(
        checked["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("major change")),
        "{checked}"
    );
    let versions = |web: &Web| web.json("/api/v1/forms/local-offer")["version"].clone();
    assert_eq!(versions(&leader), old.version.to_string());

    // A bad file: every problem by cell, and nothing changes.
    let (status, body) = admin.post_bytes("/api/v1/forms", XLSX, &bad_xlsform());
    assert_eq!(status, 422, "{body}");
    let bad: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(bad["error"]["code"], "invalid_form");
    let cells: Vec<&str> = bad["error"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["cell"].as_str())
        .collect();
    assert_eq!(cells, ["A2", "C3"], "{bad}");

    // Published: the newest for everyone, audited, and at the tablet's
    // next sync new responses use it while the draft keeps its version.
    let (status, body) = admin.post_bytes("/api/v1/forms", XLSX, &upload);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON")["outcome"],
        "published"
    );
    assert_eq!(versions(&leader), form.version.to_string());
    let audit = admin.json("/api/v1/audit");
    assert!(audit.to_string().contains("form.publish"), "{audit}");
    tablet.sync().expect("sync");
    let newest = tablet
        .store
        .latest_form("local-offer")
        .expect("forms")
        .expect("installed");
    assert_eq!(*newest, form);
    assert_eq!(
        tablet
            .store
            .response(&draft)
            .expect("draft")
            .header
            .form
            .version,
        old.version
    );
    let fresh = tablet
        .store
        .start_response("local-offer", &ctx, Consent::given_for(form.audience))
        .expect("new response");
    assert_eq!(
        tablet
            .store
            .response(&fresh)
            .expect("new")
            .header
            .form
            .version,
        form.version
    );

    // Reported on: the reshaped question counts the new version's answers
    // only, and says the older version was asked differently.
    let ids = tablet.capture("local-offer", 12, 5);
    tablet.sync().expect("sync");
    let answered = ids
        .iter()
        .filter(|id| {
            tablet
                .store
                .response(id)
                .expect("response")
                .answers
                .contains_key(&reshaped)
        })
        .count();
    let report = leader.json(&format!(
        "/api/v1/reports?form=local-offer&question={reshaped}"
    ));
    let all = &report["groups"][0]["cells"]
        .as_array()
        .expect("cells")
        .last()
        .expect("all")["answered"]["n"];
    assert_eq!(all.as_u64(), Some(answered as u64), "{report}");
    assert_eq!(
        report["excluded_versions"][0]["version"],
        old.version.to_string(),
        "{report}"
    );

    // The same version again changes nothing; other content under it is a
    // conflict; an older version is refused.
    let (status, body) = admin.post_bytes("/api/v1/forms", XLSX, &upload);
    assert_eq!(
        (status, body.contains("already_published")),
        (200, true),
        "{body}"
    );
    let mut clash = form.clone();
    clash.title = Text::new("en", "Something else");
    let (status, body) = admin.post_bytes(
        "/api/v1/forms",
        XLSX,
        &hark_xlsform::export_file(&clash).expect("export"),
    );
    assert_eq!(status, 409, "{body}");
    let mut older = form.clone();
    older.version = semver::Version::new(0, 9, 0);
    let (status, body) = admin.post_bytes(
        "/api/v1/forms",
        XLSX,
        &hark_xlsform::export_file(&older).expect("export"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("older than the area's newest"), "{body}");
    assert_eq!(versions(&leader), form.version.to_string());
    // Every version stays downloadable.
    let (status, bytes) = admin.get_bytes(&format!(
        "/api/v1/forms/local-offer/xlsx?version={}",
        old.version
    ));
    assert_eq!(status, 200);
    assert_eq!(
        hark_xlsform::import_file(&bytes).expect("import").form,
        *old
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

#[test]
fn an_administrator_publishes_a_form_in_a_browser() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    let old = hark_server::admin::area_form(server.storage.as_ref(), &area, "local-offer", None)
        .expect("built in");
    let mut form = old.clone();
    form.version = semver::Version::new(old.version.major, old.version.minor + 1, 0);
    form.questions[0].label = Text::new("en", "Have you heard of Hartlepool's local offer?");
    form.questions[1].allow_prefer_not_to_say = !form.questions[1].allow_prefer_not_to_say;
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("local-offer-edited.xlsx");
    let bad = dir.path().join("broken.xlsx");
    std::fs::write(&good, hark_xlsform::export_file(&form).expect("export")).expect("write");
    std::fs::write(&bad, bad_xlsform()).expect("write");
    let version = form.version.to_string();
    hark_tests::run_browser_script(
        "forms.cjs",
        &[
            ("HARK_URL", &server.url),
            ("HARK_USER", "sam"),
            ("HARK_PASSWORD", PASSWORD),
            ("HARK_GOOD_XLSX", good.to_str().expect("utf-8")),
            ("HARK_BAD_XLSX", bad.to_str().expect("utf-8")),
            ("HARK_NEW_VERSION", &version),
        ],
        &[
            "forms-1-problems.png",
            "forms-2-checked.png",
            "forms-3-published.png",
        ],
        10_000,
    );
    assert_eq!(
        hark_server::admin::area_form(server.storage.as_ref(), &area, "local-offer", None)
            .expect("newest"),
        form,
        "what the browser published is the area's newest version"
    );
    let retired =
        hark_server::admin::area_form(server.storage.as_ref(), &area, "being-heard", None)
            .expect("being-heard");
    assert!(
        hark_server::admin::is_retired(server.storage.as_ref(), &area, &retired).expect("read"),
        "the form the browser retired is retired"
    );
}

#[test]
fn a_retired_form_is_no_longer_offered_and_what_was_begun_on_it_still_counts() {
    // A draft begun before the form is retired.
    let Visit {
        server,
        admin,
        leader,
        tablet,
        form,
        ctx,
        draft,
    } = visit();

    // Only an administrator retires, and it is audited.
    assert_eq!(
        leader
            .post("/api/v1/forms/local-offer/retire", &Value::Null)
            .0,
        403
    );
    let (status, body) = admin.post("/api/v1/forms/local-offer/retire", &Value::Null);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&form.version.to_string()), "{body}");
    assert_eq!(admin.post("/api/v1/forms/nope/retire", &Value::Null).0, 404);
    assert!(
        admin
            .json("/api/v1/audit")
            .to_string()
            .contains("form.retire")
    );
    let listed = leader.json("/api/v1/forms");
    let entry = listed
        .as_array()
        .expect("forms")
        .iter()
        .find(|f| f["id"] == "local-offer")
        .expect("still listed for reports");
    assert_eq!(entry["retired"], true);

    // At its next sync the tablet stops offering it ...
    tablet.sync().expect("sync");
    assert!(tablet.store.is_retired("local-offer").expect("read"));
    assert!(
        tablet
            .store
            .offered_forms()
            .expect("offered")
            .iter()
            .all(|f| f.id != "local-offer")
    );
    let err = tablet
        .store
        .start_response("local-offer", &ctx, Consent::given_for(form.audience))
        .expect_err("no new responses");
    assert!(err.to_string().contains("retired"), "{err}");
    // ... and a second tablet, enrolled afterwards, never offers it.
    let later = TestDevice::enrol(&server, "hartlepool");
    assert!(later.store.is_retired("local-offer").expect("read"));

    // The draft begun before is finished, synced and counted.
    let mut next = hark_core::form::seeded(3);
    for (q, a) in hark_core::form::plausible_answers(&form, &mut next) {
        tablet.store.answer(&draft, &q, a).expect("answer");
    }
    tablet.store.submit(&draft).expect("submit");
    tablet.sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some("local-offer")), 1);
}
