//! Practitioner mode (`hark hub --practitioner`) end to end: a server and
//! an enrolled practitioner's hub, each on port 0, driven over HTTP exactly
//! as the practitioner's browser and the web form drive it. Only this
//! machine is served; the context comes from the area's lists; a draft left
//! half-way resumes with its answers and context; a submit shows the form's
//! safeguarding guidance to the practitioner; sync status counts what waits,
//! and Sync now sends it to the server.

use std::sync::Arc;

use hark_core::answer::Answer;
use hark_core::response::{Permission, Status};
use hark_core::sync::http;
use hark_core::{ResponseFilter, Store, StoreKey};
use hark_hub::Desk;
use hark_tests::hub::browser_agent;
use hark_tests::{Serving, TestServer, hark, run_browser_script, test_tool};
use serde_json::{Value, json};

/// The staff code the tests' practitioner records.
const STAFF: &str = "SAM01";

/// A practitioner's hub running in this process on a free loopback port.
struct TestDesk {
    url: String,
    desk: Desk,
    _dir: tempfile::TempDir,
    _serving: Serving,
}

impl TestDesk {
    fn start(server: &TestServer, area: &str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("hark.db"), &StoreKey::from_bytes([7; 32]))
            .expect("store");
        http::enrol(&store, &server.url, &server.code(area), "laptop").expect("enrol");
        http::sync_with_server(&store, &|_: usize, _: usize| {}).expect("forms");
        let desk = Desk::new(Arc::new(store), Some(STAFF.into()));
        let serving = desk.clone();
        let serving = Serving::start(move |listener, shutdown| {
            hark_hub::serve_practitioner(listener, serving, shutdown)
        });
        Self {
            url: serving.url.clone(),
            desk,
            _dir: dir,
            _serving: serving,
        }
    }

    fn store(&self) -> &Store {
        self.desk.store()
    }
}

/// The practitioner's browser: redirects not followed, so they can be read.
struct Browser {
    agent: ureq::Agent,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            agent: browser_agent(),
            base: base.to_owned(),
        }
    }

    /// Status, body and `location` of a reply.
    fn reply(mut r: ureq::http::Response<ureq::Body>) -> (u16, String, Option<String>) {
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
            location,
        )
    }

    fn get(&self, path: &str) -> (u16, String, Option<String>) {
        Self::reply(
            self.agent
                .get(format!("{}{path}", self.base))
                .call()
                .expect("http"),
        )
    }

    fn post(&self, path: &str, ctype: &str, body: &str) -> (u16, String, Option<String>) {
        Self::reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("content-type", ctype)
                .send(body.as_bytes())
                .expect("http"),
        )
    }

    fn json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text, _) = self.post(path, "application/json", &body.to_string());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Starts `form` with the context page's fields; the new response's id.
    fn start(&self, form: &str, fields: &str) -> String {
        let (status, body, location) = self.post(
            &format!("/new/{form}"),
            "application/x-www-form-urlencoded",
            fields,
        );
        assert_eq!(status, 303, "{body}");
        location
            .and_then(|l| l.strip_prefix("/responses/").map(str::to_owned))
            .expect("the new draft's page")
    }

    fn answer(&self, id: &str, question: &str, value: Value) -> Value {
        let (status, body) = self.json(
            &format!("/api/practitioner/responses/{id}/answers"),
            &json!({"question": question, "value": value}),
        );
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// A request to the practitioner's router from `peer`, naming `host`.
fn request_from(desk: &Desk, peer: [u8; 4], host: &str, path: &str) -> (u16, String) {
    hark_tests::hub::request_from(
        hark_hub::practitioner_router(desk.clone()),
        "GET",
        peer,
        host,
        path,
    )
}

#[test]
fn practitioner_mode_answers_only_this_machine() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    // This machine, by address or by name: the start page.
    for host in ["127.0.0.1:8091", "localhost:8091", "[::1]:8091"] {
        let (status, page) = request_from(&desk.desk, [127, 0, 0, 1], host, "/");
        assert_eq!(status, 200, "{host}: {page}");
        assert!(page.contains("Start a survey"), "{page}");
    }
    // Another machine on the network: refused, every route, with a reason.
    for path in [
        "/",
        "/new/feeling-safe-child",
        "/api/practitioner/responses/x",
        "/assets/form.js",
    ] {
        let (status, page) = request_from(&desk.desk, [192, 168, 1, 20], "192.168.1.5:8091", path);
        assert_eq!(status, 403, "{path}");
        assert!(
            page.contains("opens only on the computer it runs on"),
            "{page}"
        );
        assert!(!page.contains("Start a survey"));
    }
    // A page elsewhere that names this machine under its own host name
    // (DNS rebinding) is refused too.
    let (status, _) = request_from(&desk.desk, [127, 0, 0, 1], "evil.example:8091", "/");
    assert_eq!(status, 403);
}

#[test]
fn the_context_comes_from_the_areas_lists() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    let b = Browser::new(&desk.url);
    // The context page offers the area's lists as they reached the device.
    let (status, page, _) = b.get("/new/feeling-safe-child");
    assert_eq!(status, 200);
    for expected in [
        "<select id=\"setting\" name=\"setting\">",
        "<option value=\"home\">Home</option>",
        "<option value=\"primary\">Primary (5-11)</option>",
        "<option value=\"autism\">Autism</option>",
        "<option value=\"autism_assessment\">Autism assessment</option>",
        "<option value=\"\">Not recorded</option>",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    // A value off a list is refused, and nothing is started.
    let (status, page, _) = b.post(
        "/new/feeling-safe-child",
        "application/x-www-form-urlencoded",
        "setting=home&need=Ayo%27s+autism&occasion=Home+visit",
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("that need is not on the area&#39;s list"),
        "{page}"
    );
    assert!(
        desk.store()
            .list(&ResponseFilter::default())
            .expect("list")
            .is_empty()
    );
    // A form the device does not offer is refused.
    let (status, _, _) = b.post(
        "/new/no-such-form",
        "application/x-www-form-urlencoded",
        "setting=home",
    );
    assert_eq!(status, 404);
    // Values on the lists are recorded, with the practitioner's staff code.
    let id = b.start(
        "feeling-safe-child",
        "setting=home&age_phase=primary&need=autism&pathway=autism_assessment&occasion=Home+visit",
    );
    let view = desk.store().response(&id).expect("response");
    let c = &view.header.context;
    assert_eq!(c.setting.as_deref(), Some("home"));
    assert_eq!(c.age_phase.as_deref(), Some("primary"));
    assert_eq!(c.need.as_deref(), Some("autism"));
    assert_eq!(c.pathway.as_deref(), Some("autism_assessment"));
    assert_eq!(c.occasion.as_deref(), Some("Home visit"));
    assert_eq!(c.practitioner.as_deref(), Some(STAFF));
    assert!(!c.kiosk);
    assert_eq!(c.area, "hartlepool");
    assert_eq!(view.header.status, Status::Draft);
}

#[test]
fn a_draft_left_half_way_resumes_with_its_answers_and_is_submitted() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    let b = Browser::new(&desk.url);
    let id = b.start(
        "service-satisfaction",
        "setting=clinic&need=speech_language&occasion=Clinic+appointment",
    );
    // The respondent consents and answers two questions, then stops.
    let (status, _) = b.json(
        &format!("/api/practitioner/responses/{id}/consent"),
        &json!({"consent": "given", "assent": "not_applicable"}),
    );
    assert_eq!(status, 200);
    b.answer(&id, "fft", json!("good"));
    b.answer(&id, "fft_why", json!("Kind staff"));
    // An answer the core refuses is refused with the core's reason.
    let (status, body) = b.json(
        &format!("/api/practitioner/responses/{id}/answers"),
        &json!({"question": "fft", "value": "marvellous"}),
    );
    assert_eq!(status, 422, "{body}");
    // The start page lists the draft: form, context, when, how many
    // answers, and never the answers themselves.
    let (_, start, _) = b.get("/");
    assert!(
        start.contains(&format!("href=\"/responses/{id}\"")),
        "{start}"
    );
    assert!(
        start.contains("Clinic · Speech, language and communication · Clinic appointment"),
        "{start}"
    );
    assert!(start.contains("2 answers"), "{start}");
    assert!(!start.contains("Kind staff"), "{start}");
    // Resumed (as after a restart of the hub: the store is the truth), the
    // draft has its answers, its consent and its context.
    let (status, page, _) = b.get(&format!("/responses/{id}"));
    assert_eq!(status, 200);
    assert!(page.contains("data-mode=\"practitioner\""), "{page}");
    let (status, text, _) = b.get(&format!("/api/practitioner/responses/{id}"));
    assert_eq!(status, 200, "{text}");
    let resumed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        resumed["answers"],
        json!({"fft": "good", "fft_why": "Kind staff"})
    );
    assert_eq!(resumed["consent"]["consent"], "given");
    assert_eq!(resumed["form"]["id"], "service-satisfaction");
    // It is finished and submitted.
    b.answer(&id, "esq_listened", json!("certainly_true"));
    let (status, body) = b.json(
        &format!("/api/practitioner/responses/{id}/submit"),
        &json!({"language": "en"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], format!("/responses/{id}/done"));
    let view = desk.store().response(&id).expect("response");
    assert_eq!(view.header.status, Status::Submitted);
    assert_eq!(view.header.consent.consent, Permission::Given);
    assert_eq!(
        view.answers.get("fft"),
        Some(&Answer::Choice("good".into()))
    );
    assert_eq!(
        view.answers.get("fft_why"),
        Some(&Answer::Text("Kind staff".into()))
    );
    assert_eq!(
        view.answers.get("esq_listened"),
        Some(&Answer::Choice("certainly_true".into()))
    );
    let c = &view.header.context;
    assert_eq!(c.setting.as_deref(), Some("clinic"));
    assert_eq!(c.need.as_deref(), Some("speech_language"));
    assert_eq!(c.language.as_deref(), Some("en"));
    assert_eq!(c.practitioner.as_deref(), Some(STAFF));
    // Submitted: no longer a draft to resume; its page is the outcome, and
    // a late retry of the submit changes nothing.
    let (_, start, _) = b.get("/");
    assert!(start.contains("No drafts"), "{start}");
    let (status, _, location) = b.get(&format!("/responses/{id}"));
    assert_eq!(
        (status, location),
        (303, Some(format!("/responses/{id}/done")))
    );
    let (status, _) = b.json(
        &format!("/api/practitioner/responses/{id}/submit"),
        &json!({"language": "en"}),
    );
    assert_eq!(status, 200);
    let (status, _) = b.json(
        &format!("/api/practitioner/responses/{id}/answers"),
        &json!({"question": "fft", "value": "poor"}),
    );
    assert_eq!(status, 422, "a submitted response takes no more answers");
    // Without consent the core refuses the submit, and the draft stays.
    let other = b.start("service-satisfaction", "");
    b.answer(&other, "fft", json!("poor"));
    let (status, body) = b.json(
        &format!("/api/practitioner/responses/{other}/submit"),
        &json!({"language": "en"}),
    );
    assert_eq!(status, 422, "{body}");
    let (_, done, _) = b.get(&format!("/responses/{other}/done"));
    assert!(done.contains("not sent: it was stopped part-way"), "{done}");
    // Deleting that draft deletes it for good.
    let (status, _, _) = b.post(
        &format!("/responses/{other}/discard"),
        "application/x-www-form-urlencoded",
        "",
    );
    assert_eq!(status, 200);
    assert!(desk.store().is_erased(&other).expect("erased"));
}

/// The child's answers on the feeling-safe form, one of them "not safe at
/// home" (point 1), as the web form sends them.
fn child_answers(b: &Browser, id: &str) {
    let (status, _) = b.json(
        &format!("/api/practitioner/responses/{id}/consent"),
        &json!({"consent": "given", "assent": "given"}),
    );
    assert_eq!(status, 200);
    for (q, v) in [
        ("safe_school", json!(4)),
        ("safe_home", json!(1)),
        ("safe_travel", json!(5)),
        ("safe_community", json!(4)),
        ("safe_online", json!("dont_know")),
        ("goes_clubs", json!("no")),
    ] {
        b.answer(id, q, v);
    }
}

#[test]
fn a_safeguarding_trigger_shows_its_guidance_to_the_practitioner() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    let b = Browser::new(&desk.url);
    let id = b.start("feeling-safe-child", "setting=home&age_phase=primary");
    // The page the child answers on never carries the triggers.
    let (_, text, _) = b.get(&format!("/api/practitioner/responses/{id}"));
    let resumed: Value = serde_json::from_str(&text).expect("json");
    assert!(resumed["form"].get("safeguarding").is_none(), "{text}");
    child_answers(&b, &id);
    let (status, body) = b.json(
        &format!("/api/practitioner/responses/{id}/submit"),
        &json!({"language": "en"}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, page, _) = b.get(&format!("/responses/{id}/done"));
    assert_eq!(status, 200);
    assert!(page.contains("Safeguarding: act on this now"), "{page}");
    assert!(page.contains("Urgent"), "{page}");
    assert!(
        page.contains("URGENT: the child has said they do not feel safe at home"),
        "{page}"
    );
    // Only the rule the answers raised, and no answer.
    assert!(!page.contains("do not feel safe at school"), "{page}");
    assert!(!page.contains("dont_know"), "{page}");
    let flags = &desk.store().response(&id).expect("response").header.flags;
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].trigger, "unsafe_home");
    // A response that raises nothing says so.
    let calm = b.start("feeling-safe-child", "");
    child_answers(&b, &calm);
    b.answer(&calm, "safe_home", json!(5));
    b.json(
        &format!("/api/practitioner/responses/{calm}/submit"),
        &json!({"language": "en"}),
    );
    let (_, page, _) = b.get(&format!("/responses/{calm}/done"));
    assert!(page.contains("No safeguarding prompt was raised"), "{page}");
}

#[test]
fn sync_status_counts_what_waits_and_sync_now_sends_it() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    let b = Browser::new(&desk.url);
    let (_, start, _) = b.get("/");
    assert!(
        start.contains("Area <strong>hartlepool</strong>"),
        "{start}"
    );
    assert!(start.contains("Last synced"), "{start}");
    assert!(
        start.contains("<strong id=\"waiting\">0 responses</strong>"),
        "{start}"
    );
    for _ in 0..2 {
        let id = b.start("feeling-safe-child", "setting=school");
        child_answers(&b, &id);
        let (status, _) = b.json(
            &format!("/api/practitioner/responses/{id}/submit"),
            &json!({"language": "en"}),
        );
        assert_eq!(status, 200);
    }
    let (_, start, _) = b.get("/");
    assert!(
        start.contains("<strong id=\"waiting\">2 responses</strong>"),
        "{start}"
    );
    assert_eq!(server.count("hartlepool", None), 0);
    let (status, _, location) = b.post("/sync", "application/x-www-form-urlencoded", "");
    assert_eq!((status, location.as_deref()), (303, Some("/")));
    let (_, page, _) = b.get("/");
    assert!(page.contains("Synced: 2 sent"), "{page}");
    assert!(
        page.contains("<strong id=\"waiting\">0 responses</strong>"),
        "{page}"
    );
    assert_eq!(server.count("hartlepool", Some("feeling-safe-child")), 2);
    // A second Sync now sends nothing again, and the server still counts two.
    b.post("/sync", "application/x-www-form-urlencoded", "");
    let (_, page, _) = b.get("/");
    assert!(page.contains("Synced: 0 sent"), "{page}");
    let (_, page, _) = b.get("/");
    assert!(!page.contains("Synced:"), "shown once: {page}");
    assert_eq!(server.count("hartlepool", None), 2);
}

/// The whole visit in Chromium (`tests/browser/practitioner.cjs`): the
/// practitioner chooses a form and the context, hands the tablet to the
/// child, the child stops half-way; the draft is resumed from the start
/// page, finished, handed back, and the practitioner sees the guidance;
/// then Sync now.
#[test]
fn a_practitioner_runs_a_visit_in_a_browser() {
    let axe = test_tool(
        "HARK_TEST_AXE",
        "target/tools/browser/node_modules/axe-core/axe.min.js",
    );
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let desk = TestDesk::start(&server, "hartlepool");
    let axe = axe.to_string_lossy();
    run_browser_script(
        "practitioner.cjs",
        &[("HARK_URL", &desk.url), ("HARK_AXE", &axe)],
        &[
            "practitioner-start.png",
            "practitioner-context.png",
            "practitioner-handover.png",
            "practitioner-child-face.png",
            "practitioner-paused.png",
            "practitioner-drafts.png",
            "practitioner-handback.png",
            "practitioner-guidance.png",
            "practitioner-synced.png",
            "practitioner-declined.png",
        ],
        5_000,
    );
    // What the child answered is in the store, submitted once, with the
    // context the practitioner chose and the answer given before the pause;
    // and the parent's, with the words typed.
    let all = desk.store().list(&ResponseFilter::default()).expect("list");
    assert_eq!(all.len(), 2, "{all:#?}");
    let h = all
        .iter()
        .find(|h| h.form.id == "feeling-safe-child")
        .expect("the child's response");
    assert_eq!(h.status, Status::Submitted);
    assert_eq!(h.context.setting.as_deref(), Some("home"));
    assert_eq!(h.context.need.as_deref(), Some("autism"));
    assert_eq!(h.context.practitioner.as_deref(), Some(STAFF));
    let view = desk.store().response(&h.id).expect("response");
    assert_eq!(view.answers.get("safe_school"), Some(&Answer::Scale(4)));
    assert_eq!(view.answers.get("safe_home"), Some(&Answer::Scale(1)));
    assert_eq!(view.answers.get("safe_online"), Some(&Answer::DontKnow));
    assert_eq!(view.header.consent.assent, Permission::Given);
    let parent = all
        .iter()
        .find(|h| h.form.id == "service-satisfaction")
        .expect("the parent's response");
    assert_eq!(parent.status, Status::Submitted);
    assert_eq!(parent.consent.consent, Permission::Given);
    let view = desk.store().response(&parent.id).expect("response");
    assert_eq!(
        view.answers.get("fft"),
        Some(&Answer::Choice("good".into()))
    );
    assert_eq!(
        view.answers.get("fft_why"),
        Some(&Answer::Text("Kind staff".into()))
    );
    assert_eq!(server.count("hartlepool", Some("feeling-safe-child")), 1);
}

#[test]
fn hark_hub_practitioner_enrols_from_the_command_line_and_takes_no_event() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("laptop");
    let store = store.to_str().expect("utf-8");
    let code = server.code("hartlepool");
    hark(&[
        "hub",
        "--practitioner",
        "--store",
        store,
        "--server",
        &server.url,
        "--enrol-code",
        &code,
        "--sync",
    ])
    .expect("enrol and sync");
    let opened = hark_server::cli::open_device_store(std::path::Path::new(store)).expect("store");
    assert!(
        opened.forms().expect("forms").len() >= 5,
        "the area's forms came"
    );
    assert!(
        hark_core::sync::area_lists(&opened)
            .expect("lists")
            .is_some(),
        "and its lists"
    );
    assert!(http::last_sync(&opened).expect("last sync").is_some());
    drop(opened);
    // An event's options mean nothing here, and a staff code is a code.
    let err = hark(&["hub", "--practitioner", "--store", store, "--event", "Hall"])
        .expect_err("no event in practitioner mode");
    assert!(err.contains("--event"), "{err}");
    let err =
        hark(&["hub", "--store", store, "--staff", "SAM01"]).expect_err("staff needs practitioner");
    assert!(err.contains("--practitioner"), "{err}");
    let long = "x".repeat(41);
    let err = hark(&["hub", "--practitioner", "--store", store, "--staff", &long])
        .expect_err("a name-length staff code");
    assert!(err.contains("staff code"), "{err}");
}
