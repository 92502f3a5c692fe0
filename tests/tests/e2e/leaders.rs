//! The leaders' view end to end: devices capture and sync, leaders sign in
//! and read reports, exports and notes; small groups stay hidden however
//! the reports are combined; roles, areas and the audit log hold.

use std::collections::{BTreeMap, HashMap};

use hark_core::{Answer, Consent, ResponseContext};
use hark_server::model::Role;
use hark_tests::{TestDevice, TestServer};
use serde_json::{Value, json};

/// A signed-in browser, as far as the API is concerned.
pub(crate) struct Web {
    agent: ureq::Agent,
    url: String,
    cookie: Option<String>,
}

impl Web {
    pub(crate) fn new(url: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            agent,
            url: url.to_owned(),
            cookie: None,
        }
    }

    /// Signs in; returns the status.
    pub(crate) fn sign_in(&mut self, user: &str, password: &str) -> u16 {
        let mut res = self
            .agent
            .post(&format!("{}/api/v1/session", self.url))
            .header("Content-Type", "application/json")
            .send(json!({"username": user, "password": password}).to_string())
            .expect("request");
        if let Some(c) = res.headers().get("set-cookie") {
            let c = c.to_str().expect("ascii");
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"),
                "{c}"
            );
            self.cookie = c.split(';').next().map(str::to_owned);
        }
        let _ = res.body_mut().read_to_string();
        res.status().as_u16()
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        let mut req = self.agent.get(&format!("{}{path}", self.url));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.call().expect("request");
        let body = res.body_mut().read_to_string().unwrap_or_default();
        (res.status().as_u16(), body)
    }

    pub(crate) fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> (u16, String) {
        let mut req = self
            .agent
            .post(&format!("{}{path}", self.url))
            .header("Content-Type", "application/json");
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.send(body.to_string()).expect("request");
        let body = res.body_mut().read_to_string().unwrap_or_default();
        (res.status().as_u16(), body)
    }

    /// POSTs raw bytes of a content type (an uploaded file).
    pub(crate) fn post_bytes(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let mut req = self
            .agent
            .post(&format!("{}{path}", self.url))
            .header("Content-Type", content_type);
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.send(body).expect("request");
        let body = res.body_mut().read_to_string().unwrap_or_default();
        (res.status().as_u16(), body)
    }

    /// GETs raw bytes.
    pub(crate) fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let mut req = self.agent.get(&format!("{}{path}", self.url));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.call().expect("request");
        let body = res.body_mut().read_to_vec().unwrap_or_default();
        (res.status().as_u16(), body)
    }

    pub(crate) fn put(&self, path: &str, body: &Value) -> (u16, String) {
        let mut req = self
            .agent
            .put(&format!("{}{path}", self.url))
            .header("Content-Type", "application/json");
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let mut res = req.send(body.to_string()).expect("request");
        let body = res.body_mut().read_to_string().unwrap_or_default();
        (res.status().as_u16(), body)
    }

    /// The session cookie as sent back (`name=value`).
    pub(crate) fn cookie(&self) -> &str {
        self.cookie.as_deref().unwrap_or_default()
    }

    /// The session cookie's name.
    pub(crate) fn cookie_name(&self) -> &str {
        self.cookie().split('=').next().unwrap_or_default()
    }

    pub(crate) fn delete(&self, path: &str) -> u16 {
        let mut req = self.agent.delete(&format!("{}{path}", self.url));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        req.call().expect("request").status().as_u16()
    }
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) fn user(server: &TestServer, area: &str, name: &str, role: Role) {
    hark_server::users::create_user(server.storage.as_ref(), area, name, PASSWORD, role, false)
        .expect("user");
}

/// One submitted satisfaction response with a chosen context and FFT answer.
pub(crate) fn satisfaction(
    d: &TestDevice,
    month: &str,
    setting: &str,
    age_phase: &str,
    fft: &str,
) -> String {
    let form = d
        .store
        .latest_form("service-satisfaction")
        .expect("forms")
        .expect("installed");
    let captured = time::OffsetDateTime::parse(
        &format!("{month}-15T12:00:00Z"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("date");
    let ctx = ResponseContext {
        area: d.area.clone(),
        setting: Some(setting.into()),
        age_phase: Some(age_phase.into()),
        captured_at: i64::try_from(captured.unix_timestamp_nanos() / 1_000_000).expect("ms"),
        ..Default::default()
    };
    let id = d
        .store
        .start_response(&form.id, &ctx, Consent::adult())
        .expect("start");
    d.store
        .answer(&id, "fft", Answer::Choice(fft.into()))
        .expect("answer");
    d.store.submit(&id).expect("submit");
    id
}

/// Clinic, home and a special school where only three families answered.
pub(crate) fn seed(d: &TestDevice) {
    let options = ["very_good", "good", "neither", "poor", "very_poor"];
    for i in 0..24 {
        let month = ["2026-01", "2026-02", "2026-03", "2026-04"][i % 4];
        let phase = ["primary", "secondary"][i % 2];
        satisfaction(d, month, "clinic", phase, options[(i * 7) % 5]);
    }
    for i in 0..14 {
        let month = ["2026-01", "2026-02", "2026-04"][i % 3];
        satisfaction(d, month, "home", "early_years", options[i % 3]);
    }
    satisfaction(d, "2026-02", "special_school", "secondary", "very_poor");
    satisfaction(d, "2026-02", "special_school", "secondary", "poor");
    satisfaction(d, "2026-03", "special_school", "secondary", "very_good");
    d.sync().expect("sync");
}

/// A key for a cell, the same in every report it appears in.
type Key = (String, BTreeMap<String, String>, String);

/// What a reader collecting every report knows: shown values, hidden
/// cells, and the sums that hold between them.
#[derive(Default)]
struct Reader {
    cells: HashMap<Key, Option<u64>>,
    lines: Vec<(Vec<Key>, Key)>,
}

impl Reader {
    fn learn(&mut self, key: Key, n: Option<u64>) {
        let known = self.cells.entry(key).or_insert(None);
        if n.is_some() {
            *known = n;
        }
    }

    /// Reads one report (the JSON a leader gets). Its "all" is the sum of
    /// the periods it shows, so it is named by them.
    fn read(&mut self, r: &Value) {
        let filters: BTreeMap<String, String> = r["filters"]
            .as_object()
            .expect("filters")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("value").to_owned()))
            .collect();
        let split = r["split"].as_str().map(str::to_owned);
        let options: Vec<String> = r["options"]
            .as_array()
            .expect("options")
            .iter()
            .map(|o| o["id"].as_str().expect("id").to_owned())
            .collect();
        let shown: Vec<&str> = r["periods"]
            .as_array()
            .expect("periods")
            .iter()
            .map(|p| p.as_str().expect("period"))
            .filter(|p| *p != "all")
            .collect();
        let all = format!("all of {}", shown.join(","));
        let periods: Vec<String> = r["periods"]
            .as_array()
            .expect("periods")
            .iter()
            .map(|p| p.as_str().expect("period").replace("all", &all))
            .collect();
        let groups = r["groups"].as_array().expect("groups");
        let dims_of = |g: &Value| {
            let mut d = filters.clone();
            if let (Some(s), Some(k)) = (&split, g["key"].as_str())
                && k != "*"
            {
                d.insert(s.clone(), k.to_owned());
            }
            d
        };
        for g in groups {
            let dims = dims_of(g);
            for cell in g["cells"].as_array().expect("cells") {
                let period = cell["period"]
                    .as_str()
                    .expect("period")
                    .replace("all", &all);
                let answered = (period.clone(), dims.clone(), "answered".to_owned());
                self.learn(answered.clone(), cell["answered"]["n"].as_u64());
                let mut members = Vec::new();
                for (o, c) in options
                    .iter()
                    .zip(cell["options"].as_array().expect("options"))
                {
                    let key = (period.clone(), dims.clone(), o.clone());
                    self.learn(key.clone(), c["n"].as_u64());
                    members.push(key);
                }
                self.lines.push((members, answered));
            }
            // Periods add up to "all" (months, or quarters).
            for o in options
                .iter()
                .chain(std::iter::once(&"answered".to_owned()))
            {
                let members = periods[..periods.len() - 1]
                    .iter()
                    .map(|p| (p.clone(), dims.clone(), o.clone()))
                    .collect();
                self.lines
                    .push((members, (all.clone(), dims.clone(), o.clone())));
            }
        }
        // Groups, and the values not listed (fewer than 5 each, no group
        // of their own: unknown), add up to everyone.
        if let Some(s) = &split {
            let mut rest = filters.clone();
            rest.insert(s.clone(), "(not listed)".to_owned());
            for p in &periods {
                for o in options
                    .iter()
                    .chain(std::iter::once(&"answered".to_owned()))
                {
                    let rest = (p.clone(), rest.clone(), o.clone());
                    self.learn(rest.clone(), None);
                    let members = groups
                        .iter()
                        .filter(|g| g["key"] != "*")
                        .map(|g| (p.clone(), dims_of(g), o.clone()))
                        .chain(std::iter::once(rest))
                        .collect();
                    self.lines
                        .push((members, (p.clone(), filters.clone(), o.clone())));
                }
            }
        }
    }

    /// Quarters are months added up, wherever both were read.
    fn add_quarter_lines(&mut self) {
        let keys: Vec<Key> = self.cells.keys().cloned().collect();
        for (period, dims, option) in &keys {
            if period.starts_with("all") {
                continue;
            }
            if let Some((year, q)) = period.split_once("-Q") {
                let q: u32 = q.parse().expect("quarter");
                let months: Vec<Key> = (1..=3)
                    .map(|m| {
                        (
                            format!("{year}-{:02}", (q - 1) * 3 + m),
                            dims.clone(),
                            option.clone(),
                        )
                    })
                    .collect();
                if months.iter().all(|m| self.cells.contains_key(m)) {
                    self.lines
                        .push((months, (period.clone(), dims.clone(), option.clone())));
                }
            }
        }
    }

    /// Solves every sum with one unknown, again and again; returns any
    /// small number (1 to 4) that comes out.
    fn attack(&mut self) -> Option<(Key, u64)> {
        self.add_quarter_lines();
        loop {
            let mut progress = false;
            for (members, total) in &self.lines {
                let all: Vec<&Key> = members.iter().chain(std::iter::once(total)).collect();
                if all.iter().any(|k| !self.cells.contains_key(*k)) {
                    continue;
                }
                let unknown: Vec<&Key> = all
                    .iter()
                    .copied()
                    .filter(|k| self.cells[*k].is_none())
                    .collect();
                if unknown.len() != 1 {
                    continue;
                }
                let sum: u64 = members.iter().filter_map(|k| self.cells[k]).sum();
                let value = if unknown[0] == total {
                    sum
                } else {
                    self.cells[total].unwrap_or(0) - sum
                };
                if (1..5).contains(&value) {
                    return Some((unknown[0].clone(), value));
                }
                let key = unknown[0].clone();
                self.cells.insert(key, Some(value));
                progress = true;
                break;
            }
            if !progress {
                return None;
            }
        }
    }
}

/// Scenario 5: the special school's three families cannot be singled out
/// through any report shape or export, alone or combined.
#[test]
fn no_combination_of_reports_or_exports_singles_out_a_child() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "priya", Role::Leader);
    let d = TestDevice::enrol(&server, "hartlepool");
    seed(&d);
    assert_eq!(server.count("hartlepool", Some("service-satisfaction")), 41);
    let mut web = Web::new(&server.url);
    assert_eq!(web.sign_in("priya", PASSWORD), 200);

    let base = "form=service-satisfaction&question=fft";
    let shapes = [
        "",
        "&period=quarter",
        "&split=setting",
        "&split=setting&period=quarter",
        "&split=age_phase",
        "&split=age_phase&period=quarter",
        "&setting=special_school",
        "&setting=special_school&period=quarter",
        "&setting=clinic&split=age_phase",
        "&setting=special_school&split=age_phase",
        "&age_phase=secondary&split=setting",
        "&age_phase=secondary&split=setting&period=quarter",
        "&age_phase=secondary",
        "&split=version",
        "&from=2026-02&to=2026-03&split=setting",
    ];
    let mut reader = Reader::default();
    for shape in shapes {
        let report = web.json(&format!("/api/v1/reports?{base}{shape}"));
        // The CSV export carries exactly the JSON's numbers.
        let (status, csv) = web.get(&format!("/api/v1/reports.csv?{base}{shape}"));
        assert_eq!(status, 200);
        let mut from_csv = Vec::new();
        let mut rdr = csv::Reader::from_reader(csv.as_bytes());
        for rec in rdr.records() {
            let rec = rec.expect("CSV row");
            if !rec[5].starts_with("fft_") {
                from_csv.push((
                    rec[3].to_owned(),
                    rec[4].to_owned(),
                    rec[5].to_owned(),
                    rec[7].to_owned(),
                ));
            }
        }
        let mut from_json = Vec::new();
        for g in report["groups"].as_array().expect("groups") {
            for c in g["cells"].as_array().expect("cells") {
                let n = |v: &Value| v["n"].as_u64().map(|n| n.to_string()).unwrap_or_default();
                let key = g["key"].as_str().expect("key").to_owned();
                let period = c["period"].as_str().expect("period").to_owned();
                from_json.push((
                    key.clone(),
                    period.clone(),
                    "answered".to_owned(),
                    n(&c["answered"]),
                ));
                for (o, v) in report["options"]
                    .as_array()
                    .expect("o")
                    .iter()
                    .zip(c["options"].as_array().expect("o"))
                {
                    from_json.push((
                        key.clone(),
                        period.clone(),
                        o["id"].as_str().expect("id").to_owned(),
                        n(v),
                    ));
                }
            }
        }
        assert_eq!(from_csv, from_json, "CSV and JSON agree for '{shape}'");
        // Nothing small is ever shown.
        for (_, _, _, n) in &from_json {
            if let Ok(n) = n.parse::<u64>() {
                assert!(n == 0 || n >= 5, "a count of {n} shown in '{shape}'");
            }
        }
        reader.read(&report);
    }
    // The special school has fewer than 5 respondents: a split has no row
    // for it (a row would say that someone there answered), and a filter
    // on it reads exactly as one on a setting nobody has, no number in it.
    let split = web.json(&format!("/api/v1/reports?{base}&split=setting"));
    let keys: Vec<&str> = split["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert!(!keys.contains(&"special_school"), "{keys:?}");
    assert!(keys.len() > 2, "other settings are listed: {keys:?}");
    let school = web.json(&format!("/api/v1/reports?{base}&setting=special_school"));
    let nowhere = web.json(&format!("/api/v1/reports?{base}&setting=nowhere"));
    assert_eq!(school["groups"], nowhere["groups"]);
    for c in school["groups"][0]["cells"].as_array().expect("cells") {
        assert_eq!(c["answered"]["n"], Value::Null, "{c}");
        assert_eq!(
            c["answered"]["hidden"],
            hark_server::report::suppress::UNLISTED,
            "{c}"
        );
    }
    // Nor is it offered as a filter: the lists name values with at least 5
    // respondents.
    let dims = web.json("/api/v1/dimensions?form=service-satisfaction");
    let settings = dims["setting"].as_array().expect("settings");
    assert!(!settings.contains(&json!("special_school")), "{dims}");
    assert!(!settings.is_empty(), "{dims}");
    // And no sum across all those reports gives a small number away.
    assert_eq!(reader.attack(), None);
    // Everyone is counted: 41 shown for the whole range.
    let everyone = web.json(&format!("/api/v1/reports?{base}"));
    assert_eq!(
        everyone["groups"][0]["cells"]
            .as_array()
            .expect("cells")
            .last()
            .expect("all")["answered"]["n"],
        41
    );
}

#[test]
fn sign_in_sessions_and_roles() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "priya", Role::Leader);
    user(&server, "hartlepool", "sam", Role::Administrator);
    let mut web = Web::new(&server.url);
    assert_eq!(web.get("/api/v1/me").0, 401, "not signed in");
    assert_eq!(web.sign_in("priya", "wrong password!!"), 401);
    assert_eq!(web.sign_in("nobody", PASSWORD), 401);
    assert_eq!(
        web.get("/api/v1/reports?form=local-offer&question=found_needed")
            .0,
        401
    );
    assert_eq!(web.sign_in("priya", PASSWORD), 200);
    let me = web.json("/api/v1/me");
    assert_eq!(me["role"], "leader");
    assert_eq!(me["area"], "hartlepool");
    // A leader reads reports but not the audit log, users or row-level data.
    assert_eq!(
        web.get("/api/v1/reports?form=local-offer&question=found_needed")
            .0,
        200
    );
    assert_eq!(web.get("/api/v1/audit").0, 403);
    assert_eq!(web.get("/api/v1/users").0, 403);
    assert_eq!(
        web.get("/api/v1/export/responses.csv?form=local-offer").0,
        403
    );
    assert_eq!(
        web.get("/api/v1/text?form=local-offer&question=missing_info")
            .0,
        403
    );
    let (status, body) = web.post(
        "/api/v1/users",
        &json!({"username": "eve", "password": PASSWORD, "role": "administrator"}),
    );
    assert_eq!(status, 403, "{body}");
    // Bad report queries get a clear error.
    let (status, body) = web.get("/api/v1/reports?form=local-offer&question=nope");
    assert_eq!(status, 400);
    assert!(body.contains("has no question 'nope'"), "{body}");
    let (status, body) = web.get("/api/v1/reports?form=nope&question=x");
    assert_eq!(status, 400);
    assert!(body.contains("unknown form"), "{body}");
    // Signing out ends the session on the server, not just in the browser.
    let cookie = web.cookie.clone();
    assert_eq!(web.delete("/api/v1/session"), 204);
    web.cookie = cookie;
    assert_eq!(web.get("/api/v1/me").0, 401, "the old cookie is dead");

    // The administrator creates a leader and reads the audit log.
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let (status, body) = admin.post(
        "/api/v1/users",
        &json!({"username": "kim", "password": "short", "role": "leader"}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at least 12"), "{body}");
    let (status, _) = admin.post(
        "/api/v1/users",
        &json!({"username": "kim", "password": PASSWORD, "role": "leader"}),
    );
    assert_eq!(status, 201);
    let (status, body) = admin.post(
        "/api/v1/users",
        &json!({"username": "kim", "password": PASSWORD, "role": "leader"}),
    );
    assert_eq!(status, 400, "{body}");
    let mut kim = Web::new(&server.url);
    assert_eq!(kim.sign_in("kim", PASSWORD), 200);
    let audit = admin.json("/api/v1/audit");
    let actions: Vec<(String, String)> = audit
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().expect("actor").to_owned(),
                e["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect();
    for want in [
        ("priya", "session.start"),
        ("priya", "report.read"),
        ("sam", "user.create"),
        ("kim", "session.start"),
    ] {
        assert!(
            actions.iter().any(|(a, b)| a == want.0 && b == want.1),
            "{want:?} in {actions:?}"
        );
    }
}

/// Scenario 6: no Hartlepool user sees a single Middlesbrough figure.
#[test]
fn a_leader_sees_only_their_own_area() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    server.area("middlesbrough");
    user(&server, "hartlepool", "priya", Role::Leader);
    user(&server, "middlesbrough", "mo", Role::Administrator);
    let m = TestDevice::enrol(&server, "middlesbrough");
    for i in 0..12 {
        satisfaction(
            &m,
            "2026-05",
            "clinic",
            "primary",
            ["good", "very_good"][i % 2],
        );
    }
    m.sync().expect("sync");
    let mut mo = Web::new(&server.url);
    assert_eq!(mo.sign_in("mo", PASSWORD), 200);
    let theirs = mo.json("/api/v1/reports?form=service-satisfaction&question=fft");
    let cells = theirs["groups"][0]["cells"].as_array().expect("cells");
    assert_eq!(cells[0]["period"], "2026-05");
    assert_eq!(cells[0]["answered"]["n"], 12);
    assert_eq!(cells.last().expect("all")["answered"]["n"], 12);
    let mut priya = Web::new(&server.url);
    assert_eq!(priya.sign_in("priya", PASSWORD), 200);
    let ours = priya.json("/api/v1/reports?form=service-satisfaction&question=fft");
    assert_eq!(ours["periods"], json!(["all"]), "no months of data here");
    assert_eq!(ours["groups"][0]["cells"][0]["answered"]["n"], 0);
    let dims = priya.json("/api/v1/dimensions?form=service-satisfaction");
    assert_eq!(
        dims["setting"],
        json!([]),
        "not even Middlesbrough's setting names"
    );
    // Middlesbrough's administrator exports only Middlesbrough's rows.
    let (status, csv) = mo.get("/api/v1/export/responses.csv?form=service-satisfaction");
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 13, "a header and 12 responses");
    assert!(
        !csv.contains(&m.store.device_id().to_owned()),
        "no device ids"
    );
    let audit = mo.json("/api/v1/audit");
    assert!(
        audit
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["actor"] != "priya")
    );
}

/// The row-level export streams every response once, with the answers in
/// their columns and free text only for those allowed it.
#[test]
fn the_row_level_export_has_every_response_once() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    let d = TestDevice::enrol(&server, "hartlepool");
    let ids = d.capture_bulk("local-offer", 700, 3);
    d.sync().expect("sync");
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let (status, body) = admin.get("/api/v1/export/responses.csv?form=local-offer");
    assert_eq!(status, 200);
    let mut rdr = csv::Reader::from_reader(body.as_bytes());
    let header = rdr.headers().expect("header").clone();
    assert_eq!(&header[0], "form");
    assert!(header.iter().any(|h| h == "found_needed"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), ids.len());
    let col = header
        .iter()
        .position(|h| h == "heard_local_offer")
        .expect("column");
    assert!(rows.iter().all(|r| {
        [
            "yes",
            "no",
            "not_sure",
            "~dont_know",
            "~prefer_not_to_say",
            "",
        ]
        .contains(&&r[col])
    }));
    let audit = admin.json("/api/v1/audit");
    assert_eq!(audit[0]["action"], "responses.export");
    // 5-anonymous on its quasi-identifiers: quarters, not months, and no
    // combination of quarter, setting, age phase, need and pathway held by
    // fewer than 5 rows (but the one with every identifier taken away).
    assert_eq!(&header[2], "quarter");
    let mut classes: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for r in &rows {
        *classes
            .entry((2..7).map(|i| r[i].to_owned()).collect())
            .or_default() += 1;
    }
    for (class, n) in &classes {
        assert!(
            *n >= 5 || class.iter().all(|c| c == "*"),
            "{class:?} is held by {n} rows"
        );
    }
    // The unrestricted export needs a reason, and the reason is audited.
    let (status, body) = admin.get("/api/v1/export/responses.csv?form=local-offer&detail=full");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs a reason"), "{body}");
    let (status, body) = admin.get(
        "/api/v1/export/responses.csv?form=local-offer&detail=full&reason=Ofsted%20inspection%20evidence%20pack",
    );
    assert_eq!(status, 200);
    assert!(body.starts_with("form,version,month,"), "{}", &body[..60]);
    assert_eq!(body.lines().count(), ids.len() + 1);
    let audit = admin.json("/api/v1/audit");
    assert_eq!(audit[0]["action"], "responses.export.full");
    assert!(
        audit[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Ofsted")),
        "{}",
        audit[0]
    );
}

/// Scenario 5: a "you said, we did" note reaches the tablets.
#[test]
fn a_note_written_by_a_leader_reaches_the_devices() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "priya", Role::Leader);
    let d = TestDevice::enrol(&server, "hartlepool");
    let mut web = Web::new(&server.url);
    assert_eq!(web.sign_in("priya", PASSWORD), 200);
    let (status, body) = web.post(
        "/api/v1/notes",
        &json!({"theme": "diagnosis", "you_said": "The wait was too long", "we_did": "We added two clinics"}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = web.post(
        "/api/v1/notes",
        &json!({"theme": "diagnosis", "you_said": "", "we_did": "x"}),
    );
    assert_eq!(status, 400, "both halves are needed");
    let (status, _) = web.post(
        "/api/v1/notes",
        &json!({"theme": "weather", "you_said": "a", "we_did": "b"}),
    );
    assert_eq!(status, 400, "unknown theme");
    let notes = hark_core::sync::http::fetch_notes(&d.store).expect("device fetches notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].we_did, "We added two clinics");
    assert_eq!(notes[0].theme, "diagnosis");
    // Kept on the device for the next event, offline.
    assert_eq!(
        hark_core::sync::http::notes(&d.store)
            .expect("stored")
            .len(),
        1
    );
}

/// Free text goes to users allowed it, sorted, and only for groups of 5 or
/// more.
#[test]
fn free_text_for_those_allowed_and_only_for_groups_of_five_or_more() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "sam", Role::Administrator);
    let d = TestDevice::enrol(&server, "hartlepool");
    d.capture_bulk("service-satisfaction", 40, 5);
    d.sync().expect("sync");
    // Quotes come from published months only.
    server.publish_this_month();
    let area_id = server
        .storage
        .area_by_name("hartlepool")
        .expect("area")
        .expect("exists")
        .id;
    let mut written: Vec<String> = server
        .storage
        .answers(&area_id, "service-satisfaction")
        .expect("answers")
        .into_iter()
        .filter(|(_, q, _, _)| q == "fft_why")
        .filter_map(|(_, _, text, _)| text)
        .collect();
    written.sort();
    assert!(written.len() >= 5, "the generator wrote some reasons");
    let mut admin = Web::new(&server.url);
    assert_eq!(admin.sign_in("sam", PASSWORD), 200);
    let got = admin.json("/api/v1/text?form=service-satisfaction&question=fft_why");
    let got: Vec<String> = got["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| a.as_str().expect("text").to_owned())
        .collect();
    assert_eq!(got, written, "every reason, in alphabetical order");
    // A whole published quarter at a time: the latest by default; one not
    // yet complete, or a range of months, is refused.
    let q4 = admin.json("/api/v1/text?form=service-satisfaction&question=fft_why&quarter=2026-Q4");
    assert_eq!(q4["quarter"], "2026-Q4");
    assert_eq!(q4["answers"].as_array().map(Vec::len), Some(written.len()));
    for refused in ["&quarter=2027-Q1", "&from=2026-10", "&quarter=Q4"] {
        let (status, body) = admin.get(&format!(
            "/api/v1/text?form=service-satisfaction&question=fft_why{refused}"
        ));
        assert_eq!(status, 400, "{refused}: {body}");
    }
    // More answers arriving later change nothing in 2026-Q4.
    d.capture_bulk("service-satisfaction", 20, 9);
    d.sync().expect("sync");
    server.clock.set(hark_tests::at("2027-04-08"));
    let again =
        admin.json("/api/v1/text?form=service-satisfaction&question=fft_why&quarter=2026-Q4");
    assert_eq!(again["answers"], q4["answers"]);
    let (status, body) =
        admin.get("/api/v1/text?form=service-satisfaction&question=fft_why&setting=home");
    assert_eq!(status, 400, "nobody at home answered: {body}");
    assert!(body.contains("fewer than 5 people answered"), "{body}");
    let (status, body) = admin.get("/api/v1/text?form=service-satisfaction&question=fft");
    assert_eq!(status, 400);
    assert!(body.contains("not a free-text question"), "{body}");
    let audit = admin.json("/api/v1/audit");
    assert_eq!(audit[0]["action"], "text.read");
}

/// Time (issue 11): a leader reading the same report before and after one
/// response arrives learns nothing of it. Two tablets capture in July; one
/// syncs on time, the other (with one family's answer) only in August,
/// after July is published; a July answer is then changed. July reads the
/// same in every read, in every shape; the late response waits, and is
/// published with August.
#[test]
fn reads_before_and_after_a_late_response_show_nothing_of_it() {
    let server = TestServer::sqlite();
    server.clock.set(hark_tests::at("2026-08-03"));
    server.area("hartlepool");
    user(&server, "hartlepool", "priya", Role::Leader);
    let on_time = TestDevice::enrol(&server, "hartlepool");
    let late = TestDevice::enrol(&server, "hartlepool");
    let options = ["very_good", "good", "neither", "poor", "very_poor"];
    let mut july = Vec::new();
    for i in 0..30 {
        let setting = ["clinic", "home"][i % 2];
        july.push(satisfaction(
            &on_time,
            "2026-07",
            setting,
            "primary",
            options[i % 5],
        ));
    }
    satisfaction(&late, "2026-07", "clinic", "secondary", "very_poor");
    on_time.sync().expect("sync");

    let mut web = Web::new(&server.url);
    assert_eq!(web.sign_in("priya", PASSWORD), 200);
    let base = "/api/v1/reports?form=service-satisfaction&question=fft";
    let shapes = [
        "",
        "&split=setting",
        "&split=age_phase",
        "&setting=clinic",
        "&period=quarter",
    ];
    let read = |web: &Web| -> Vec<Value> {
        shapes
            .iter()
            .map(|s| web.json(&format!("{base}{s}")))
            .collect()
    };
    let period = |r: &Value, p: &str| -> Vec<Value> {
        r["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| {
                let cell = g["cells"]
                    .as_array()
                    .expect("cells")
                    .iter()
                    .find(|c| c["period"] == p);
                json!({"group": g["key"], "cell": cell})
            })
            .collect()
    };
    // Before July is published: nothing of it, and the date it will be.
    let early = web.json(base);
    assert_eq!(early["published_through"], "2026-06");
    assert_eq!(early["next_publication"], "2026-08-08");
    assert_eq!(early["periods"], json!(["all"]), "{early}");

    // Published: July as the on-time tablet left it.
    server.clock.set(hark_tests::at("2026-08-10"));
    let first = read(&web);
    let everyone = &first[0]["groups"][0]["cells"][0];
    assert_eq!(everyone["period"], "2026-07");
    assert_eq!(everyone["answered"]["n"], 30);

    // The late tablet syncs, and a July answer is changed on the other.
    late.sync().expect("sync");
    on_time.store.reopen(&july[0]).expect("reopen");
    on_time
        .store
        .answer(&july[0], "fft", Answer::Choice("very_poor".into()))
        .expect("change");
    on_time.store.submit(&july[0]).expect("submit");
    on_time.sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some("service-satisfaction")), 31);
    let second = read(&web);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "a report reads the same after one response arrives");
    }

    // August is published: July still as it was; the late response is
    // counted in August, where one family is one hidden count.
    server.clock.set(hark_tests::at("2026-09-10"));
    let third = read(&web);
    // (A group first seen in August reads 0 in July, as it was.)
    for (i, (a, b)) in first.iter().zip(&third).enumerate() {
        let before = period(a, "2026-07");
        let after: Vec<Value> = period(b, "2026-07")
            .into_iter()
            .filter(|g| {
                before.iter().any(|x| x["group"] == g["group"]) || {
                    assert_eq!(g["cell"]["answered"]["n"], 0, "{g}");
                    false
                }
            })
            .collect();
        assert_eq!(before, after, "{}", shapes[i]);
    }
    let august = third[0]["groups"][0]["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["period"] == "2026-08")
        .expect("August")
        .clone();
    assert_eq!(august["answered"]["n"], Value::Null, "{august}");
    assert_eq!(august["answered"]["hidden"], "hidden");
    // And Q3 waits for September.
    assert_eq!(third[4]["periods"], json!(["all"]), "{}", third[4]);
}
