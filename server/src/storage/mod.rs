//! Server storage: one trait, two implementations (SQLite by default,
//! PostgreSQL at scale), one conformance suite (`tests.rs`, run against both).
//!
//! The storage layer is deliberately dumb: it holds areas, devices, enrolment
//! codes, documents (snapshot plus appended change chunks), the relational
//! projections, and a global sequence counter. All merge logic lives in
//! [`crate::ingest`], which storage calls back inside its transaction, so
//! both backends behave identically.
//!
//! Sequence numbers come from a single counter row taken inside each writing
//! transaction. The row lock orders committing writers, so once a reader
//! sees sequence number N committed, every number below N is committed too:
//! a device cursor can never skip a document, even with several servers on
//! one PostgreSQL.

pub mod postgres;
pub mod sqlite;
pub mod tally;
#[cfg(test)]
mod tests;

use automerge::ChangeHash;
use hark_core::sync::DocKind;

use crate::error::Result;

pub use tally::{Dim, TallyKey, TallyQuery, TallyRow, tally_delta, tally_keys};

/// An area: a tenant (a local authority and its NHS partners).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    /// Stable id.
    pub id: String,
    /// Unique name, e.g. `hartlepool`.
    pub name: String,
}

/// An enrolled device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Its area.
    pub area_id: String,
    /// SHA-256 of its secret token.
    pub token_hash: Vec<u8>,
    /// Label given at enrolment.
    pub label: String,
    /// Revoked devices are refused.
    pub revoked: bool,
}

/// A stored document as loaded for merging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    /// Area it belongs to.
    pub area_id: String,
    /// Kind.
    pub kind: DocKind,
    /// Snapshot followed by change chunks: what `Automerge::load` reads.
    pub bytes: Vec<u8>,
    /// Number of change chunks after the snapshot.
    pub n_changes: i64,
}

/// How a merged document is written back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocBytes {
    /// Replace with a compacted snapshot (and drop the change chunks).
    Snapshot(Vec<u8>),
    /// Append one change chunk.
    Append(Vec<u8>),
    /// Nothing new (a replay): touch nothing but the device's record.
    Unchanged,
}

/// The relational projection of a response: one row, plus one per answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    /// Form id.
    pub form_id: String,
    /// Exact form version.
    pub form_version: String,
    /// `draft` or `submitted`.
    pub status: String,
    /// Setting, where recorded.
    pub setting: Option<String>,
    /// Age phase, where recorded.
    pub age_phase: Option<String>,
    /// Need, where recorded.
    pub need: Option<String>,
    /// Pathway, where recorded.
    pub pathway: Option<String>,
    /// Captured at a kiosk.
    pub kiosk: bool,
    /// Capture time, ms since the epoch.
    pub captured_at: i64,
    /// Submission time, ms since the epoch.
    pub submitted_at: Option<i64>,
    /// Month of capture, `YYYY-MM`.
    pub month: String,
    /// Number of safeguarding flags raised.
    pub flags: i64,
    /// Answers: question, kind, text value, numeric value.
    pub answers: Vec<AnswerRow>,
}

/// One answer, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRow {
    /// Question id.
    pub question: String,
    /// Answer kind (`scale`, `choice`, `choices`, `text`, ...).
    pub kind: String,
    /// Option id(s) (comma-joined for multiple choice), text or date.
    pub value_text: Option<String>,
    /// Scale point or number.
    pub value_num: Option<i64>,
}

/// What the merge callback decided for one document.
#[derive(Clone, Debug, PartialEq)]
pub struct DocWrite {
    /// Document id.
    pub id: String,
    /// Area it belongs to.
    pub area_id: String,
    /// Kind.
    pub kind: DocKind,
    /// Form id (for forms and responses).
    pub form_id: String,
    /// Heads after the merge.
    pub heads: Vec<ChangeHash>,
    /// Bytes to write.
    pub bytes: DocBytes,
    /// Projection to replace (responses only).
    pub projection: Option<Projection>,
}

/// A projected answer: (response id, question, text, number).
pub type AnswerCell = (String, String, Option<String>, Option<i64>);

/// The merge callback's answer for one document.
#[derive(Debug)]
pub enum Merged {
    /// Write this, and acknowledge the heads.
    Write(Box<DocWrite>),
    /// The base is unknown here: ask for the whole document.
    NeedWhole,
    /// Refused, with a reason safe to show.
    Rejected(String),
}

/// A document a device should receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Document id.
    pub id: String,
    /// Kind.
    pub kind: DocKind,
    /// The whole stored document.
    pub bytes: Vec<u8>,
    /// The heads this device last acknowledged, if any.
    pub device_heads: Option<Vec<ChangeHash>>,
}

/// What a device should receive after `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingBatch {
    /// Documents.
    pub docs: Vec<Pending>,
    /// Responses erased in the area.
    pub erased: Vec<String>,
    /// Cursor to acknowledge once applied.
    pub cursor: i64,
    /// More remain after this batch.
    pub more: bool,
}

/// The merge callback: given a document id and its stored copy (locked for
/// the transaction), decide what to write.
pub type MergeFn<'a> = dyn FnMut(&str, Option<StoredDoc>) -> Result<Merged> + 'a;

/// Everything the server stores. Implementations must be safe to share
/// between request handlers and between server processes on one database.
pub trait Storage: Send + Sync + 'static {
    /// Brings the schema up to date (numbered migrations).
    fn migrate(&self) -> Result<()>;

    /// Creates an area. Errors if the name is taken.
    fn create_area(&self, name: &str) -> Result<Area>;
    /// Looks an area up by name.
    fn area_by_name(&self, name: &str) -> Result<Option<Area>>;
    /// Looks an area up by id.
    fn area(&self, id: &str) -> Result<Option<Area>>;
    /// Every area.
    fn areas(&self) -> Result<Vec<Area>>;

    /// Stores a one-time enrolment code (hashed) for an area.
    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()>;
    /// Redeems a code (once, before it expires) and creates the device, in
    /// one transaction. `None` if the code is unknown, used or expired.
    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        now: i64,
        device: &Device,
    ) -> Result<Option<Area>>;
    /// A device by id.
    fn device(&self, id: &str) -> Result<Option<Device>>;
    /// Revokes a device. Returns whether it existed.
    fn revoke_device(&self, id: &str) -> Result<bool>;

    /// Merges documents from `device` in one transaction: for each id, in
    /// order, loads the stored copy (locked), calls `merge`, writes the
    /// result with its projection, and records the heads the device now has
    /// acknowledged. Erased ids are not passed to `merge`: they come back as
    /// `Merged::Rejected("erased")`. Returns one outcome per id.
    fn ingest(
        &self,
        device: &Device,
        ids: &[String],
        merge: &mut MergeFn<'_>,
    ) -> Result<Vec<Merged>>;
    /// Erases responses of `area_id` (withdrawn consent): document,
    /// projections and device records, and records the erasure.
    fn erase(&self, area_id: &str, ids: &[String]) -> Result<()>;
    /// Documents and erasures `device` should receive after `cursor`.
    fn pending(&self, device: &Device, cursor: i64, limit: usize) -> Result<PendingBatch>;
    /// Stores a form version for an area (read-only for devices). Returns
    /// `false` if a document with that id exists already.
    fn put_form(
        &self,
        area_id: &str,
        id: &str,
        form_id: &str,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<bool>;
    /// Loads one document.
    fn load(&self, id: &str) -> Result<Option<StoredDoc>>;
    /// Every form version of an area, as stored form documents.
    fn area_forms(&self, area_id: &str) -> Result<Vec<Vec<u8>>>;
    /// Ids of every document of a kind (for rebuilds), in batches.
    fn doc_ids(&self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>>;
    /// Replaces a response's projection (rebuild).
    fn put_projection(
        &self,
        id: &str,
        area_id: &str,
        projection: Option<&Projection>,
    ) -> Result<()>;

    /// Distinct submitted responses in an area, optionally for one form.
    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64>;
    /// Every projected answer of submitted responses in an area (tests,
    /// exports): (response id, question, text, number).
    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<AnswerCell>>;

    /// Total submitted responses per tally cell: see [`tally_keys`]. Rows
    /// are grouped by form, month, the query's dimensions (in order) and
    /// value; every form version in `query.versions` is summed.
    fn tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>>;
    /// Free-text answers to one question of submitted responses, matching
    /// the query's filters (`dims` paired with `filter_values`), in
    /// alphabetical order so their order says nothing about who wrote them.
    fn free_text(&self, query: &TallyQuery, filter_values: &[String]) -> Result<Vec<String>>;
    /// Streams every submitted response of `forms` in an area, one record
    /// at a time (in no particular order), without holding them all in
    /// memory. Text
    /// answers are left out unless `with_text`. `each` returning an error
    /// stops the stream.
    fn export_responses(
        &self,
        area_id: &str,
        forms: &[String],
        with_text: bool,
        each: &mut dyn FnMut(ExportRecord) -> Result<()>,
    ) -> Result<()>;
    /// Recounts every tally from the stored projections, in one
    /// transaction (after an upgrade from a schema without tallies, and in
    /// `hark admin rebuild`).
    fn rebuild_tallies(&self) -> Result<()>;
    /// Writes many projections in one transaction (rebuilds, benchmarks).
    fn put_projections(&self, batch: &[(String, String, Projection)]) -> Result<()>;

    /// Creates a dashboard user. Errors with `Exists` if the name is taken.
    fn create_user(&self, user: &User) -> Result<()>;
    /// A user by (globally unique) name.
    fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    /// The users of an area.
    fn users(&self, area_id: &str) -> Result<Vec<User>>;
    /// Replaces a user's password hash. Returns whether the user exists.
    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool>;
    /// Stores a session (its token hashed) until `expires_at`.
    fn create_session(&self, token_hash: &[u8], user_id: &str, expires_at: i64) -> Result<()>;
    /// The user of a live session.
    fn session_user(&self, token_hash: &[u8], now: i64) -> Result<Option<User>>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &[u8]) -> Result<()>;

    /// Appends to the audit log.
    fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// An area's audit log, newest first, entries with `seq < before`.
    fn audit_log(&self, area_id: &str, before: i64, limit: usize) -> Result<Vec<AuditEntry>>;

    /// Creates or replaces a "you said, we did" note.
    fn put_note(&self, note: &Note) -> Result<()>;
    /// An area's notes, newest first.
    fn notes(&self, area_id: &str) -> Result<Vec<Note>>;
    /// Deletes a note of an area. Returns whether it existed.
    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool>;
}

/// What a dashboard user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, reads the audit log and row-level exports.
    Administrator,
    /// Reads reports and writes "you said, we did" notes.
    Leader,
}

impl Role {
    /// Stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
            Self::Leader => "leader",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "administrator" => Some(Self::Administrator),
            "leader" => Some(Self::Leader),
            _ => None,
        }
    }
}

/// A dashboard user (a person, never a device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// The one area the user belongs to.
    pub area_id: String,
    /// Sign-in name, unique across areas.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// May read free-text answers.
    pub free_text: bool,
}

/// One audit-log entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Order of entries (assigned on write; ignored when appending).
    pub seq: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// Area.
    #[serde(skip)]
    pub area_id: String,
    /// Who (user name).
    pub actor: String,
    /// What, e.g. `report.read`.
    pub action: String,
    /// The request, e.g. the report's query string.
    pub detail: String,
}

/// A "you said, we did" note, shown on the dashboard and on devices.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// Stable id.
    pub id: String,
    /// Area.
    #[serde(skip)]
    pub area_id: String,
    /// Theme (`feeling_safe`, `diagnosis`, ...).
    pub theme: String,
    /// What families told us.
    pub you_said: String,
    /// What was done about it.
    pub we_did: String,
    /// Author's user name.
    pub author: String,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// A projection's answers packed into one string, stored with the response
/// so a row-level export reads one row per response: question, kind and
/// value separated by U+001F, answers by U+001E. Free text (the only value
/// that may hold those characters) is hex-encoded.
pub fn pack_answers(answers: &[AnswerRow]) -> String {
    let mut out = String::new();
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            out.push('\u{1e}');
        }
        out.push_str(&a.question);
        out.push('\u{1f}');
        out.push_str(&a.kind);
        out.push('\u{1f}');
        match (&a.value_text, a.value_num) {
            (Some(t), _) if a.kind == "text" => out.push_str(&hex::encode(t)),
            (Some(t), _) => out.push_str(t),
            (None, Some(n)) => out.push_str(&n.to_string()),
            (None, None) => {}
        }
    }
    out
}

/// Reverses [`pack_answers`] for an export: free text left out unless
/// `with_text`; "don't know" and "don't want to say" spelled out.
pub fn unpack_answers(packed: &str, with_text: bool) -> Result<Vec<ExportAnswer>> {
    let mut out = Vec::new();
    for a in packed.split('\u{1e}').filter(|a| !a.is_empty()) {
        let mut parts = a.splitn(3, '\u{1f}');
        let (Some(q), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(crate::error::Error::Invalid(
                "stored answer is malformed".into(),
            ));
        };
        let q = q.to_owned();
        out.push(match kind {
            "text" if !with_text => continue,
            "text" => {
                let bytes = hex::decode(value)
                    .map_err(|_| crate::error::Error::Invalid("stored text is malformed".into()))?;
                (q, Some(String::from_utf8_lossy(&bytes).into_owned()), None)
            }
            "dont_know" => (q, Some(tally::DONT_KNOW.to_owned()), None),
            "prefer_not_to_say" => (q, Some(tally::PREFER_NOT.to_owned()), None),
            "scale" | "number" => (q, None, value.parse().ok()),
            _ if value.is_empty() => (q, None, None),
            _ => (q, Some(value.to_owned()), None),
        });
    }
    Ok(out)
}

/// An exported answer: question, text value, numeric value.
pub type ExportAnswer = (String, Option<String>, Option<i64>);

/// One response in a row-level export.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRecord {
    /// Form id.
    pub form_id: String,
    /// Form version.
    pub form_version: String,
    /// Month of capture.
    pub month: String,
    /// Setting.
    pub setting: Option<String>,
    /// Age phase.
    pub age_phase: Option<String>,
    /// Need.
    pub need: Option<String>,
    /// Pathway.
    pub pathway: Option<String>,
    /// Captured at a kiosk.
    pub kiosk: bool,
    /// Answers.
    pub answers: Vec<ExportAnswer>,
}
