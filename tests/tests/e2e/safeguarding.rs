//! The safeguarding lead's list: a flagged response appears on ingest,
//! with the answers that raised it; only the safeguarding role sees it;
//! every view and every change is audited; the follow-up survives later
//! syncs; an erasure removes the flag; the lead works it in a browser.

use hark_core::Answer;
use hark_core::response::{Consent, ResponseContext};
use hark_server::model::Role;
use hark_tests::{TestDevice, TestServer, run_browser_script};
use serde_json::{Value, json};

use crate::leaders::{PASSWORD, Web, user};

const FORM: &str = "feeling-safe-child";

/// A child's response saying they feel not safe at all at home.
fn flagged(d: &TestDevice) -> String {
    let form = d
        .store
        .latest_form(FORM)
        .expect("forms")
        .expect("installed");
    let ctx = ResponseContext {
        area: d.area.clone(),
        setting: Some("home".into()),
        occasion: Some("home visit 12".into()),
        practitioner: Some("fw-0042".into()),
        ..Default::default()
    };
    let id = d
        .store
        .start_response(&form.id, &ctx, Consent::child())
        .expect("start");
    for (q, a) in hark_core::form::plausible_answers(&form, hark_core::form::seeded(5)) {
        if q != "safe_home" {
            let _ = d.store.answer(&id, &q, a);
        }
    }
    d.store
        .answer(&id, "safe_home", Answer::Scale(1))
        .expect("answer");
    let flags = d.store.submit(&id).expect("submit");
    assert!(
        flags.iter().any(|f| f.trigger == "unsafe_home"),
        "the device shows it at once"
    );
    id
}

fn setup() -> (TestServer, TestDevice) {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    for (name, role) in [
        ("sam", Role::Safeguarding),
        ("priya", Role::Leader),
        ("amira", Role::Administrator),
    ] {
        user(&server, "hartlepool", name, role);
    }
    let d = TestDevice::enrol(&server, "hartlepool");
    (server, d)
}

#[test]
fn flags_appear_on_ingest_for_the_safeguarding_role_only() {
    let (server, d) = setup();
    let id = flagged(&d);
    d.capture("local-offer", 3, 9);
    d.sync().expect("sync");

    for other in ["priya", "amira"] {
        let mut web = Web::new(&server.url);
        assert_eq!(web.sign_in(other, PASSWORD), 200);
        let (status, _) = web.get("/api/v1/safeguarding");
        assert_eq!(status, 403, "{other} does not see the list");
    }
    let mut lead = Web::new(&server.url);
    assert_eq!(lead.sign_in("sam", PASSWORD), 200);
    assert_eq!(lead.json("/api/v1/safeguarding/count")["new"], 1);
    let list = lead.json("/api/v1/safeguarding");
    let flags = list.as_array().expect("flags");
    let flag = flags
        .iter()
        .find(|f| f["trigger"] == "unsafe_home")
        .expect("the flag is listed");
    assert_eq!(flag["level"], "urgent");
    assert_eq!(flag["practitioner"], "fw-0042");
    assert_eq!(flag["occasion"], "home visit 12");
    assert_eq!(flag["setting"], "home");
    assert_eq!(flag["status"], "new");
    assert!(flag["guidance"].as_str().expect("guidance").len() > 20);
    let answers = flag["answers"].as_array().expect("answers");
    assert!(
        answers
            .iter()
            .any(|a| a["question"] == "safe_home" && a["answer"] == "Not safe at all"),
        "{answers:?}"
    );
    assert!(flag.get("response_key").is_none(), "no internal keys");
    let flag_id = flag["id"].as_i64().expect("id");

    // Follow-up: seen, then followed up with a note (required).
    let (status, _) = lead.post(
        &format!("/api/v1/safeguarding/{flag_id}"),
        &json!({"status": "seen"}),
    );
    assert_eq!(status, 200);
    assert_eq!(lead.json("/api/v1/safeguarding/count")["new"], 0);
    let (status, body) = lead.post(
        &format!("/api/v1/safeguarding/{flag_id}"),
        &json!({"status": "followed_up"}),
    );
    assert_eq!(status, 400);
    assert!(body.contains("needs a note"), "{body}");
    let (status, body) = lead.post(
        &format!("/api/v1/safeguarding/{flag_id}"),
        &json!({"status": "followed_up", "note": "Called the DSL."}),
    );
    assert_eq!(status, 200, "{body}");
    let done: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(done["status"], "followed_up");
    assert_eq!(done["status_by"], "sam");
    assert_eq!(done["note"], "Called the DSL.");

    // A later edit of the response keeps the follow-up.
    d.store.reopen(&id).expect("reopen");
    d.store
        .answer(&id, "safe_home", Answer::Scale(2))
        .expect("answer");
    d.store.submit(&id).expect("submit");
    d.sync().expect("sync");
    let again = lead.json("/api/v1/safeguarding");
    let kept: Vec<&Value> = again
        .as_array()
        .expect("flags")
        .iter()
        .filter(|f| f["trigger"] == "unsafe_home")
        .collect();
    assert_eq!(kept.len(), 1, "one flag, not a second");
    assert_eq!(kept[0]["status"], "followed_up");

    // The feed, for integrations, pages by id.
    assert_eq!(
        lead.json("/api/v1/safeguarding/feed?after=0")
            .as_array()
            .map(Vec::len),
        Some(flags.len())
    );
    assert_eq!(
        lead.json(&format!("/api/v1/safeguarding/feed?after={}", i64::MAX - 1))
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Every view and change is audited.
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("amira", PASSWORD), 200);
    let log = admin.json("/api/v1/audit?limit=100").to_string();
    for action in [
        "safeguarding.read",
        "safeguarding.status",
        "safeguarding.feed",
    ] {
        assert!(log.contains(action), "{action} audited");
    }

    // Withdrawn consent: the response and its flag are gone everywhere.
    d.store.erase_response(&id).expect("erase");
    d.sync().expect("sync");
    let after = lead.json("/api/v1/safeguarding");
    assert!(
        !after
            .as_array()
            .expect("flags")
            .iter()
            .any(|f| f["id"] == flag_id),
        "the erased response's flag is gone"
    );
}

#[test]
fn the_safeguarding_lead_follows_up_a_flag_in_a_browser() {
    let (server, d) = setup();
    flagged(&d);
    d.sync().expect("sync");
    run_browser_script(
        "safeguarding.cjs",
        &[
            ("HARK_URL", &server.url),
            ("HARK_USER", "sam"),
            ("HARK_PASSWORD", PASSWORD),
        ],
        &["5-safeguarding-new.png", "6-safeguarding-followed-up.png"],
        10_000,
    );
}
