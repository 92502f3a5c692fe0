//! The server trusts no device, tried as an attacker would: with a valid
//! device token and sync requests built from the public wire format, every
//! probe changes no count and gets a clear refusal; one bad document
//! refuses one document; the web endpoints refuse what a browser page of
//! another site, a guesser or a slow client would try.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value};
use hark_core::doc::{DocKind, now_ms};
use hark_core::form::builtin_form;
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use hark_core::sync::client::Transport;
use hark_core::sync::{DocData, SyncRequest, SyncResponse};
use hark_server::model::Role;
use hark_tests::{TestDevice, TestServer};
use serde_json::json;

use crate::leaders::{PASSWORD, Web};

const FORM: &str = "service-satisfaction";

/// A submitted satisfaction response made as a device makes it.
fn response(d: &TestDevice, id: &str, setting: &str) -> ResponseDoc {
    let form = builtin_form(FORM).expect("form");
    let ctx = ResponseContext {
        area: d.area.clone(),
        device: "tablet".into(),
        setting: Some(setting.into()),
        captured_at: now_ms() - 1000,
        ..ResponseContext::default()
    };
    let mut doc = ResponseDoc::start(id, &form, &ctx, Consent::adult(), "fw").expect("start");
    doc.answer(
        &form,
        "fft",
        hark_core::Answer::Choice("good".into()),
        now_ms(),
    )
    .expect("answer");
    doc.submit(&form, now_ms()).expect("submit");
    doc
}

/// Writes an answer object straight into a document, as a buggy or hostile
/// device could.
pub(crate) fn forge(
    doc: &mut ResponseDoc,
    question: &str,
    kind: &str,
    value: Option<&str>,
    picks: usize,
) {
    let d = doc.doc_mut();
    let Ok(Some((Value::Object(ObjType::Map), answers))) = d.get(ROOT, "answers") else {
        panic!("answers map");
    };
    let obj = d
        .put_object(&answers, question, ObjType::Map)
        .expect("object");
    d.put(&obj, "t", kind).expect("kind");
    if let Some(v) = value {
        d.put(&obj, "v", ScalarValue::from(v)).expect("value");
    }
    if picks > 0 {
        let list = d.put_object(&obj, "v", ObjType::List).expect("list");
        for i in 0..picks {
            d.insert(&list, i, "very_good").expect("pick");
        }
    }
    d.commit();
}

pub(crate) fn whole(doc: &mut ResponseDoc) -> DocData {
    DocData {
        id: doc.id().to_owned(),
        kind: DocKind::Response,
        base: Vec::new(),
        bytes: doc.save().into(),
        flagged: false,
    }
}

pub(crate) fn send(d: &TestDevice, server: &TestServer, docs: Vec<DocData>) -> SyncResponse {
    d.transport(&server.url)
        .exchange(&SyncRequest {
            docs,
            ..SyncRequest::default()
        })
        .expect("exchange")
}

pub(crate) fn reason(r: &SyncResponse, id: &str) -> String {
    r.rejected
        .iter()
        .find(|x| x.id == id)
        .map(|x| x.reason.clone())
        .unwrap_or_else(|| panic!("{id} not refused: {r:?}"))
}

#[test]
fn forged_documents_change_no_count_and_are_refused_by_name() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    let counted = |n: i64| assert_eq!(server.count("hartlepool", Some(FORM)), n);

    // A single-choice answer sent as a list of 1,000 picks.
    let mut picks = response(&d, "picks", "clinic");
    forge(&mut picks, "fft", "choices", None, 1000);
    let r = send(&d, &server, vec![whole(&mut picks)]);
    assert!(
        reason(&r, "picks").contains("expects a single_choice answer"),
        "{r:?}"
    );
    counted(0);

    // An answer to a question the form does not have.
    let mut unknown = response(&d, "unknown", "clinic");
    forge(&mut unknown, "favourite_colour", "choice", Some("red"), 0);
    let r = send(&d, &server, vec![whole(&mut unknown)]);
    assert!(reason(&r, "unknown").contains("no question 'favourite_colour'"));

    // A capture time from a tablet whose clock was reset to 1970.
    let form = builtin_form(FORM).expect("form");
    let mut old = ResponseDoc::start(
        "old",
        &form,
        &ResponseContext {
            area: d.area.clone(),
            captured_at: 1000,
            ..ResponseContext::default()
        },
        Consent::adult(),
        "fw",
    )
    .expect("start");
    let r = send(&d, &server, vec![whole(&mut old)]);
    assert!(reason(&r, "old").contains("device's clock"));
    counted(0);

    // A response accepted once cannot change its form version afterwards.
    let mut good = response(&d, "good", "clinic");
    let r = send(&d, &server, vec![whole(&mut good)]);
    assert_eq!(r.acks.len(), 1, "{r:?}");
    counted(1);
    let before = good.heads();
    good.doc_mut()
        .put(ROOT, "form_version", "9.9.9")
        .expect("put");
    good.doc_mut().commit();
    let changed = DocData {
        base: hark_core::sync::wire_heads(&before),
        bytes: good.doc_mut().save_after(&before).into(),
        ..whole(&mut good)
    };
    let r = send(&d, &server, vec![changed]);
    assert!(reason(&r, "good").contains("never change"), "{r:?}");
    counted(1);
}

#[test]
fn one_bad_document_in_a_batch_of_500_refuses_only_itself() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    let mut docs: Vec<DocData> = (0..499)
        .map(|i| whole(&mut response(&d, &format!("r-{i}"), "clinic")))
        .collect();
    let mut bad = response(&d, "bad", "clinic");
    forge(&mut bad, "fft", "hologram", Some("x"), 0);
    docs.insert(250, whole(&mut bad));
    let r = send(&d, &server, docs);
    assert_eq!(r.acks.len(), 499);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(reason(&r, "bad"), "an answer or flag cannot be read");
    assert_eq!(server.count("hartlepool", Some(FORM)), 499);
}

#[test]
fn report_groups_come_from_the_areas_lists_and_merges_are_counted_by_rule() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    // A setting made up on the device counts as "other", never as a group.
    let docs: Vec<DocData> = (0..6)
        .map(|i| {
            whole(&mut response(
                &d,
                &format!("x-{i}"),
                &format!("made-up-{i}"),
            ))
        })
        .collect();
    let r = send(&d, &server, docs);
    assert_eq!(r.acks.len(), 6);
    assert!(
        r.notices
            .iter()
            .all(|n| n.reason.contains("counted as other")),
        "the device is told: {:?}",
        r.notices
    );
    // Without consent: stored, not counted, and the device is told.
    let form = builtin_form(FORM).expect("form");
    let mut refused = response(&d, "no-consent", "clinic");
    refused
        .set_consent(
            Consent {
                consent: hark_core::response::Permission::Refused,
                assent: hark_core::response::Permission::NotApplicable,
            },
            now_ms(),
        )
        .expect("consent");
    let r = send(&d, &server, vec![whole(&mut refused)]);
    assert_eq!(r.acks.len(), 1, "stored");
    assert!(
        r.notices[0].reason.contains("not counted"),
        "{:?}",
        r.notices
    );
    assert_eq!(server.count("hartlepool", Some(FORM)), 6);

    let admin = "amira";
    hark_server::users::create_user(
        server.storage.as_ref(),
        "hartlepool",
        admin,
        PASSWORD,
        Role::Administrator,
        false,
    )
    .expect("user");
    let mut web = Web::new(&server.url);
    assert_eq!(web.sign_in(admin, PASSWORD), 200);
    // Filter lists come from published months.
    server.publish_this_month();
    let dims = web.json(&format!("/api/v1/dimensions?form={FORM}"));
    let settings: Vec<&str> = dims["setting"]
        .as_array()
        .expect("settings")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(settings, vec!["other"], "no made-up groups");
    let problems = web.json("/api/v1/problems");
    let kinds: Vec<(&str, i64)> = problems
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or(""),
                p["responses"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert!(kinds.contains(&("not_on_list", 6)), "{kinds:?}");
    assert!(kinds.contains(&("no_consent", 1)), "{kinds:?}");
    let _ = form;

    // An administrator changes the settings list: devices receive it.
    let (status, body) = web.put(
        "/api/v1/lists/setting",
        &json!([{"id": "forum_event", "label": "Forum event"}, {"id": "clinic", "label": "Clinic"}]),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = web.put(
        "/api/v1/lists/setting",
        &json!([{"id": "Bad Id", "label": "x"}]),
    );
    assert_eq!(status, 400);
    assert!(body.contains("not a list value"), "{body}");
    d.sync().expect("sync");
    let lists = hark_core::sync::area_lists(&d.store)
        .expect("lists")
        .expect("kept on the device");
    assert_eq!(lists.settings[0].id, "forum_event");
    let audit = web.json("/api/v1/audit?limit=20").to_string();
    assert!(audit.contains("lists.write"));
}

#[test]
fn oversized_or_overfull_sync_requests_are_refused_whole_and_erasures_are_audited() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |body: Vec<u8>| {
        let mut res = agent
            .post(&format!("{}/api/v1/sync", server.url))
            .header("authorization", &format!("Bearer {}", d.token))
            .header("content-type", hark_core::sync::codec::MEDIA_TYPE)
            .send(&body[..])
            .expect("request");
        (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    // A gzip bomb: 100 MiB of zeros in well under a megabyte.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..100 {
        gz.write_all(&chunk).expect("gzip");
    }
    let bomb = gz.finish().expect("gzip");
    assert!(bomb.len() < 1024 * 1024);
    let (status, body) = post(bomb);
    assert_eq!(status, 400);
    assert!(body.contains("larger than 64 MiB"), "{body}");

    let too_many = SyncRequest {
        want: (0..2000).map(|i| format!("w-{i}")).collect(),
        ..SyncRequest::default()
    };
    let (status, body) = post(hark_core::sync::encode(&too_many));
    assert_eq!(status, 400);
    assert!(body.contains("at most 1000 wanted documents"), "{body}");

    // Erasures are audited with the device and the counts.
    let ids = d.capture(FORM, 2, 1);
    d.sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some(FORM)), 2);
    for id in &ids {
        d.store.erase_response(id).expect("erase");
    }
    d.sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some(FORM)), 0);
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    let log = server
        .storage
        .audit_log(&area.id, i64::MAX, 10)
        .expect("log");
    let erase = log
        .iter()
        .find(|e| e.action == "responses.erase")
        .expect("audited");
    assert!(erase.actor.starts_with("device:"));
    assert!(
        erase.detail.contains("2 stored responses erased"),
        "{}",
        erase.detail
    );
}

#[test]
fn sign_in_is_throttled_audited_and_passwords_must_be_strong() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let store = server.storage.as_ref();
    let weak = hark_server::users::create_user(
        store,
        "hartlepool",
        "priya",
        "password1234",
        Role::Leader,
        false,
    )
    .expect_err("weak");
    assert!(weak.to_string().contains("too easy to guess"), "{weak}");
    hark_server::users::create_user(store, "hartlepool", "priya", PASSWORD, Role::Leader, false)
        .expect("user");
    let mut web = Web::new(&server.url);
    for _ in 0..4 {
        assert_eq!(web.sign_in("priya", "not the password"), 401);
    }
    assert_eq!(
        web.sign_in("priya", "not the password"),
        401,
        "the fifth locks"
    );
    let (status, body) = web.post(
        "/api/v1/session",
        &json!({"username": "priya", "password": PASSWORD}),
    );
    assert_eq!(status, 429, "locked, even with the right password");
    assert!(body.contains("try again in 15 minutes"), "{body}");
    let area = hark_server::admin::area_named(store, "hartlepool").expect("area");
    let log = store.audit_log(&area.id, i64::MAX, 50).expect("log");
    let failed = log.iter().filter(|e| e.action == "session.failed").count();
    assert_eq!(failed, 5);
    assert!(log.iter().any(|e| e.action == "session.locked"));
    assert!(
        log.iter()
            .all(|e| e.detail.contains("127.0.0.1") || e.action != "session.failed")
    );

    // Another user from the same address is not locked by priya's guesses.
    hark_server::users::create_user(store, "hartlepool", "sam", PASSWORD, Role::Leader, false)
        .expect("user");
    let mut sam = Web::new(&server.url);
    assert_eq!(sam.sign_in("sam", PASSWORD), 200);
    assert!(
        sam.cookie_name().starts_with("__Host-"),
        "{}",
        sam.cookie_name()
    );
}

#[test]
fn the_web_refuses_other_sites_wrong_media_types_and_formula_cells() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    hark_server::users::create_user(
        server.storage.as_ref(),
        "hartlepool",
        "amira",
        PASSWORD,
        Role::Administrator,
        true,
    )
    .expect("user");
    let mut web = Web::new(&server.url);
    assert_eq!(web.sign_in("amira", PASSWORD), 200);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let note = json!({"theme": "diagnosis", "you_said": "x", "we_did": "y"}).to_string();
    let res = agent
        .post(&format!("{}/api/v1/notes", server.url))
        .header("Cookie", web.cookie())
        .header("Content-Type", "text/plain")
        .send(note.as_str())
        .expect("request");
    assert_eq!(res.status().as_u16(), 415, "JSON only as application/json");
    let res = agent
        .post(&format!("{}/api/v1/notes", server.url))
        .header("Cookie", web.cookie())
        .header("Content-Type", "application/json")
        .header("Origin", "https://evil.example")
        .send(note.as_str())
        .expect("request");
    assert_eq!(res.status().as_u16(), 403, "another site's page");
    let own = server.url.clone();
    let res = agent
        .post(&format!("{}/api/v1/notes", server.url))
        .header("Cookie", web.cookie())
        .header("Content-Type", "application/json")
        .header("Origin", &own)
        .send(note.as_str())
        .expect("request");
    assert_eq!(res.status().as_u16(), 200, "its own page");

    // A free-text answer written as a formula is exported as text.
    let d = TestDevice::enrol(&server, "hartlepool");
    let form = builtin_form(FORM).expect("form");
    for i in 0..5 {
        let mut doc = response(&d, &format!("f-{i}"), "clinic");
        doc.reopen(now_ms()).expect("reopen");
        doc.answer(
            &form,
            "fft_why",
            hark_core::Answer::Text("=HYPERLINK(\"http://evil.example\")".into()),
            now_ms(),
        )
        .expect("answer");
        doc.submit(&form, now_ms()).expect("submit");
        assert_eq!(send(&d, &server, vec![whole(&mut doc)]).acks.len(), 1);
    }
    let (status, csv) = web.get(&format!("/api/v1/export/responses.csv?form={FORM}"));
    assert_eq!(status, 200);
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
}

#[test]
fn a_client_that_never_finishes_its_headers_is_let_go() {
    let server = TestServer::sqlite();
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("partial headers");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(25),
        "closed by the server after its header timeout, not by ours ({waited:?})"
    );
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
}
