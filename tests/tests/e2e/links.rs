//! Survey links end to end: an administrator makes links, families answer
//! through them with no app and no account, and the server checks and
//! counts each answer exactly as it checks a device's sync: once, however
//! often the page retries, never past a link's cap or closing day, never
//! through a revoked link, and never at the cost of a use when the answer
//! is refused.

use hark_core::form::Form;
use hark_server::model::Role;
use hark_tests::TestServer;
use serde_json::{Value, json};

use crate::hub::submission;
use crate::leaders::{PASSWORD, Web, user};

fn setup() -> (TestServer, Web, Form) {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let area = hark_server::admin::area_named(server.storage.as_ref(), "hartlepool").expect("area");
    let form = hark_server::admin::area_form(server.storage.as_ref(), &area, "local-offer", None)
        .expect("form");
    (server, admin, form)
}

fn make(admin: &Web, body: Value) -> Vec<Value> {
    let (status, text) = admin.post("/api/v1/links", &body);
    assert_eq!(status, 201, "{text}");
    serde_json::from_str::<Value>(&text)
        .expect("JSON")
        .as_array()
        .expect("links")
        .clone()
}

fn answer(family: &Web, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = family.post(&format!("{path}/answers"), body);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn families_answer_an_open_link_each_counted_once_until_its_cap() {
    let (server, admin, form) = setup();
    let link = &make(&admin, json!({"form": "local-offer", "cap": 2}))[0];
    let path = link["path"].as_str().expect("path").to_owned();
    assert!(path.starts_with("/s/") && path.len() == 43, "{path}");
    let family = Web::new(&server.url);

    // The page is hark's web form, with nothing fetched from elsewhere.
    let (status, page) = family.get(&path);
    assert_eq!(status, 200);
    assert!(page.contains("/assets/form.js") && page.contains(&format!("{path}/answers")));
    assert_eq!(family.get("/assets/form.js").0, 200);
    let shown = family.json(&format!("{path}/form"));
    assert_eq!(shown["id"], "local-offer");
    assert!(
        shown
            .get("safeguarding")
            .is_none_or(|s| s.as_array().is_some_and(Vec::is_empty))
    );

    // One family; the page retries after a lost answer: counted once.
    let first = submission(&form, "family-one-0000000000", 1);
    let (status, body) = answer(&family, &path, &first);
    assert_eq!((status, body["new"].clone()), (200, json!(true)), "{body}");
    let (status, body) = answer(&family, &path, &first);
    assert_eq!((status, body["new"].clone()), (200, json!(false)), "{body}");
    assert_eq!(server.count("hartlepool", Some("local-offer")), 1);

    // Answers the core refuses cost no use and store nothing.
    let mut bad = submission(&form, "family-bad-0000000000", 2);
    bad["answers"]["heard_local_offer"] = json!("perhaps");
    let (status, body) = answer(&family, &path, &bad);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("heard_local_offer")),
        "{body}"
    );
    let mut other_form = submission(&form, "family-odd-0000000000", 2);
    other_form["form"] = json!("being-heard");
    assert_eq!(answer(&family, &path, &other_form).0, 400);

    // A second family fills the cap; a third is told the survey closed.
    assert_eq!(
        answer(
            &family,
            &path,
            &submission(&form, "family-two-0000000000", 3)
        )
        .0,
        200
    );
    let (status, body) = answer(
        &family,
        &path,
        &submission(&form, "family-three-00000000", 4),
    );
    assert_eq!(status, 410, "{body}");
    assert_eq!(family.get(&path).0, 410);
    assert_eq!(server.count("hartlepool", Some("local-offer")), 2);

    // The administrator sees the uses, never a name; each answer is audited.
    let links = admin.json("/api/v1/links");
    assert_eq!(links[0]["used"], 2);
    assert!(
        links[0].get("path").is_none(),
        "the secret is shown only once"
    );
    let audit = admin.json("/api/v1/audit").to_string();
    assert_eq!(audit.matches("link.answer").count(), 2, "{audit}");
}

#[test]
fn single_use_links_take_one_answer_and_revoked_or_closed_ones_none() {
    let (server, admin, form) = setup();
    let family = Web::new(&server.url);
    let singles = make(&admin, json!({"form": "local-offer", "single_use": 3}));
    assert_eq!(singles.len(), 3);
    let paths: Vec<String> = singles
        .iter()
        .map(|l| l["path"].as_str().expect("path").to_owned())
        .collect();
    assert_eq!(
        answer(
            &family,
            &paths[0],
            &submission(&form, "one-family-0000000000", 1)
        )
        .0,
        200
    );
    assert_eq!(
        answer(
            &family,
            &paths[0],
            &submission(&form, "someone-else-00000000", 2)
        )
        .0,
        410,
        "a single-use link takes one answer"
    );
    // Revoked: no more answers.
    let id = singles[1]["id"].as_str().expect("id");
    let (status, _) = admin.post(&format!("/api/v1/links/{id}/revoke"), &Value::Null);
    assert_eq!(status, 204);
    assert_eq!(
        answer(
            &family,
            &paths[1],
            &submission(&form, "two-family-0000000000", 3)
        )
        .0,
        410
    );
    // Unknown links are not links.
    assert_eq!(
        family.get("/s/0123456789abcdef0123456789abcdef01234567").0,
        404
    );
    assert_eq!(family.get("/s/not-a-token").0, 404);
    // A closing day in the past is refused when making the link.
    let (status, body) = admin.post(
        "/api/v1/links",
        &json!({"form": "local-offer", "closes": "2020-01-31"}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin.post("/api/v1/links", &json!({"form": "nope"}));
    assert_eq!(status, 404, "{body}");
    // A retired form's links close.
    assert_eq!(
        admin
            .post("/api/v1/forms/local-offer/retire", &Value::Null)
            .0,
        200
    );
    assert_eq!(
        answer(
            &family,
            &paths[2],
            &submission(&form, "three-family-00000000", 4)
        )
        .0,
        410
    );
    assert_eq!(server.count("hartlepool", Some("local-offer")), 1);
    // Leaders cannot make links.
    user(&server, "hartlepool", "priya", Role::Leader);
    let mut leader = Web::new(&server.url);
    assert_eq!(leader.sign_in("priya", PASSWORD), 200);
    assert_eq!(
        leader
            .post("/api/v1/links", &json!({"form": "local-offer"}))
            .0,
        403
    );
}

#[test]
fn answers_from_one_address_are_throttled() {
    let (server, admin, form) = setup();
    let path = make(&admin, json!({"form": "local-offer"}))[0]["path"]
        .as_str()
        .expect("path")
        .to_owned();
    let family = Web::new(&server.url);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let key = format!("throttle-key-{i:08}");
        statuses.push(answer(&family, &path, &submission(&form, &key, i)).0);
    }
    // A burst of 30 is taken; then about one every two seconds.
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[30..].contains(&429), "{statuses:?}");
    let stored = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(
        server.count("hartlepool", Some("local-offer")),
        stored as i64
    );
}

#[test]
fn a_family_answers_a_survey_link_in_a_browser() {
    let (server, _admin, _form) = setup();
    hark_tests::run_browser_script(
        "links.cjs",
        &[
            ("HARK_URL", &server.url),
            ("HARK_USER", "sam"),
            ("HARK_PASSWORD", PASSWORD),
        ],
        &[
            "links-1-made.png",
            "links-2-phone.png",
            "links-3-thank-you.png",
        ],
        10_000,
    );
    assert_eq!(server.count("hartlepool", Some("local-offer")), 1);
}
