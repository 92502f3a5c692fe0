//! `hark hub` end to end: a server and an enrolled hub, each on port 0.
//! Phones join with the event code and submit over HTTP exactly as the web
//! form does; a bad submission is refused with a clear error and stores
//! nothing; the hub syncs, and the server counts every response once, also
//! after a second sync and a phone's late retry.

use std::path::Path;
use std::sync::Arc;

use hark_core::Form;
use hark_core::answer::Answer;
use hark_core::sync::http::HttpTransport;
use hark_core::sync::sync;
use hark_hub::Hub;
pub(crate) use hark_tests::hub::{CODE, Phone, TestHub, submission};
use hark_tests::{TestDevice, TestServer, hark, run_browser_script, test_tool};
use serde_json::{Value, json};

fn submitted_on_hub(phone: &Phone) -> u64 {
    let (status, body) = phone.get("/organiser/status");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).expect("json")["submitted"]
        .as_u64()
        .expect("count")
}

#[test]
fn phones_answer_on_a_hub_and_the_server_counts_each_family_once() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let hub = TestHub::start(&server, "hartlepool");
    let mut phone = Phone::new(&hub.url);

    // The join page: a QR code of the hub's address, and the code box.
    let (status, page) = phone.get("/");
    assert_eq!(status, 200);
    assert!(
        page.contains("<svg") && page.contains("QR code of"),
        "{page}"
    );
    assert!(page.contains(&hub.url), "the address is written out too");
    assert!(!page.contains(CODE), "the join page never shows the code");

    // Passers-by without the code get nothing.
    let (status, body) = phone.join("WRONG1");
    assert_eq!(status, 403);
    assert!(body.contains("not right"), "{body}");
    assert!(!phone.joined());
    let (status, body) = phone.get("/api/hub/forms/service-satisfaction");
    assert_eq!(status, 401, "{body}");
    let satisfaction = hub
        .hub
        .store()
        .latest_form("service-satisfaction")
        .expect("forms")
        .expect("installed");
    let (status, body) = phone.submit(&submission(&satisfaction, &"a".repeat(32), 1));
    assert_eq!(status, 401, "{body}");
    let (status, _) = phone.get("/forms");
    assert_eq!(
        status, 303,
        "the forms page sends a stranger to the join page"
    );

    // The right code (any case, spaces ignored) lets the phone in.
    let (status, _) = phone.join("hall 42");
    assert_eq!(status, 303);
    assert!(phone.joined(), "joined");
    let (status, list) = phone.get("/forms");
    assert_eq!(status, 200);
    assert!(list.contains("/form/feeling-safe-child"), "{list}");
    let (status, shell) = phone.get("/form/feeling-safe-child");
    assert_eq!(status, 200);
    assert!(shell.contains("/assets/form.js"));
    let (status, js) = phone.get("/assets/form.js");
    assert_eq!(status, 200);
    assert!(js.contains("speechSynthesis"));
    // The form as the core's model serialises it, valid for the core.
    let (status, text) = phone.get("/api/hub/forms/feeling-safe-child");
    assert_eq!(status, 200, "{text}");
    let child_form = Form::from_json(&text).expect("the served form is a valid form");
    assert_eq!(child_form.id, "feeling-safe-child");
    assert!(
        child_form.safeguarding.is_empty(),
        "phones are not sent the safeguarding triggers"
    );

    // Two families answer; a retry of the first stores nothing new.
    let (status, body) = phone.submit(&submission(&satisfaction, &"k".repeat(32), 1));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "stored", "new": true}));
    let (status, body) = phone.submit(&submission(&child_form, &"c".repeat(32), 2));
    assert_eq!(status, 200, "{body}");
    let (status, body) = phone.submit(&submission(&satisfaction, &"k".repeat(32), 1));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "stored", "new": false}));
    assert_eq!(submitted_on_hub(&phone), 2);

    // Bad submissions: refused, saying why, and nothing stored.
    let mut unknown_option = submission(&satisfaction, &"b".repeat(32), 3);
    unknown_option["answers"]["fft"] = json!("brilliant");
    let (status, body) = phone.submit(&unknown_option);
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("'fft'") && message.contains("no option"),
        "{message}"
    );
    let mut no_assent = submission(&child_form, &"d".repeat(32), 4);
    no_assent["consent"]["assent"] = json!("not_recorded");
    let (status, body) = phone.submit(&no_assent);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("assent")
    );
    let mut missing = submission(&child_form, &"e".repeat(32), 5);
    missing["answers"] = json!({});
    let (status, body) = phone.submit(&missing);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("'safe_school' is required"),
        "{body}"
    );
    let mut other_question = submission(&satisfaction, &"f".repeat(32), 6);
    other_question["answers"]["favourite_colour"] = json!("blue");
    assert_eq!(phone.submit(&other_question).0, 422);
    let mut old_version = submission(&satisfaction, &"g".repeat(32), 7);
    old_version["version"] = json!("0.0.1");
    let (status, body) = phone.submit(&old_version);
    assert_eq!(status, 404, "{body}");
    let (status, body, _) = phone.post("/api/hub/submit", "application/json", "{\"key\": ");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a submission"), "{body}");
    let mut short_key = submission(&satisfaction, "abc", 8);
    short_key["key"] = json!("abc");
    assert_eq!(phone.submit(&short_key).0, 400);
    assert_eq!(
        submitted_on_hub(&phone),
        2,
        "refused submissions stored nothing"
    );
    assert_eq!(
        hub.hub
            .store()
            .list(&hark_core::ResponseFilter::default())
            .expect("list")
            .len(),
        2,
        "not even a draft"
    );

    // A child who says they do not feel safe at home: stored, flagged for
    // the organiser's count (the server's safeguarding list gets it on sync).
    let flagged = |phone: &Phone| {
        let (_, body) = phone.get("/organiser/status");
        serde_json::from_str::<Value>(&body).expect("json")["flagged"]
            .as_u64()
            .expect("flagged")
    };
    let flagged_before = flagged(&phone);
    let mut unsafe_home = submission(&child_form, &"h".repeat(32), 10);
    unsafe_home["answers"]["safe_home"] = json!(1);
    assert_eq!(phone.submit(&unsafe_home).0, 200);
    let (_, status_body) = phone.get("/organiser/status");
    let counts: Value = serde_json::from_str(&status_body).expect("json");
    assert_eq!(counts["flagged"], flagged_before + 1, "{counts}");
    assert_eq!(counts["submitted"], 3, "{counts}");

    // The organiser's page shows the code and the live count.
    let (status, organiser) = phone.get("/organiser");
    assert_eq!(status, 200);
    assert!(
        organiser.contains(CODE) && organiser.contains("<svg"),
        "{organiser}"
    );
    assert!(
        organiser.contains("<span id=\"submitted\">3</span>"),
        "{organiser}"
    );

    // The sync button sends both; a second sync and a late retry change nothing.
    assert_eq!(server.count("hartlepool", None), 0);
    // Sync now answers with a redirect to the page, which says what
    // happened once: reloading it does not sync again.
    let (status, _, _) = phone.post("/organiser/sync", "application/x-www-form-urlencoded", "");
    assert_eq!(status, 303);
    let (status, page) = phone.get("/organiser");
    assert_eq!(status, 200);
    assert!(page.contains("Synced: 3 sent"), "{page}");
    let (_, reloaded) = phone.get("/organiser");
    assert!(!reloaded.contains("Synced:"), "{reloaded}");
    assert!(
        page.contains("<span id=\"last-sync\">last synced "),
        "{page}"
    );
    assert_eq!(server.count("hartlepool", None), 3);
    assert_eq!(server.count("hartlepool", Some("feeling-safe-child")), 2);
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    assert!(
        server
            .storage
            .count_flags(&area.id, hark_server::model::FlagStatus::New)
            .expect("flags")
            >= 1,
        "the flagged answer reached the safeguarding list"
    );
    let (status, _) = phone.submit(&submission(&child_form, &"c".repeat(32), 2));
    assert_eq!(status, 200);
    let (status, page, _) = phone.post("/organiser/sync", "application/x-www-form-urlencoded", "");
    assert_eq!(status, 303, "{page}");
    assert_eq!(server.count("hartlepool", None), 3, "counted once");
    // A restarted hub (same store, same code) knows the same phones and
    // maps a late retry to the same response.
    let again = Hub::new(hub.hub.store().clone(), hub.hub.event().clone()).expect("hub");
    assert_eq!(again.cookie_value(), hub.hub.cookie_value());
    assert_eq!(
        again.response_id(&"k".repeat(32)),
        hub.hub.response_id(&"k".repeat(32))
    );
}

#[test]
fn tablets_sync_to_the_hub_over_http_and_every_family_is_counted_once() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let hub = TestHub::start(&server, "hartlepool");
    let tablets: Vec<TestDevice> = (0..2)
        .map(|_| TestDevice::enrol(&server, "hartlepool"))
        .collect();
    for (i, t) in tablets.iter().enumerate() {
        t.capture("local-offer", 3, i as u64 + 1);
    }
    // A tablet without the code, or with another, is refused; nothing moves.
    let err = sync(
        &tablets[0].store,
        "hub",
        &HttpTransport::new(&hub.url, "NOTIT1"),
        &|_: usize, _: usize| {},
    )
    .expect_err("wrong code");
    assert!(err.to_string().contains("credentials"), "{err}");
    assert_eq!(
        hub.hub
            .store()
            .list(&Default::default())
            .expect("list")
            .len(),
        0
    );
    // With the code, the server's protocol and endpoint, over HTTP.
    for t in &tablets {
        let r = sync(
            &t.store,
            "hub",
            &HttpTransport::new(&hub.url, &CODE.to_lowercase()),
            &|_: usize, _: usize| {},
        )
        .expect("sync to the hub");
        assert_eq!(r.sent, 3);
        let again = sync(
            &t.store,
            "hub",
            &HttpTransport::new(&hub.url, CODE),
            &|_: usize, _: usize| {},
        )
        .expect("again");
        assert_eq!(again.sent, 0, "the hub acknowledged everything");
    }
    // A phone answers too.
    let mut phone = Phone::new(&hub.url);
    phone.join(CODE);
    let satisfaction = hub
        .hub
        .store()
        .latest_form("service-satisfaction")
        .expect("forms")
        .expect("installed");
    assert_eq!(
        phone
            .submit(&submission(&satisfaction, &"p".repeat(20), 9))
            .0,
        200
    );
    // A garbled sync body is refused, saying so.
    let (status, body, _) = phone.post("/api/v1/sync", "text/plain", "hello");
    assert_eq!(status, 401, "{body}");
    // The hub takes everything home; one tablet also syncs itself: 7 once.
    hark_core::sync::http::sync_with_server(hub.hub.store(), &|_: usize, _: usize| {})
        .expect("hub syncs");
    assert_eq!(server.count("hartlepool", None), 7);
    tablets[0].sync().expect("tablet syncs too");
    hark_core::sync::http::sync_with_server(hub.hub.store(), &|_: usize, _: usize| {})
        .expect("hub again");
    tablets[1].sync().expect("tablet syncs too");
    assert_eq!(
        server.count("hartlepool", None),
        7,
        "every family counted once"
    );
}

/// Sixty families answer on their phones at once, two tablets sync to the
/// hub at the same time, then the hub syncs: the server counts 66, once.
/// Prints the phones' p50 and p99 submit latency.
#[test]
fn sixty_phones_at_once_then_the_hub_syncs_and_every_family_counts_once() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let hub = TestHub::start(&server, "hartlepool");
    let tablets: Vec<TestDevice> = (0..2)
        .map(|_| TestDevice::enrol(&server, "hartlepool"))
        .collect();
    for (i, t) in tablets.iter().enumerate() {
        t.capture("service-satisfaction", 3, 100 + i as u64);
    }
    let forms: Vec<Arc<Form>> = ["service-satisfaction", "local-offer", "feeling-safe-child"]
        .iter()
        .map(|id| {
            hub.hub
                .store()
                .latest_form(id)
                .expect("forms")
                .expect("installed")
        })
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(60 + tablets.len()));
    let mut latencies: Vec<std::time::Duration> = std::thread::scope(|scope| {
        for t in &tablets {
            let barrier = barrier.clone();
            let url = hub.url.clone();
            scope.spawn(move || {
                barrier.wait();
                sync(
                    &t.store,
                    "hub",
                    &HttpTransport::new(&url, CODE),
                    &|_: usize, _: usize| {},
                )
                .expect("tablet syncs to the hub");
            });
        }
        let phones: Vec<_> = (0..60)
            .map(|i| {
                let barrier = barrier.clone();
                let form = forms[i % forms.len()].clone();
                let url = hub.url.clone();
                scope.spawn(move || {
                    let mut phone = Phone::new(&url);
                    phone.join(CODE);
                    let body = submission(&form, &format!("phone-{i:04}-0123456789"), i as u64);
                    barrier.wait();
                    let started = std::time::Instant::now();
                    let (status, reply) = phone.submit(&body);
                    let took = started.elapsed();
                    assert_eq!(status, 200, "{reply}");
                    took
                })
            })
            .collect();
        phones
            .into_iter()
            .map(|p| p.join().expect("phone"))
            .collect()
    });
    latencies.sort();
    println!(
        "60 phones at once: p50 {:?}, p99 {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100]
    );
    let held = hub
        .hub
        .store()
        .list(&hark_core::ResponseFilter::default())
        .expect("list")
        .len();
    assert_eq!(held, 66);
    hark_core::sync::http::sync_with_server(hub.hub.store(), &|_: usize, _: usize| {})
        .expect("hub syncs");
    for t in &tablets {
        t.sync().expect("the tablets sync from home too");
    }
    assert_eq!(
        server.count("hartlepool", None),
        66,
        "66 families, once each"
    );
}

#[test]
fn hark_hub_enrols_and_syncs_from_the_command_line() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("hub");
    let store = store.to_str().expect("utf-8");
    let code = server.code("hartlepool");
    hark(&[
        "hub",
        "--store",
        store,
        "--server",
        &server.url,
        "--enrol-code",
        &code,
        "--sync",
    ])
    .expect("enrol and sync");
    let opened = hark_server::cli::open_device_store(Path::new(store)).expect("store");
    assert!(
        opened.forms().expect("forms").len() >= 5,
        "the area's forms came with enrolment"
    );
    drop(opened);
    hark(&["hub", "--store", store, "--sync"]).expect("sync again");
    // Not enrolled: a clear refusal, before anything is served.
    let other = dir.path().join("other");
    let err = hark(&["hub", "--store", other.to_str().expect("utf-8"), "--sync"])
        .expect_err("not enrolled");
    assert!(err.contains("not enrolled"), "{err}");
    let err = hark(&["hub", "--store", other.to_str().expect("utf-8")]).expect_err("no forms");
    assert!(err.contains("no forms"), "{err}");
}

/// A parent carers' form in English and Polish, for the language switch.
const BILINGUAL: &str = r#"{
  "id": "event-feedback",
  "version": "1.0.0",
  "title": {"en": "Today's event", "pl": "Dzisiejsze spotkanie"},
  "audience": "parent_carer",
  "theme": "other",
  "languages": ["en", "pl"],
  "sections": [{"id": "family", "title": {"en": "Your family", "pl": "Twoja rodzina"}, "one_page": true}],
  "questions": [
    {"id": "useful", "type": "single_choice", "required": true, "allow_dont_know": true,
     "label": {"en": "Was today useful?", "pl": "Czy dzisiejsze spotkanie było przydatne?"},
     "options": [
       {"id": "very", "label": {"en": "Very useful", "pl": "Bardzo przydatne"}},
       {"id": "a_bit", "label": {"en": "A bit", "pl": "Trochę"}},
       {"id": "not", "label": {"en": "Not useful", "pl": "Nieprzydatne"}}
     ]},
    {"id": "thanks", "type": "note",
     "label": {"en": "Thank you. Two more questions.", "pl": "Dziękujemy. Jeszcze dwa pytania."}},
    {"id": "children", "type": "number", "min": 0, "max": 10, "section": "family",
     "constraint_message": {"en": "From 0 to 10, please.", "pl": "Od 0 do 10, prosimy."},
     "label": {"en": "How many children do you care for?", "pl": "Iloma dziećmi się opiekujesz?"},
     "hint": {"en": "A number from 0 to 10.", "pl": "Liczba od 0 do 10."}},
    {"id": "why", "type": "free_text", "section": "family",
     "relevant": {"equals": {"question": "useful", "value": "not"}},
     "label": {"en": "What would have made it useful?", "pl": "Co sprawiłoby, że byłoby przydatne?"}}
  ]
}"#;

/// A child answers the feeling-safe form on a phone-sized screen by tapping
/// faces, the read-aloud button speaks, and a reload mid-form keeps the
/// answers (`tests/browser/webform.cjs`, headless Chromium).
#[test]
fn a_child_answers_with_faces_in_a_browser() {
    let axe = test_tool(
        "HARK_TEST_AXE",
        "target/tools/browser/node_modules/axe-core/axe.min.js",
    );
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    let bilingual = Form::from_json(BILINGUAL).expect("a valid form");
    hark_server::admin::install_form(server.storage.as_ref(), &area, &bilingual).expect("install");
    let hub = TestHub::start(&server, "hartlepool");
    let axe = axe.to_string_lossy();
    run_browser_script(
        "webform.cjs",
        &[
            ("HARK_URL", &hub.url),
            ("HARK_CODE", CODE),
            ("HARK_AXE", &axe),
        ],
        &[
            "webform-phone-join.png",
            "webform-phone-face.png",
            "webform-phone-done.png",
            "webform-tablet-face.png",
            "webform-tablet-adult.png",
            "webform-tablet-organiser.png",
            "webform-tablet-polish.png",
            "webform-tablet-polish-thanks.png",
        ],
        5_000,
    );
    // What the child sent is on the hub, submitted, once; so is the parent's.
    let store = hub.hub.store();
    let all = store
        .list(&hark_core::ResponseFilter::default())
        .expect("list");
    assert_eq!(all.len(), 3, "{all:#?}");
    let polish = all
        .iter()
        .find(|h| h.form.id == "event-feedback")
        .expect("the parent's response in Polish");
    assert_eq!(polish.context.language.as_deref(), Some("pl"));
    let view = store.response(&polish.id).expect("response");
    assert_eq!(
        view.answers.get("useful"),
        Some(&Answer::Choice("not".into()))
    );
    assert_eq!(view.answers.get("children"), Some(&Answer::Number(2)));
    assert_eq!(
        view.answers.get("why"),
        Some(&Answer::Text("Za mało czasu".into()))
    );
    let child = all
        .iter()
        .find(|h| h.form.id == "feeling-safe-child")
        .expect("the child's response");
    assert_eq!(child.status, hark_core::Status::Submitted);
    assert!(child.context.kiosk && child.context.practitioner.is_none());
    let view = store.response(&child.id).expect("response");
    assert_eq!(view.answers.get("safe_school"), Some(&Answer::Scale(4)));
    assert_eq!(view.answers.get("safe_home"), Some(&Answer::Scale(5)));
    assert_eq!(view.answers.get("safe_online"), Some(&Answer::DontKnow));
    let sync =
        hark_core::sync::http::sync_with_server(store, &|_: usize, _: usize| {}).expect("sync");
    assert_eq!(sync.sent, 3);
    assert_eq!(server.count("hartlepool", None), 3);
}

/// The organiser's pages answer this machine only, and only when asked
/// for by a local name: a site the organiser's browser has open cannot
/// point its own name at 127.0.0.1 and read the event code (DNS
/// rebinding), nor press Sync.
#[test]
fn the_organiser_pages_refuse_a_page_that_rebinds_its_name_to_this_machine() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let hub = TestHub::start(&server, "hartlepool");
    let ask = |method: &str, peer: [u8; 4], host: &str, path: &str| {
        hark_tests::hub::request_from(
            hark_hub::hub_router(hub.hub.clone()),
            method,
            peer,
            host,
            path,
        )
    };

    for host in ["127.0.0.1:8090", "localhost:8090", "[::1]:8090"] {
        let (status, page) = ask("GET", [127, 0, 0, 1], host, "/organiser");
        assert_eq!(status, 200, "{host}: {page}");
        assert!(page.contains(CODE));
    }
    for (method, path) in [
        ("GET", "/organiser"),
        ("GET", "/organiser/status"),
        ("POST", "/organiser/sync"),
    ] {
        let (status, page) = ask(method, [127, 0, 0, 1], "evil.example:8090", path);
        assert_eq!(status, 403, "{path}: {page}");
        assert!(!page.contains(CODE), "{page}");
        // And from a phone on the network, whatever it names.
        let (status, _) = ask(method, [192, 168, 1, 20], "192.168.1.5:8090", path);
        assert_eq!(status, 403, "{path}");
    }
}
