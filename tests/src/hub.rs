//! A hub on a free port in this process, and the phones that answer on it
//! over HTTP exactly as the web form does: shared by the end-to-end tests
//! and the hub benchmark.

use std::collections::BTreeMap;
use std::sync::Arc;

use hark_core::form::{plausible_answers, seeded};
use hark_core::sync::http;
use hark_core::{Form, Store, StoreKey};
use hark_hub::{Event, Hub};
use serde_json::{Value, json};

use crate::{Serving, TestServer};

/// The event code the tests' hub uses.
pub const CODE: &str = "HALL42";

/// A hub running in this process on a free port.
pub struct TestHub {
    /// Its base URL.
    pub url: String,
    /// The hub it serves.
    pub hub: Hub,
    _dir: tempfile::TempDir,
    _serving: Serving,
}

impl std::fmt::Debug for TestHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHub")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestHub {
    /// Enrols a fresh hub store in `area` of `server` and serves it.
    pub fn start(server: &TestServer, area: &str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("hark.db"), &StoreKey::from_bytes([9; 32]))
            .expect("store");
        http::enrol(&store, &server.url, &server.code(area), "hub").expect("enrol");
        http::sync_with_server(&store, &|_: usize, _: usize| {}).expect("forms");
        let (listener, url) = Serving::bind();
        let hub = Hub::new(
            Arc::new(store),
            Event {
                name: "Church hall drop-in".into(),
                setting: None,
                forms: Vec::new(),
                code: CODE.into(),
                url: format!("{url}/"),
            },
        )
        .expect("hub");
        let serving = hub.clone();
        let serving = Serving::start_on(listener, url.clone(), move |listener, shutdown| {
            hark_hub::serve_hub(listener, serving, shutdown)
        });
        Self {
            url,
            hub,
            _dir: dir,
            _serving: serving,
        }
    }
}

/// An HTTP client as the tests' browsers use it: every status is an
/// answer (not an error) and no redirect is followed, so a test reads the
/// `location` and cookies it is given.
pub fn browser_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A phone's browser: no redirects followed, so cookies can be read.
#[derive(Debug)]
pub struct Phone {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
}

impl Phone {
    /// A browser with no cookies yet.
    pub fn new(base: &str) -> Self {
        Self {
            agent: browser_agent(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    /// `GET path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let mut r = req.call().expect("http");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap_or_default())
    }

    /// `POST path`: status, body and any cookie set.
    pub fn post(&self, path: &str, ctype: &str, body: &str) -> (u16, String, Option<String>) {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", ctype);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let mut r = req.send(body.as_bytes()).expect("http");
        let status = r.status().as_u16();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        (
            status,
            r.body_mut().read_to_string().unwrap_or_default(),
            cookie,
        )
    }

    /// Whether the phone holds the event's cookie.
    pub fn joined(&self) -> bool {
        self.cookie.is_some()
    }

    /// Enters the event code, keeping the cookie it is given.
    pub fn join(&mut self, code: &str) -> (u16, String) {
        let (status, body, cookie) = self.post(
            "/join",
            "application/x-www-form-urlencoded",
            &format!("code={code}"),
        );
        if cookie.is_some() {
            self.cookie = cookie;
        }
        (status, body)
    }

    /// Posts a submission as the web form does.
    pub fn submit(&self, body: &Value) -> (u16, Value) {
        let (status, text, _) = self.post("/api/hub/submit", "application/json", &body.to_string());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A submission as the web form posts it, with plausible answers.
pub fn submission(form: &Form, key: &str, seed: u64) -> Value {
    let answers: BTreeMap<String, Value> = plausible_answers(form, seeded(seed))
        .iter()
        .map(|(q, a)| (q.clone(), a.to_json()))
        .collect();
    let (consent, assent) = if form.audience.is_child() {
        ("given", "given")
    } else {
        ("given", "not_applicable")
    };
    json!({
        "key": key,
        "form": form.id,
        "version": form.version.to_string(),
        "language": form.default_language(),
        "consent": {"consent": consent, "assent": assent},
        "answers": answers,
    })
}

/// One request to a router as if from `peer` naming `host` (status and
/// body): what a guard sees of a phone on the network, or of a page
/// elsewhere that points its own name at this machine (DNS rebinding).
pub fn request_from(
    router: axum::Router,
    method: &str,
    peer: [u8; 4],
    host: &str,
    path: &str,
) -> (u16, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            peer, 50_000,
        ))))
        .body(axum::body::Body::empty())
        .expect("request");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let response = router.oneshot(request).await.expect("response");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    })
}
