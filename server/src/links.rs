//! Survey links: an administrator makes a link to a form (open, with a
//! closing date and a cap, or single-use links to hand out to families, no
//! name stored), and anyone with the link answers in hark's own web form.
//! The server builds the response document from the answers with the
//! core's rules (`crate::submission`) and takes it through exactly the path
//! a device's sync takes (`writer::ingest`: merged, validated against its
//! form version, projected, counted), as if the link were a device of the
//! area. A use of the link is taken atomically before the response is
//! committed and given back if it is refused, so a cap is never passed and
//! a refused answer costs no use. A retry with the same key is the same
//! response, counted once.

use hark_core::doc::{DocKind, now_ms};
use hark_core::form::{Form, FormRef};
use hark_core::response::ResponseContext;
use hark_core::sync::DocData;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::admin::{self, hash_secret, random_bytes};
use crate::error::{Error, Result};
use crate::ingest::{Ingest, Merged};
use crate::model::{Area, AuditEntry, Device, SurveyLink};
use crate::storage::{Storage, response_key};
use crate::validate::AreaForms;
use crate::writer::Commit;
use hark_hub::submission::{Stored, Submission, SubmissionError};

/// Most single-use links made at once.
pub const MAX_SINGLE_USE: u32 = 500;

/// What kind of link to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkSpec {
    /// `Some(n)`: `n` single-use links; `None`: one open link.
    pub single_use: Option<u32>,
    /// No answers at or after this time (ms since the epoch).
    pub closes_at: Option<i64>,
    /// Most answers an open link takes.
    pub cap: Option<i64>,
}

/// Why a link takes no answer, in words a family can act on.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown token.
    #[error("this survey link is not known: check you have the whole link")]
    Unknown,
    /// Revoked, closed or full.
    #[error("this survey has closed: thank you for wanting to take part")]
    Closed,
    /// A submission the core or the server refused.
    #[error("{0}")]
    Refused(String),
    /// Anything else.
    #[error(transparent)]
    Other(Box<Error>),
}

impl From<Error> for LinkError {
    fn from(e: Error) -> Self {
        Self::Other(Box::new(e))
    }
}

impl From<SubmissionError> for LinkError {
    fn from(e: SubmissionError) -> Self {
        match e {
            SubmissionError::Bad(m) => Self::Refused(m),
            SubmissionError::Core(c) => Self::Refused(c.to_string()),
        }
    }
}

/// A made link and its secret token (shown once; only its hash is kept).
#[derive(Clone, Debug)]
pub struct MadeLink {
    /// The link.
    pub link: SurveyLink,
    /// The secret in its URL.
    pub token: String,
}

impl MadeLink {
    /// The link's address on a server reachable at `base` (`https://…`).
    pub fn url(&self, base: &str) -> String {
        format!("{}/s/{}", base.trim_end_matches('/'), self.token)
    }
}

/// Makes links to a form of an area: one open link, or `n` single-use
/// ones. The form must be offered (published, not retired).
///
/// # Errors
/// `NotFound` for a form the area does not have; `Invalid` for a retired
/// form, a closing time in the past, a cap below 1 or too many links.
pub fn create(
    storage: &dyn Storage,
    area: &Area,
    form_id: &str,
    spec: &LinkSpec,
    by: &str,
    now: i64,
) -> Result<Vec<MadeLink>> {
    let form = match admin::form_versions(storage, area, form_id)?.pop() {
        None => {
            return Err(Error::NotFound(format!(
                "form {form_id} in area '{}'",
                area.name
            )));
        }
        Some(v) if v.retired => {
            return Err(Error::Invalid(format!(
                "form '{form_id}' is retired: publish a new version to make links to it"
            )));
        }
        Some(v) => v.form,
    };
    if spec.closes_at.is_some_and(|c| c <= now) {
        return Err(Error::Invalid("the closing date has passed".into()));
    }
    if spec.cap.is_some_and(|c| c < 1) {
        return Err(Error::Invalid("a cap is at least 1 answer".into()));
    }
    let (count, cap, single) = match spec.single_use {
        Some(n) if n == 0 || n > MAX_SINGLE_USE => {
            return Err(Error::Invalid(format!(
                "make 1 to {MAX_SINGLE_USE} single-use links at a time"
            )));
        }
        Some(n) => (n, Some(1), true),
        None => (1, spec.cap, false),
    };
    let mut out = Vec::new();
    for _ in 0..count {
        let token = hex::encode(random_bytes::<20>());
        let link = SurveyLink {
            id: hex::encode(random_bytes::<6>()),
            area_id: area.id.clone(),
            form_id: form.id.clone(),
            single_use: single,
            closes_at: spec.closes_at,
            cap,
            used: 0,
            created_at: now,
            created_by: by.to_owned(),
            revoked: false,
        };
        storage.create_link(&link, &hash_secret(&token))?;
        out.push(MadeLink { link, token });
    }
    Ok(out)
}

/// The link a token opens, if it is open now, with its area.
///
/// # Errors
/// [`LinkError::Unknown`] or [`LinkError::Closed`].
pub fn open(storage: &dyn Storage, token: &str, now: i64) -> Result<(SurveyLink, Area), LinkError> {
    let link = storage
        .link_by_token(&hash_secret(token))?
        .ok_or(LinkError::Unknown)?;
    if !link.open_at(now) {
        return Err(LinkError::Closed);
    }
    let area = storage
        .area(&link.area_id)?
        .ok_or_else(|| Error::NotFound("the link's area".into()))?;
    Ok((link, area))
}

/// The form a link shows: the newest version of its form, without the
/// safeguarding triggers (the server decides what an answer raises).
///
/// # Errors
/// As [`open`]; [`LinkError::Closed`] when the form was retired since.
pub fn form(storage: &dyn Storage, token: &str) -> Result<Form, LinkError> {
    let (link, area) = open(storage, token, now_ms())?;
    let versions = offered_versions(storage, &area, &link)?;
    let mut form = versions
        .into_iter()
        .next_back()
        .map(|v| v.form)
        .ok_or(LinkError::Closed)?;
    form.safeguarding.clear();
    Ok(form)
}

/// Every version of a link's form, oldest first, read once; closed when
/// the newest is retired (or the form is gone).
fn offered_versions(
    storage: &dyn Storage,
    area: &Area,
    link: &SurveyLink,
) -> Result<Vec<admin::Version>, LinkError> {
    let versions = admin::form_versions(storage, area, &link.form_id)?;
    match versions.last() {
        Some(newest) if !newest.retired => Ok(versions),
        _ => Err(LinkError::Closed),
    }
}

/// The device a link's answers arrive as (never stored: links authenticate
/// by their own token).
fn link_device(link: &SurveyLink) -> Device {
    Device {
        id: format!("link-{}", link.id),
        area_id: link.area_id.clone(),
        token_hash: Vec::new(),
        label: format!("survey link {}", link.id),
        revoked: false,
    }
}

/// The response id of a key on a link: the same key gives the same id (a
/// retry is the same response); keys of other links never meet it.
fn response_id(link: &SurveyLink, key: &str) -> String {
    let d = Sha256::digest(format!("hark survey link {}\n{key}", link.id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Takes one family's answers through a link: builds the response with the
/// core's rules, takes a use of the link, and ingests it as a sync would,
/// durably, before returning. A refused response gives its use back.
///
/// # Errors
/// [`LinkError`]: unknown, closed (revoked, past its date, at its cap, or
/// its form retired), or refused with the reason.
pub fn submit(
    storage: &dyn Storage,
    commit: &dyn Commit,
    token: &str,
    s: &Submission,
) -> Result<Stored, LinkError> {
    let now = now_ms();
    let version = s.version()?;
    let (link, area) = open(storage, token, now)?;
    if s.form != link.form_id {
        return Err(LinkError::Refused(format!(
            "this link is for form '{}', not '{}'",
            link.form_id, s.form
        )));
    }
    let versions = offered_versions(storage, &area, &link)?;
    let r = FormRef {
        id: s.form.clone(),
        version,
    };
    let form = versions
        .iter()
        .find(|v| v.form.version == r.version)
        .map(|v| v.form.clone())
        .ok_or_else(|| {
            LinkError::Refused(format!("form {r} is not this area's: reload the page"))
        })?;
    // The response pins its form: its versions are all the check needs.
    let forms: AreaForms = versions.into_iter().map(|v| v.form).collect();
    let id = response_id(&link, &s.key);
    if storage.load(&response_key(&area.id, &id))?.is_some() {
        return Ok(Stored::new(false));
    }
    let device = link_device(&link);
    let context = ResponseContext {
        area: area.name.clone(),
        occasion: Some(format!("survey link {}", link.id)),
        kiosk: true,
        device: device.id.clone(),
        ..ResponseContext::default()
    };
    let mut doc = s.response(&form, &id, &context, &device.id, now)?;
    if !storage.claim_link(&link.id, now)? {
        return Err(LinkError::Closed);
    }
    let give_back = |e: LinkError| -> LinkError {
        if let Err(release) = storage.release_link(&link.id) {
            tracing::error!(link = %link.id, error = %release, "a refused answer's use was not given back");
        }
        e
    };
    let upload = DocData {
        id: id.clone(),
        kind: DocKind::Response,
        base: Vec::new(),
        bytes: ByteBuf::from(doc.save()),
        flagged: false,
    };
    let lists = storage.area_lists(&area.id)?;
    let ctx = Ingest {
        area: &area,
        forms: &forms,
        lists: &lists,
        now_ms: now,
    };
    let outcome = crate::writer::ingest(storage, commit, &ctx, &device, &[&upload])
        .map_err(|e| give_back(e.into()))?;
    match outcome.into_iter().next().map(|(m, _)| m) {
        Some(Merged::Write(_)) => {}
        Some(Merged::Rejected(reason)) => return Err(give_back(LinkError::Refused(reason))),
        Some(Merged::NeedWhole) | None => {
            return Err(give_back(LinkError::Refused(
                "the answers were not stored".into(),
            )));
        }
    }
    storage.audit(&AuditEntry {
        seq: 0,
        at: now,
        area_id: area.id.clone(),
        actor: device.id,
        action: "link.answer".into(),
        detail: format!("{} ({})", link.id, form.form_ref()),
    })?;
    Ok(Stored::new(true))
}
