//! A local area's own survey, as an administrator publishes it: an XLSForm
//! checked, imported, refused when it would rewrite a version, filled on a
//! device, synced, counted, and exported again; through the CLI and
//! through the API the dashboard uses.

use std::sync::Arc;

use hark_core::form::{Text, builtin_form};
use hark_core::{Consent, ResponseContext};
use hark_server::model::Role;
use hark_server::storage::sqlite::SqliteStorage;
use hark_tests::{TestDevice, TestServer, hark};
use serde_json::Value;

use crate::leaders::{PASSWORD, Web, user};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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

/// A server with the area hartlepool, its administrator (sam) and a
/// leader (priya) signed in.
fn staffed() -> (TestServer, Web, Web) {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    user(&server, "hartlepool", "priya", Role::Leader);
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let mut leader = Web::new(&server.url);
    assert_eq!(leader.sign_in("priya", PASSWORD), 200);
    (server, admin, leader)
}

fn visit() -> Visit {
    let (server, admin, leader) = staffed();
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
    // runs while `server` lives.)
    let Visit {
        server,
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
    server.publish_this_month();
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

/// An area's own form with one decimal question, as an author writes it.
const WAITING: &str = r#"{
  "id": "waiting-times", "version": "1.0.0",
  "title": {"en": "Waiting for an assessment"},
  "audience": "parent_carer", "theme": "diagnosis", "languages": ["en"],
  "questions": [
    {"id": "weeks", "type": "decimal", "min": "0", "max": "104", "required": true,
     "allow_dont_know": true,
     "label": {"en": "How many weeks did you wait for the assessment?"},
     "constraint_message": {"en": "Please give the weeks from 0 to 104, such as 6.5."}}
  ]
}"#;

#[test]
fn a_decimal_answer_is_exact_checked_on_arrival_and_reported_in_numeric_order() {
    use crate::integrity::{forge, reason, send, whole};
    use hark_core::Answer;
    use hark_core::doc::now_ms;
    use hark_core::response::ResponseDoc;

    let (server, admin, leader) = staffed();

    // Published from the spreadsheet an author would upload.
    let form = hark_core::Form::from_json(WAITING).expect("valid");
    let upload = hark_xlsform::export_file(&form).expect("export");
    let (status, body) = admin.post_bytes("/api/v1/forms", XLSX, &upload);
    assert_eq!(status, 200, "{body}");

    // On the tablet: the answer is kept exactly, in one canonical form;
    // what is not a number, or is out of bounds, is refused with the
    // author's message.
    let tablet = TestDevice::enrol(&server, "hartlepool");
    let ctx = ResponseContext {
        area: tablet.area.clone(),
        setting: Some("clinic".into()),
        ..Default::default()
    };
    let store = &tablet.store;
    let answer = |weeks: &str| {
        let id = store
            .start_response(&form.id, &ctx, Consent::given_for(form.audience))
            .expect("start");
        let outcome = store.answer(&id, "weeks", Answer::Decimal(weeks.into()));
        (id, outcome)
    };
    for bad in ["6,5", "1e2", "104.01", "-1", "six"] {
        let (_, refused) = answer(bad);
        let Err(hark_core::Error::Answer(e)) = refused else {
            panic!("{bad}: {refused:?}");
        };
        assert_eq!(
            e.explain("en", "en"),
            "Please give the weeks from 0 to 104, such as 6.5.",
            "{bad}"
        );
        assert!(
            matches!(e.refused(), hark_core::AnswerError::BadDecimal { .. }),
            "{bad}: {e}"
        );
    }
    let mut counts = Vec::new();
    for (typed, n) in [("2.50", 12), ("10", 10), ("0.75", 6), ("010.0", 1)] {
        for _ in 0..n {
            let (id, ok) = answer(typed);
            ok.expect(typed);
            store.submit(&id).expect("submit");
            counts.push(id);
        }
    }
    let kept = store.response(&counts[0]).expect("response");
    assert_eq!(
        kept.answers.get("weeks"),
        Some(&Answer::Decimal("2.5".into()))
    );
    let last = store
        .response(counts.last().expect("one"))
        .expect("response");
    assert_eq!(
        last.answers.get("weeks"),
        Some(&Answer::Decimal("10".into()))
    );
    tablet.sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some(&form.id)), 29);

    // A device that writes the number its own way, or not as a number at
    // all, has that one document refused by name.
    let sent = ResponseContext {
        device: "tablet".into(),
        captured_at: now_ms() - 1000,
        ..ctx.clone()
    };
    let forged = |id: &str, value: &str| {
        let mut doc = ResponseDoc::start(id, &form, &sent, Consent::adult(), "fw").expect("start");
        forge(&mut doc, "weeks", "decimal", Some(value), 0);
        doc.submit(&form, now_ms()).expect("submit");
        whole(&mut doc)
    };
    let r = send(
        &tablet,
        &server,
        vec![
            forged("trailing", "2.50"),
            forged("float", "2.5e0"),
            forged("fine", "3"),
        ],
    );
    let refused = format!("{:?}", r.rejected);
    assert!(
        reason(&r, "trailing").contains("not in canonical form"),
        "{refused}"
    );
    assert!(
        reason(&r, "float").contains("must be a number such as 2.5 between 0 and 104"),
        "{refused}"
    );
    assert_eq!(r.acks.len(), 1, "{refused}");
    assert_eq!(server.count("hartlepool", Some(&form.id)), 30);

    // Leaders see nothing of December until it is published; then a
    // number is not listed yet (listing it would say someone gave it), so
    // every one is counted in "other values".
    server.publish_this_month();
    let report = leader.json("/api/v1/reports?form=waiting-times&question=weeks");
    let ids = |r: &Value| -> Vec<String> {
        r["options"]
            .as_array()
            .expect("options")
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(ids(&report), ["~dont_know", "~other"], "{report}");
    let december = report["groups"][0]["cells"][0].clone();
    assert_eq!(december["answered"]["n"], 30, "{report}");
    assert_eq!(december["options"][1]["n"], 30, "{report}");

    // More answers, synced in January (late for December: they count in
    // January). Once the quarter after December is published, the values
    // 5 or more gave are listed in numeric order (not 10 before 2.5, as
    // text sorts), equal numbers counted together (10 and 010.0); the one
    // 3 is not listed but counted, hidden, in "other values"; December
    // reads as it did.
    for (typed, n) in [("2.5", 6), ("010.0", 5), ("0.75", 5), ("3", 1)] {
        for _ in 0..n {
            let (id, ok) = answer(typed);
            ok.expect(typed);
            store.submit(&id).expect("submit");
        }
    }
    tablet.sync().expect("sync");
    server.clock.set(hark_tests::at("2027-04-08"));
    let report = leader.json("/api/v1/reports?form=waiting-times&question=weeks");
    assert_eq!(
        ids(&report),
        ["~dont_know", "0.75", "2.5", "10", "~other"],
        "{report}"
    );
    let cells = report["groups"][0]["cells"].as_array().expect("cells");
    let at = |period: &str| {
        cells
            .iter()
            .find(|c| c["period"] == period)
            .unwrap_or_else(|| panic!("{period}: {report}"))
    };
    let december = at("2026-12");
    assert_eq!(december["answered"]["n"], 30);
    assert_eq!(december["options"][4]["n"], 30, "{report}");
    assert_eq!(december["options"][1]["hidden"], "in other values");
    let january = at("2027-01");
    assert_eq!(january["answered"]["n"], 17, "{report}");
    let n = |i: usize| january["options"][i]["n"].clone();
    assert_eq!(january["options"][4]["hidden"], "hidden", "{report}");
    assert!(n(1) == 5 || n(1).is_null(), "{report}");
    assert!(n(2) == 6 || n(2).is_null(), "{report}");
    assert!(n(3) == 5 || n(3).is_null(), "{report}");
}

/// A parent types a decimal on a phone through a survey link
/// (`tests/browser/decimal.cjs`, headless Chromium); the server stores the
/// number in its one canonical form.
#[test]
fn a_decimal_is_typed_checked_and_sent_from_a_phone() {
    let axe = hark_tests::test_tool(
        "HARK_TEST_AXE",
        "target/tools/browser/node_modules/axe-core/axe.min.js",
    );
    let (server, admin, _) = staffed();
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    let form = hark_core::Form::from_json(WAITING).expect("valid");
    hark_server::admin::install_form(server.storage.as_ref(), &area, &form).expect("install");
    let (status, text) = admin.post(
        "/api/v1/links",
        &serde_json::json!({"form": "waiting-times"}),
    );
    assert_eq!(status, 201, "{text}");
    let links: Value = serde_json::from_str(&text).expect("JSON");
    let link = format!("{}{}", server.url, links[0]["path"].as_str().expect("path"));
    hark_tests::run_browser_script(
        "decimal.cjs",
        &[("HARK_LINK", &link), ("HARK_AXE", &axe.to_string_lossy())],
        &["decimal-1-refused.png", "decimal-2-thank-you.png"],
        10_000,
    );
    assert_eq!(server.count("hartlepool", Some("waiting-times")), 1);
    let report = admin.json("/api/v1/reports?form=waiting-times&question=weeks");
    let ids: Vec<&str> = report["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    // One parent's 6.5 is counted, never listed.
    assert_eq!(ids, ["~dont_know", "~other"], "{report}");
}
