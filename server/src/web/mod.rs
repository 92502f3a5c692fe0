//! The leaders' side of the server: sign-in (argon2id, session cookies),
//! the dashboard's static files, reports (JSON and CSV, suppressed),
//! free text for the roles allowed it, row-level exports for
//! administrators, users, the audit log, "you said, we did" notes and the
//! OpenAPI document. Every handler takes the signed-in user's area from
//! the session, never from the request, and every read of data is
//! recorded in the audit log.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cookie::{Cookie, SameSite};
use hark_core::Form;
use serde::{Deserialize, Serialize};

use crate::admin::hash_secret;
use crate::app::{AppState, AuthDevice, blocking};
use crate::error::{ApiError, Error, Result};
use crate::report::{self, Granularity, Report, ReportQuery};
use crate::storage::tally::RESPONSES;
use crate::storage::{Area, AuditEntry, Dim, Note, Role, Storage, TallyQuery, User};
use crate::users;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hark_session";

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const OPENAPI: &str = include_str!("openapi.json");

/// Every route of this module, as (method, path): the OpenAPI document
/// must describe exactly these (checked by a test).
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/forms"),
    ("get", "/api/v1/dimensions"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports.csv"),
    ("get", "/api/v1/text"),
    ("get", "/api/v1/export/responses.csv"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/notes"),
    ("post", "/api/v1/notes"),
    ("delete", "/api/v1/notes/{id}"),
    ("get", "/api/v1/device/notes"),
    ("get", "/api/v1/openapi.json"),
];

/// The leaders' routes (merged into [`crate::app::router`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/app.js", get(app_js))
        .route("/assets/app.css", get(app_css))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/forms", get(forms))
        .route("/api/v1/dimensions", get(dimensions))
        .route("/api/v1/reports", get(report_json))
        .route("/api/v1/reports.csv", get(report_csv))
        .route("/api/v1/text", get(free_text))
        .route("/api/v1/export/responses.csv", get(export_responses))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/notes", get(list_notes).post(put_note))
        .route("/api/v1/notes/{id}", delete(delete_note))
        .route("/api/v1/device/notes", get(device_notes))
        .route("/api/v1/openapi.json", get(openapi))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// A signed-in dashboard user and their area.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// The user.
    pub user: User,
    /// Their area.
    pub area: Area,
}

impl AuthUser {
    fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role == role || self.user.role == Role::Administrator {
            Ok(())
        } else {
            Err(ApiError::Denied(format!(
                "only for the {} role",
                role.as_str()
            )))
        }
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let storage = state.storage.clone();
        let found = blocking(move || {
            let Some(user) = storage.session_user(&hash_secret(&token), now())? else {
                return Ok(None);
            };
            Ok(storage.area(&user.area_id)?.map(|area| (user, area)))
        })
        .await?;
        let (user, area) = found.ok_or(ApiError::Unauthorized)?;
        Ok(Self { user, area })
    }
}

fn now() -> i64 {
    hark_core::store::now_ms()
}

fn audit(storage: &dyn Storage, who: &AuthUser, action: &str, detail: String) -> Result<()> {
    storage.audit(&AuditEntry {
        seq: 0,
        at: now(),
        area_id: who.area.id.clone(),
        actor: who.user.username.clone(),
        action: action.to_owned(),
        detail,
    })
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes, shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|_| ApiError::BadRequest(format!("expected JSON {shape}")))
}

#[derive(Deserialize)]
struct SignInBody {
    username: String,
    password: String,
}

/// What the dashboard knows about the signed-in user.
#[derive(Serialize)]
struct Me {
    username: String,
    role: Role,
    area: String,
    free_text: bool,
}

impl Me {
    fn of(user: &User, area: &Area) -> Self {
        Self {
            username: user.username.clone(),
            role: user.role,
            area: area.name.clone(),
            free_text: user.free_text,
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: time::Duration) -> HeaderValue {
    let cookie = Cookie::build((SESSION_COOKIE, value.to_owned()))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Password checks running at once: each argon2id check takes 19 MiB and
/// tens of milliseconds, so a flood of sign-ins queues instead of
/// exhausting memory.
static SIGN_IN_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

#[tracing::instrument(skip_all)]
async fn sign_in(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body: SignInBody = json_body(&body, "{\"username\": \"…\", \"password\": \"…\"}")?;
    let _slot = SIGN_IN_SLOTS
        .acquire()
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?;
    let storage = state.storage.clone();
    let signed = blocking(move || {
        let Some((user, token)) =
            users::sign_in(storage.as_ref(), &body.username, &body.password, now())?
        else {
            return Ok(None);
        };
        let area = storage
            .area(&user.area_id)?
            .ok_or_else(|| Error::NotFound("area".into()))?;
        storage.audit(&AuditEntry {
            seq: 0,
            at: now(),
            area_id: area.id.clone(),
            actor: user.username.clone(),
            action: "session.start".into(),
            detail: String::new(),
        })?;
        Ok(Some((user, area, token)))
    })
    .await?;
    let Some((user, area, token)) = signed else {
        tracing::info!("sign-in refused");
        return Err(ApiError::BadSignIn);
    };
    tracing::info!(user = %user.username, "signed in");
    let cookie = session_cookie(
        &state,
        &token,
        time::Duration::milliseconds(users::SESSION_MS),
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(Me::of(&user, &area))).into_response())
}

#[tracing::instrument(skip_all)]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        let storage = state.storage.clone();
        blocking(move || storage.delete_session(&hash_secret(&token))).await?;
    }
    let cookie = session_cookie(&state, "", time::Duration::ZERO);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

async fn me(who: AuthUser) -> Json<Me> {
    Json(Me::of(&who.user, &who.area))
}

/// Every version of every form of an area, by form id.
fn area_forms(storage: &dyn Storage, area_id: &str) -> Result<BTreeMap<String, Vec<Form>>> {
    let mut out: BTreeMap<String, Vec<Form>> = BTreeMap::new();
    for bytes in storage.area_forms(area_id)? {
        let form = hark_core::store::form_from_doc(&bytes)?;
        out.entry(form.id.clone()).or_default().push(form);
    }
    for versions in out.values_mut() {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    Ok(out)
}

/// Every version of one form of an area, oldest first.
fn form_versions(storage: &dyn Storage, area_id: &str, form: &str) -> Result<Vec<Form>> {
    area_forms(storage, area_id)?
        .remove(form)
        .ok_or_else(|| report::ReportError::UnknownForm(form.to_owned()).into())
}

/// A required query parameter.
fn required(params: &[(String, String)], name: &str) -> Result<String, ApiError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))
}

#[derive(Serialize)]
struct FormSummary {
    id: String,
    title: String,
    audience: hark_core::form::Audience,
    theme: hark_core::form::Theme,
    versions: Vec<String>,
    questions: Vec<QuestionSummary>,
}

#[derive(Serialize)]
struct QuestionSummary {
    id: String,
    text: String,
    kind: &'static str,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn forms(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<FormSummary>>, ApiError> {
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let forms = blocking(move || area_forms(storage.as_ref(), &area_id)).await?;
    Ok(Json(
        forms
            .into_values()
            .filter_map(|versions| {
                let latest = versions.last()?.clone();
                let lang = latest
                    .languages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "en".into());
                Some(FormSummary {
                    id: latest.id.clone(),
                    title: latest.title.get(&lang, &lang).to_owned(),
                    audience: latest.audience,
                    theme: latest.theme,
                    versions: versions.iter().map(|f| f.version.to_string()).collect(),
                    questions: latest
                        .questions
                        .iter()
                        .map(|q| QuestionSummary {
                            id: q.id.clone(),
                            text: q.label.get(&lang, &lang).to_owned(),
                            kind: q.kind.name(),
                        })
                        .collect(),
                })
            })
            .collect(),
    ))
}

type Params = Query<Vec<(String, String)>>;

fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses a report query: `form`, `question`, `period` (month|quarter),
/// `split`, `from`, `to`, and a filter per dimension name.
fn parse_report(params: &[(String, String)]) -> Result<ReportQuery, ApiError> {
    let mut q = ReportQuery::default();
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in params {
        if !seen.insert(k.as_str()) {
            return Err(ApiError::BadRequest(format!("'{k}' is given twice")));
        }
        match k.as_str() {
            "form" => q.form.clone_from(v),
            "question" => q.question.clone_from(v),
            "period" => {
                q.granularity = match v.as_str() {
                    "month" => Granularity::Month,
                    "quarter" => Granularity::Quarter,
                    _ => return Err(ApiError::BadRequest("period is month or quarter".into())),
                }
            }
            "split" if v.is_empty() => {}
            "split" => {
                q.split = Some(
                    Dim::parse(v)
                        .ok_or_else(|| ApiError::BadRequest(format!("cannot split by '{v}'")))?,
                );
            }
            "from" if !v.is_empty() => q.from = Some(v.clone()),
            "to" if !v.is_empty() => q.to = Some(v.clone()),
            "from" | "to" => {}
            other => match Dim::parse(other) {
                Some(_) if v.is_empty() => {}
                Some(d) => q.filters.push((d, v.clone())),
                None => {
                    return Err(ApiError::BadRequest(format!("unknown parameter '{other}'")));
                }
            },
        }
    }
    if q.form.is_empty() || q.question.is_empty() {
        return Err(ApiError::BadRequest(
            "form and question are required".into(),
        ));
    }
    Ok(q)
}

/// The plan of a report over the area's versions of its form.
fn plan_report(storage: &dyn Storage, area_id: &str, q: &ReportQuery) -> Result<report::Plan> {
    let versions = form_versions(storage, area_id, &q.form)?;
    Ok(report::plan(area_id, q, &versions)?)
}

fn make_report(storage: &dyn Storage, area_id: &str, q: &ReportQuery) -> Result<Report> {
    let plan = plan_report(storage, area_id, q)?;
    let rows = storage.tallies(&plan.tallies)?;
    Ok(report::build(&plan, &rows)?)
}

async fn report_for(
    state: &AppState,
    who: &AuthUser,
    params: &[(String, String)],
    action: &'static str,
) -> Result<Report, ApiError> {
    let q = parse_report(params)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let detail = query_string(params);
    let who = who.clone();
    blocking(move || {
        let r = make_report(storage.as_ref(), &area_id, &q)?;
        audit(storage.as_ref(), &who, action, detail)?;
        Ok(r)
    })
    .await
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn report_json(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(
        report_for(&state, &who, &params, "report.read").await?,
    ))
}

fn csv_line(fields: &[String]) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(fields);
    Bytes::from(w.into_inner().unwrap_or_default())
}

/// A report as CSV rows: one per group, period and option, then one per
/// score. Hidden cells are empty with the reason in `note`.
fn report_rows(r: &Report) -> Vec<Bytes> {
    let split = r.split.map_or("everyone", Dim::as_str);
    let mut out = vec![csv_line(
        &[
            "form", "question", "split", "group", "period", "option", "label", "count", "share",
            "note",
        ]
        .map(str::to_owned),
    )];
    let fmt = |c: &report::Count| {
        (
            c.n.map(|n| n.to_string()).unwrap_or_default(),
            c.share.map(|s| format!("{s:.4}")).unwrap_or_default(),
            c.hidden.unwrap_or_default().to_owned(),
        )
    };
    for g in &r.groups {
        for cell in &g.cells {
            // One line: option id, label, count, share, note.
            let mut line =
                |option: &str, label: &str, (n, share, note): (String, String, String)| {
                    out.push(csv_line(&[
                        r.form.clone(),
                        r.question.clone(),
                        split.to_owned(),
                        g.key.clone(),
                        cell.period.clone(),
                        option.to_owned(),
                        label.to_owned(),
                        n,
                        share,
                        note,
                    ]));
                };
            let (n, _, note) = fmt(&cell.answered);
            line("answered", "answered", (n, String::new(), note));
            for (o, c) in r.options.iter().zip(&cell.options) {
                line(&o.id, &o.label, fmt(c));
            }
            for m in &cell.measures {
                let value = m.value.map(|v| v.to_string()).unwrap_or_default();
                let note = if m.value.is_none() { "suppressed" } else { "" };
                line(m.id, m.label, (value, String::new(), note.to_owned()));
            }
        }
    }
    out
}

fn csv_response(name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn report_csv(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let r = report_for(&state, &who, &params, "report.export").await?;
    let name = format!("{}-{}.csv", r.form, r.question);
    let rows = report_rows(&r);
    let body = Body::from_stream(futures_util::stream::iter(
        rows.into_iter().map(Ok::<_, Infallible>),
    ));
    Ok(csv_response(&name, body))
}

#[derive(Serialize)]
struct FreeText {
    question: String,
    answers: Vec<String>,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn free_text(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<FreeText>, ApiError> {
    if !who.user.free_text {
        return Err(ApiError::Denied(
            "free-text answers are only for users allowed to read them".into(),
        ));
    }
    let mut q = parse_report(&params)?;
    if q.split.take().is_some() {
        return Err(ApiError::BadRequest("free text cannot be split".into()));
    }
    let storage = state.storage.clone();
    let detail = query_string(&params);
    let who = who.clone();
    let question = q.question.clone();
    let answers = blocking(move || {
        let plan = plan_report(storage.as_ref(), &who.area.id, &q)?;
        let r = report::build(&plan, &storage.tallies(&plan.tallies)?)?;
        if r.kind != "free_text" {
            return Err(Error::Invalid(format!(
                "'{}' is not a free-text question",
                q.question
            )));
        }
        let everyone = r.groups.last().and_then(|g| g.cells.last());
        if everyone
            .and_then(|c| c.answered.n)
            .is_none_or(|n| n < report::suppress::THRESHOLD)
        {
            return Err(Error::Invalid(
                "fewer than 5 people answered with these filters; widen them".into(),
            ));
        }
        let values: Vec<String> = q.filters.iter().map(|(_, v)| v.clone()).collect();
        let answers = storage.free_text(&plan.tallies, &values)?;
        audit(storage.as_ref(), &who, "text.read", detail)?;
        Ok(answers)
    })
    .await?;
    Ok(Json(FreeText { question, answers }))
}

/// An `io::Write` that sends what is written to an HTTP body in chunks.
struct ChunkSink {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Bytes>,
}

const CHUNK: usize = 64 * 1024;

impl std::io::Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn export_responses(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Response, ApiError> {
    who.require(Role::Administrator)?;
    let form = required(&params, "form")?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let with_text = who.user.free_text;
    let (versions, questions) = {
        let storage = storage.clone();
        let area_id = area_id.clone();
        let form = form.clone();
        let detail = query_string(&params);
        let who = who.clone();
        blocking(move || {
            let versions = form_versions(storage.as_ref(), &area_id, &form)?;
            // Columns: every question of every version, in order of first
            // appearance; free text only for users allowed it.
            let mut questions: Vec<String> = Vec::new();
            for f in &versions {
                for q in &f.questions {
                    let text = matches!(q.kind, hark_core::form::QuestionKind::FreeText { .. });
                    if (with_text || !text) && !questions.contains(&q.id) {
                        questions.push(q.id.clone());
                    }
                }
            }
            audit(storage.as_ref(), &who, "responses.export", detail)?;
            Ok((versions.len(), questions))
        })
        .await?
    };
    tracing::info!(versions, columns = questions.len(), "row-level export");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let name = format!("{form}-responses.csv");
    tokio::task::spawn_blocking(move || {
        let mut w = csv::Writer::from_writer(ChunkSink {
            buf: Vec::with_capacity(CHUNK),
            tx,
        });
        let mut header: Vec<String> = [
            "form",
            "version",
            "month",
            "setting",
            "age_phase",
            "need",
            "pathway",
            "kiosk",
        ]
        .map(str::to_owned)
        .to_vec();
        header.extend(questions.iter().cloned());
        let column: BTreeMap<&str, usize> = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.as_str(), i))
            .collect();
        let result = w.write_record(&header).map_err(Error::from).and_then(|()| {
            let mut cells: Vec<String> = vec![String::new(); column.len()];
            storage.export_responses(
                &area_id,
                std::slice::from_ref(&form),
                with_text,
                &mut |rec| {
                    for cell in &mut cells {
                        cell.clear();
                    }
                    for (q, text, num) in rec.answers {
                        if let Some(&i) = column.get(q.as_str()) {
                            match (text, num) {
                                (Some(t), _) => cells[i] = t,
                                (None, Some(n)) => cells[i] = n.to_string(),
                                (None, None) => {}
                            }
                        }
                    }
                    let fixed = [
                        rec.form_id.as_str(),
                        rec.form_version.as_str(),
                        rec.month.as_str(),
                        rec.setting.as_deref().unwrap_or_default(),
                        rec.age_phase.as_deref().unwrap_or_default(),
                        rec.need.as_deref().unwrap_or_default(),
                        rec.pathway.as_deref().unwrap_or_default(),
                        if rec.kiosk { "true" } else { "false" },
                    ];
                    w.write_record(
                        fixed
                            .iter()
                            .copied()
                            .chain(cells.iter().map(String::as_str)),
                    )
                    .map_err(Error::from)
                },
            )
        });
        let result = result.and_then(|()| w.flush().map_err(Error::from));
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped");
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, Infallible>))
    });
    Ok(csv_response(&name, Body::from_stream(stream)))
}

#[derive(Serialize)]
struct UserSummary {
    username: String,
    role: Role,
    free_text: bool,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn list_users(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<UserSummary>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let users = blocking(move || storage.users(&area_id)).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserSummary {
                username: u.username,
                role: u.role,
                free_text: u.free_text,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    password: String,
    role: Role,
    #[serde(default)]
    free_text: bool,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn create_user(
    State(state): State<AppState>,
    who: AuthUser,
    body: Bytes,
) -> Result<(StatusCode, Json<UserSummary>), ApiError> {
    who.require(Role::Administrator)?;
    let body: NewUser = json_body(
        &body,
        "{\"username\", \"password\", \"role\": \"leader\"|\"administrator\", \"free_text\"}",
    )?;
    let storage = state.storage.clone();
    let user = blocking(move || {
        let user = users::create_user(
            storage.as_ref(),
            &who.area.name,
            &body.username,
            &body.password,
            body.role,
            body.free_text,
        )?;
        audit(
            storage.as_ref(),
            &who,
            "user.create",
            format!("{} ({})", user.username, user.role.as_str()),
        )?;
        Ok(user)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserSummary {
            username: user.username,
            role: user.role,
            free_text: user.free_text,
        }),
    ))
}

#[derive(Deserialize)]
struct AuditParams {
    before: Option<i64>,
    limit: Option<usize>,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn audit_log(
    State(state): State<AppState>,
    who: AuthUser,
    Query(p): Query<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let entries = blocking(move || {
        storage.audit_log(
            &area_id,
            p.before.unwrap_or(i64::MAX),
            p.limit.unwrap_or(100).min(1000),
        )
    })
    .await?;
    Ok(Json(entries))
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn list_notes(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<Note>>, ApiError> {
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    Ok(Json(blocking(move || storage.notes(&area_id)).await?))
}

#[derive(Deserialize)]
struct NoteBody {
    #[serde(default)]
    id: Option<String>,
    theme: hark_core::form::Theme,
    you_said: String,
    we_did: String,
}

/// Longest "you said" or "we did" text.
const MAX_NOTE: usize = 2000;

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn put_note(
    State(state): State<AppState>,
    who: AuthUser,
    body: Bytes,
) -> Result<Json<Note>, ApiError> {
    who.require(Role::Leader)?;
    let body: NoteBody = json_body(&body, "{\"theme\", \"you_said\", \"we_did\"}")?;
    let (you_said, we_did) = (
        body.you_said.trim().to_owned(),
        body.we_did.trim().to_owned(),
    );
    if you_said.is_empty() || we_did.is_empty() {
        return Err(ApiError::BadRequest(
            "both 'you said' and 'we did' are needed".into(),
        ));
    }
    if you_said.chars().count() > MAX_NOTE || we_did.chars().count() > MAX_NOTE {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_NOTE} characters each"
        )));
    }
    let theme = serde_json::to_value(body.theme)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let note = Note {
        id: body.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        area_id: who.area.id.clone(),
        theme,
        you_said,
        we_did,
        author: who.user.username.clone(),
        updated_at: now(),
    };
    let storage = state.storage.clone();
    let saved = note.clone();
    blocking(move || {
        storage.put_note(&saved)?;
        audit(storage.as_ref(), &who, "note.write", saved.id.clone())
    })
    .await?;
    Ok(Json(note))
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn delete_note(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Leader)?;
    let storage = state.storage.clone();
    let found = blocking(move || {
        let found = storage.delete_note(&who.area.id, &id)?;
        if found {
            audit(storage.as_ref(), &who, "note.delete", id)?;
        }
        Ok(found)
    })
    .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// "You said, we did" notes for a device's area, shown to families at the
/// next event.
#[tracing::instrument(skip_all, fields(device = %auth.device.id))]
async fn device_notes(
    State(state): State<AppState>,
    auth: AuthDevice,
) -> Result<Json<Vec<Note>>, ApiError> {
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.notes(&auth.area.id)).await?))
}

/// Distinct values of every dimension recorded for a form (for the
/// dashboard's filter lists): category names only, never counts.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
async fn dimensions(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<BTreeMap<Dim, Vec<String>>>, ApiError> {
    let form = required(&params, "form")?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let out = blocking(move || {
        let versions = form_versions(storage.as_ref(), &area_id, &form)?;
        let mut out = BTreeMap::new();
        for dim in Dim::ALL {
            let rows = storage.tallies(&TallyQuery {
                area_id: area_id.clone(),
                question: RESPONSES.to_owned(),
                versions: versions
                    .iter()
                    .map(|f| (f.id.clone(), f.version.to_string()))
                    .collect(),
                dims: vec![dim],
                months: None,
            })?;
            let mut values: Vec<String> = rows
                .into_iter()
                .filter_map(|r| r.dims.into_iter().next())
                .collect();
            values.sort();
            values.dedup();
            out.insert(dim, values);
        }
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The OpenAPI document describes exactly the routes the server has.
    #[test]
    fn the_openapi_document_describes_every_endpoint() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let described: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .keys()
                    .map(move |m| (m.clone(), path.clone()))
            })
            .collect();
        let mut served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        for (m, p) in crate::app::DEVICE_ROUTES {
            served.insert(((*m).to_owned(), (*p).to_owned()));
        }
        assert_eq!(described, served);
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            for (method, op) in ops.as_object().expect("operations") {
                assert!(op["summary"].is_string(), "{method} {path} has a summary");
                assert!(op["responses"].is_object(), "{method} {path} has responses");
            }
        }
    }

    #[test]
    fn report_queries_are_parsed_and_checked() {
        let p = |s: &str| -> Vec<(String, String)> {
            s.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let q = parse_report(&p(
            "form=f&question=q&period=quarter&split=setting&need=autism&from=2026-01",
        ))
        .expect("valid");
        assert_eq!(q.granularity, Granularity::Quarter);
        assert_eq!(q.split, Some(Dim::Setting));
        assert_eq!(q.filters, vec![(Dim::Need, "autism".to_owned())]);
        assert_eq!(q.from.as_deref(), Some("2026-01"));
        for bad in [
            "form=f",
            "form=f&question=q&colour=red",
            "form=f&question=q&split=child",
            "form=f&question=q&period=week",
            "form=f&question=q&need=a&need=b",
        ] {
            assert!(parse_report(&p(bad)).is_err(), "{bad}");
        }
    }
}
