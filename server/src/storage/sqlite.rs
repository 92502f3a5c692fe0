//! SQLite storage: the embedded default. WAL, one connection behind a mutex
//! (SQLite has one writer anyway), every ingest batch one transaction.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use automerge::ChangeHash;
use hark_core::sync::DocKind;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::tally::Deltas;
use super::{
    AnswerRow, Area, AuditEntry, Device, DocBytes, ExportRecord, MergeFn, Merged, Note, Pending,
    PendingBatch, Projection, Role, Storage, StoredDoc, TallyQuery, TallyRow, User,
};
use crate::error::{Error, Result};

/// Numbered migrations; `user_version` records how many ran.
pub(crate) const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE counters (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('seq', 0);
CREATE TABLE areas (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL REFERENCES areas (id), token_hash BLOB NOT NULL,
    label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE TABLE enrol_codes (
    code_hash BLOB PRIMARY KEY NOT NULL, area_id TEXT NOT NULL REFERENCES areas (id),
    expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE docs (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL, kind TEXT NOT NULL, form_id TEXT NOT NULL,
    seq INTEGER NOT NULL, heads BLOB NOT NULL, snapshot BLOB NOT NULL, n_changes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX docs_seq ON docs (seq);
CREATE INDEX docs_area_kind_seq ON docs (area_id, kind, seq);
CREATE TABLE doc_changes (doc_id TEXT NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (doc_id, n)) WITHOUT ROWID;
CREATE TABLE device_docs (device_id TEXT NOT NULL, doc_id TEXT NOT NULL, heads BLOB NOT NULL, PRIMARY KEY (device_id, doc_id)) WITHOUT ROWID;
CREATE TABLE erasures (doc_id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX erasures_area_seq ON erasures (area_id, seq);
CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL, form_id TEXT NOT NULL, form_version TEXT NOT NULL,
    status TEXT NOT NULL, setting TEXT, age_phase TEXT, need TEXT, pathway TEXT, kiosk INTEGER NOT NULL,
    captured_at INTEGER NOT NULL, submitted_at INTEGER, month TEXT NOT NULL, flags INTEGER NOT NULL);
CREATE INDEX responses_area_form ON responses (area_id, form_id, status);
CREATE TABLE answers (
    response_id TEXT NOT NULL, question TEXT NOT NULL, kind TEXT NOT NULL, value_text TEXT, value_num INTEGER,
    PRIMARY KEY (response_id, question)) WITHOUT ROWID;
",
    "
ALTER TABLE responses ADD COLUMN packed TEXT NOT NULL DEFAULT '';
CREATE TABLE tallies (
    area_id TEXT NOT NULL, form_id TEXT NOT NULL, question TEXT NOT NULL, month TEXT NOT NULL,
    form_version TEXT NOT NULL, setting TEXT NOT NULL, age_phase TEXT NOT NULL, need TEXT NOT NULL,
    pathway TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value)
) WITHOUT ROWID;
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL REFERENCES areas (id), username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, role TEXT NOT NULL, free_text INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY NOT NULL, user_id TEXT NOT NULL REFERENCES users (id), expires_at INTEGER NOT NULL);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, area_id TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX audit_area_seq ON audit (area_id, seq);
CREATE TABLE notes (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL REFERENCES areas (id), theme TEXT NOT NULL,
    you_said TEXT NOT NULL, we_did TEXT NOT NULL, author TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX notes_area ON notes (area_id, updated_at);
",
];

/// SQLite-backed storage.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    /// The database file (`None` in memory): long reads (exports) open
    /// their own connection, so they never hold up writers.
    path: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStorage")
    }
}

pub(crate) fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn heads_from(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

pub(crate) fn kind_str(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Response => "response",
        DocKind::Form => "form",
    }
}

pub(crate) fn kind_from(s: &str) -> DocKind {
    if s == "form" {
        DocKind::Form
    } else {
        DocKind::Response
    }
}

pub(crate) fn now_ms() -> i64 {
    hark_core::store::now_ms()
}

impl SqliteStorage {
    /// Opens (creating) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        Self::setup(Connection::open(path)?, Some(path.to_owned()))
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(conn: Connection, path: Option<std::path::PathBuf>) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let s = Self {
            conn: Mutex::new(conn),
            path,
        };
        s.migrate()?;
        Ok(s)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
        [],
        |r| r.get(0),
    )?)
}

fn load_doc(conn: &Connection, id: &str) -> Result<Option<StoredDoc>> {
    let row: Option<(String, String, Vec<u8>, i64)> = conn
        .prepare_cached("SELECT area_id, kind, snapshot, n_changes FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((area_id, kind, mut bytes, n_changes)) = row else {
        return Ok(None);
    };
    if n_changes > 0 {
        let mut stmt =
            conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY n")?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            bytes.extend(r.get::<_, Vec<u8>>(0)?);
        }
    }
    Ok(Some(StoredDoc {
        area_id,
        kind: kind_from(&kind),
        bytes,
        n_changes,
    }))
}

/// The projection stored for a response (for its tallies), if any.
fn stored_projection(tx: &Transaction<'_>, id: &str) -> Result<Option<Projection>> {
    let row = tx
        .prepare_cached(
            "SELECT form_id, form_version, status, setting, age_phase, need, pathway, month
             FROM responses WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Projection {
                form_id: r.get(0)?,
                form_version: r.get(1)?,
                status: r.get(2)?,
                setting: r.get(3)?,
                age_phase: r.get(4)?,
                need: r.get(5)?,
                pathway: r.get(6)?,
                month: r.get(7)?,
                ..Projection::default()
            })
        })
        .optional()?;
    let Some(mut p) = row else {
        return Ok(None);
    };
    if p.status == "submitted" {
        p.answers = stored_answers(tx, id)?;
    }
    Ok(Some(p))
}

/// The projected answers of a response, by question.
fn stored_answers(tx: &Transaction<'_>, id: &str) -> Result<Vec<AnswerRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT question, kind, value_text, value_num FROM answers WHERE response_id = ?1 ORDER BY question",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(AnswerRow {
            question: r.get(0)?,
            kind: r.get(1)?,
            value_text: r.get(2)?,
            value_num: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Packs the answers of responses projected before they were packed.
fn backfill_packed(tx: &Transaction<'_>) -> Result<()> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM responses")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut write = tx.prepare_cached("UPDATE responses SET packed = ?2 WHERE id = ?1")?;
    for id in ids {
        let answers = stored_answers(tx, &id)?;
        write.execute(params![id, super::pack_answers(&answers)])?;
    }
    Ok(())
}

/// Recounts the tallies from the projections, a thousand responses at a
/// time.
fn rebuild_tallies(tx: &Transaction<'_>) -> Result<()> {
    tx.execute("DELETE FROM tallies", [])?;
    let mut after = String::new();
    loop {
        let ids: Vec<(String, String)> = tx
            .prepare_cached(
                "SELECT id, area_id FROM responses WHERE id > ?1 AND status = 'submitted' ORDER BY id LIMIT 1000",
            )?
            .query_map([&after], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some((last, _)) = ids.last().cloned() else {
            return Ok(());
        };
        let mut deltas = Deltas::new();
        for (id, area_id) in &ids {
            if let Some(p) = stored_projection(tx, id)? {
                deltas.add(area_id, None, Some(&p));
            }
        }
        flush_tallies(tx, &deltas)?;
        after = last;
    }
}

/// Writes a transaction's tally changes (see [`super::tally::Deltas`]).
fn flush_tallies(tx: &Transaction<'_>, deltas: &Deltas) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO tallies (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT DO UPDATE SET n = n + excluded.n",
    )?;
    for (area_id, k, by) in deltas.rows() {
        stmt.execute(params![
            area_id,
            k.form_id,
            k.question,
            k.month,
            k.form_version,
            k.setting,
            k.age_phase,
            k.need,
            k.pathway,
            k.value,
            by
        ])?;
    }
    Ok(())
}

fn write_projection(
    tx: &Transaction<'_>,
    id: &str,
    area_id: &str,
    p: Option<&Projection>,
    deltas: &mut Deltas,
) -> Result<()> {
    let old = stored_projection(tx, id)?;
    deltas.add(area_id, old.as_ref(), p);
    tx.prepare_cached("DELETE FROM answers WHERE response_id = ?1")?
        .execute([id])?;
    let Some(p) = p else {
        tx.prepare_cached("DELETE FROM responses WHERE id = ?1")?
            .execute([id])?;
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO responses (id, area_id, form_id, form_version, status, setting, age_phase, need, pathway,
             kiosk, captured_at, submitted_at, month, flags, packed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO UPDATE SET form_id = excluded.form_id, form_version = excluded.form_version,
             status = excluded.status, setting = excluded.setting, age_phase = excluded.age_phase,
             need = excluded.need, pathway = excluded.pathway, kiosk = excluded.kiosk,
             captured_at = excluded.captured_at, submitted_at = excluded.submitted_at,
             month = excluded.month, flags = excluded.flags, packed = excluded.packed",
    )?
    .execute(params![
        id,
        area_id,
        p.form_id,
        p.form_version,
        p.status,
        p.setting,
        p.age_phase,
        p.need,
        p.pathway,
        p.kiosk,
        p.captured_at,
        p.submitted_at,
        p.month,
        p.flags,
        super::pack_answers(&p.answers)
    ])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO answers (response_id, question, kind, value_text, value_num) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in &p.answers {
        stmt.execute(params![id, a.question, a.kind, a.value_text, a.value_num])?;
    }
    Ok(())
}

impl Storage for SqliteStorage {
    fn migrate(&self) -> Result<()> {
        let mut conn = self.lock();
        // Read the version inside the write transaction, so two processes
        // starting at once cannot both run a migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: usize = tx
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?
            .try_into()
            .unwrap_or(0);
        if version > MIGRATIONS.len() {
            return Err(Error::Config(format!(
                "database schema {version} is newer than this hark"
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(m)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )?;
        }
        if version == 1 {
            // Migration 2 added packed answers and the tallies: fill both
            // from what is there already.
            backfill_packed(&tx)?;
            rebuild_tallies(&tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn create_area(&self, name: &str) -> Result<Area> {
        let conn = self.lock();
        let area = Area {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
        };
        match conn.execute(
            "INSERT INTO areas (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![area.id, area.name, now_ms()],
        ) {
            Ok(_) => Ok(area),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::Exists(format!("area '{name}'")))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn area_by_name(&self, name: &str) -> Result<Option<Area>> {
        let conn = self.lock();
        Ok(conn
            .query_row("SELECT id, name FROM areas WHERE name = ?1", [name], |r| {
                Ok(Area {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn area(&self, id: &str) -> Result<Option<Area>> {
        let conn = self.lock();
        Ok(conn
            .query_row("SELECT id, name FROM areas WHERE id = ?1", [id], |r| {
                Ok(Area {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn areas(&self) -> Result<Vec<Area>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id, name FROM areas ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Area {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO enrol_codes (code_hash, area_id, expires_at) VALUES (?1, ?2, ?3)",
            params![code_hash, area_id, expires_at],
        )?;
        Ok(())
    }

    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        now: i64,
        device: &Device,
    ) -> Result<Option<Area>> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let area: Option<(String, String)> = tx
            .query_row(
                "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                 RETURNING area_id, (SELECT name FROM areas WHERE areas.id = enrol_codes.area_id)",
                params![code_hash, now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((area_id, name)) = area else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO devices (id, area_id, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![device.id, area_id, device.token_hash, device.label, now],
        )?;
        tx.commit()?;
        Ok(Some(Area { id: area_id, name }))
    }

    fn device(&self, id: &str) -> Result<Option<Device>> {
        let conn = self.lock();
        Ok(conn
            .prepare_cached("SELECT id, area_id, token_hash, label, revoked_at IS NOT NULL FROM devices WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(Device { id: r.get(0)?, area_id: r.get(1)?, token_hash: r.get(2)?, label: r.get(3)?, revoked: r.get(4)? })
            })
            .optional()?)
    }

    fn revoke_device(&self, id: &str) -> Result<bool> {
        let conn = self.lock();
        Ok(conn.execute(
            "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now_ms()],
        )? > 0
            || conn
                .query_row("SELECT 1 FROM devices WHERE id = ?1", [id], |_| Ok(()))
                .optional()?
                .is_some())
    }

    fn ingest(
        &self,
        device: &Device,
        ids: &[String],
        merge: &mut MergeFn<'_>,
    ) -> Result<Vec<Merged>> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(ids.len());
        let mut deltas = Deltas::new();
        for id in ids {
            let erased = tx
                .prepare_cached("SELECT 1 FROM erasures WHERE doc_id = ?1")?
                .query_row([id], |_| Ok(()))
                .optional()?
                .is_some();
            if erased {
                out.push(Merged::Rejected("erased".into()));
                continue;
            }
            let stored = load_doc(&tx, id)?;
            let merged = merge(id, stored)?;
            if let Merged::Write(w) = &merged {
                let heads = heads_bytes(&w.heads);
                match &w.bytes {
                    DocBytes::Unchanged => {}
                    DocBytes::Snapshot(bytes) => {
                        let seq = next_seq(&tx)?;
                        tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
                            .execute([&w.id])?;
                        tx.prepare_cached(
                            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot, n_changes)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)
                             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
                                 snapshot = excluded.snapshot, n_changes = 0",
                        )?
                        .execute(params![w.id, w.area_id, kind_str(w.kind), w.form_id, seq, heads, bytes])?;
                    }
                    DocBytes::Append(bytes) => {
                        let seq = next_seq(&tx)?;
                        let n: i64 = tx
                            .prepare_cached(
                                "UPDATE docs SET seq = ?2, heads = ?3, n_changes = n_changes + 1 WHERE id = ?1 RETURNING n_changes",
                            )?
                            .query_row(params![w.id, seq, heads], |r| r.get(0))?;
                        tx.prepare_cached(
                            "INSERT INTO doc_changes (doc_id, n, bytes) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![w.id, n, bytes])?;
                    }
                }
                if w.bytes != DocBytes::Unchanged {
                    write_projection(&tx, &w.id, &w.area_id, w.projection.as_ref(), &mut deltas)?;
                }
                tx.prepare_cached(
                    "INSERT INTO device_docs (device_id, doc_id, heads) VALUES (?1, ?2, ?3)
                     ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads",
                )?
                .execute(params![device.id, w.id, heads])?;
            }
            out.push(merged);
        }
        flush_tallies(&tx, &deltas)?;
        tx.commit()?;
        Ok(out)
    }

    fn erase(&self, area_id: &str, ids: &[String]) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deltas = Deltas::new();
        for id in ids {
            // Only responses of the caller's area: never forms, never
            // another area's documents.
            let owned: Option<(String, String)> = tx
                .query_row("SELECT area_id, kind FROM docs WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if owned
                .as_ref()
                .is_some_and(|(a, k)| a != area_id || k != "response")
                || id.starts_with("form:")
            {
                continue;
            }
            let seq = next_seq(&tx)?;
            tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [id])?;
            tx.execute("DELETE FROM docs WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM device_docs WHERE doc_id = ?1", [id])?;
            write_projection(&tx, id, area_id, None, &mut deltas)?;
            tx.execute(
                "INSERT INTO erasures (doc_id, area_id, seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc_id) DO NOTHING",
                params![id, area_id, seq],
            )?;
        }
        flush_tallies(&tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn pending(&self, device: &Device, cursor: i64, limit: usize) -> Result<PendingBatch> {
        let conn = self.lock();
        let upper: i64 =
            conn.query_row("SELECT value FROM counters WHERE name = 'seq'", [], |r| {
                r.get(0)
            })?;
        let limit = limit.max(1);
        let limit_i = i64::try_from(limit).unwrap_or(i64::MAX - 1);
        let mut rows: Vec<(i64, String, Option<Vec<u8>>)> = Vec::new();
        {
            let mut forms = conn.prepare_cached(
                "SELECT seq, id FROM docs WHERE area_id = ?1 AND kind = 'form' AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
            )?;
            for r in forms.query_map(params![device.area_id, cursor, upper, limit_i + 1], |r| {
                Ok((r.get(0)?, r.get(1)?, None))
            })? {
                rows.push(r?);
            }
            let mut responses = conn.prepare_cached(
                "SELECT d.seq, d.id, dd.heads FROM docs d JOIN device_docs dd ON dd.doc_id = d.id AND dd.device_id = ?1
                 WHERE d.seq > ?2 AND d.seq <= ?3 AND d.heads != dd.heads ORDER BY d.seq LIMIT ?4",
            )?;
            for r in responses.query_map(params![device.id, cursor, upper, limit_i + 1], |r| {
                Ok((r.get(0)?, r.get(1)?, Some(r.get(2)?)))
            })? {
                rows.push(r?);
            }
        }
        rows.sort_by_key(|r| r.0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let cursor_out = if more {
            rows.last().map_or(upper, |r| r.0)
        } else {
            upper
        };
        let mut docs = Vec::with_capacity(rows.len());
        for (_, id, heads) in rows {
            if let Some(d) = load_doc(&conn, &id)? {
                docs.push(Pending {
                    id,
                    kind: d.kind,
                    bytes: d.bytes,
                    device_heads: heads.map(|h| heads_from(&h)),
                });
            }
        }
        let mut erased_stmt = conn.prepare_cached(
            "SELECT doc_id FROM erasures WHERE area_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
        )?;
        let erased = erased_stmt
            .query_map(params![device.area_id, cursor, cursor_out], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(PendingBatch {
            docs,
            erased,
            cursor: cursor_out,
            more,
        })
    }

    fn put_form(
        &self,
        area_id: &str,
        id: &str,
        form_id: &str,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx
            .query_row("SELECT 1 FROM docs WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some()
        {
            return Ok(false);
        }
        let seq = next_seq(&tx)?;
        tx.execute(
            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot) VALUES (?1, ?2, 'form', ?3, ?4, ?5, ?6)",
            params![id, area_id, form_id, seq, heads_bytes(heads), bytes],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn load(&self, id: &str) -> Result<Option<StoredDoc>> {
        load_doc(&self.lock(), id)
    }

    fn area_forms(&self, area_id: &str) -> Result<Vec<Vec<u8>>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT snapshot FROM docs WHERE area_id = ?1 AND kind = 'form' ORDER BY id",
        )?;
        let rows = stmt.query_map([area_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn doc_ids(&self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM docs WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                kind_str(kind),
                after,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| r.get(0),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn put_projection(
        &self,
        id: &str,
        area_id: &str,
        projection: Option<&Projection>,
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deltas = Deltas::new();
        write_projection(&tx, id, area_id, projection, &mut deltas)?;
        flush_tallies(&tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64> {
        let conn = self.lock();
        Ok(conn.query_row(
            "SELECT count(*) FROM responses WHERE area_id = ?1 AND status = 'submitted' AND (?2 IS NULL OR form_id = ?2)",
            params![area_id, form_id],
            |r| r.get(0),
        )?)
    }

    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<super::AnswerCell>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT a.response_id, a.question, a.value_text, a.value_num FROM answers a
             JOIN responses r ON r.id = a.response_id
             WHERE r.area_id = ?1 AND r.form_id = ?2 AND r.status = 'submitted'
             ORDER BY a.response_id, a.question",
        )?;
        let rows = stmt.query_map(params![area_id, form_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>> {
        let (sql, params) = super::tally::tallies_sql(query, &|i| format!("?{i}"));
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let k = query.dims.len();
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok(TallyRow {
                form_id: r.get(0)?,
                month: r.get(1)?,
                dims: (0..k).map(|i| r.get(2 + i)).collect::<Result<_, _>>()?,
                value: r.get(2 + k)?,
                n: r.get(3 + k)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn free_text(&self, query: &TallyQuery, filter_values: &[String]) -> Result<Vec<String>> {
        let (sql, params) = super::tally::free_text_sql(query, filter_values, &|i| format!("?{i}"));
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn export_responses(
        &self,
        area_id: &str,
        forms: &[String],
        with_text: bool,
        each: &mut dyn FnMut(ExportRecord) -> Result<()>,
    ) -> Result<()> {
        let own;
        let shared;
        let conn: &Connection = match &self.path {
            Some(path) => {
                own = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                own.busy_timeout(std::time::Duration::from_secs(10))?;
                &own
            }
            None => {
                shared = self.lock();
                &shared
            }
        };
        let placeholders: Vec<String> = (0..forms.len()).map(|i| format!("?{}", i + 2)).collect();
        // One row per response with its answers packed (see
        // `pack_answers`): a plain scan, no join, no sort.
        let sql = format!(
            "SELECT form_id, form_version, month, setting, age_phase, need, pathway, kiosk, packed
             FROM responses WHERE area_id = ?1 AND status = 'submitted' AND form_id IN ({})",
            if forms.is_empty() {
                "NULL".to_owned()
            } else {
                placeholders.join(", ")
            }
        );
        // One read transaction: the export is one consistent snapshot.
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let mut stmt = conn.prepare(&sql)?;
            let mut params: Vec<&str> = vec![area_id];
            params.extend(forms.iter().map(String::as_str));
            let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
            while let Some(r) = rows.next()? {
                let packed = r.get_ref(8)?.as_str().map_err(rusqlite::Error::from)?;
                let answers = super::unpack_answers(packed, with_text)?;
                each(ExportRecord {
                    form_id: r.get(0)?,
                    form_version: r.get(1)?,
                    month: r.get(2)?,
                    setting: r.get(3)?,
                    age_phase: r.get(4)?,
                    need: r.get(5)?,
                    pathway: r.get(6)?,
                    kiosk: r.get(7)?,
                    answers,
                })?;
            }
            Ok(())
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    fn rebuild_tallies(&self) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        rebuild_tallies(&tx)?;
        tx.commit()?;
        Ok(())
    }

    fn put_projections(&self, batch: &[(String, String, Projection)]) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deltas = Deltas::new();
        for (id, area_id, p) in batch {
            write_projection(&tx, id, area_id, Some(p), &mut deltas)?;
        }
        flush_tallies(&tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn create_user(&self, user: &User) -> Result<()> {
        let conn = self.lock();
        match conn.execute(
            "INSERT INTO users (id, area_id, username, password_hash, role, free_text, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                user.id,
                user.area_id,
                user.username,
                user.password_hash,
                user.role.as_str(),
                user.free_text,
                now_ms()
            ],
        ) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Error::Exists(format!("user '{}'", user.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let conn = self.lock();
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
            ))?
            .query_row([username], user_row)
            .optional()?)
    }

    fn users(&self, area_id: &str) -> Result<Vec<User>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE area_id = ?1 ORDER BY username"
        ))?;
        let rows = stmt.query_map([area_id], user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE username = ?1",
            params![username, password_hash],
        )? > 0;
        // A new password ends every session of the user.
        tx.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?1)",
            [username],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    fn create_session(&self, token_hash: &[u8], user_id: &str, expires_at: i64) -> Result<()> {
        let conn = self.lock();
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now_ms()])?;
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash, user_id, expires_at],
        )?;
        Ok(())
    }

    fn session_user(&self, token_hash: &[u8], now: i64) -> Result<Option<User>> {
        let conn = self.lock();
        let cols = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {cols} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2"
            ))?
            .query_row(params![token_hash, now], user_row)
            .optional()?)
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        let conn = self.lock();
        conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn audit(&self, e: &AuditEntry) -> Result<()> {
        let conn = self.lock();
        conn.prepare_cached(
            "INSERT INTO audit (at, area_id, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![e.at, e.area_id, e.actor, e.action, e.detail])?;
        Ok(())
    }

    fn audit_log(&self, area_id: &str, before: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, area_id, actor, action, detail FROM audit
             WHERE area_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![area_id, before, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    area_id: r.get(2)?,
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn put_note(&self, n: &Note) -> Result<()> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO notes (id, area_id, theme, you_said, we_did, author, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET theme = excluded.theme, you_said = excluded.you_said,
                 we_did = excluded.we_did, author = excluded.author, updated_at = excluded.updated_at
             WHERE notes.area_id = excluded.area_id",
            params![n.id, n.area_id, n.theme, n.you_said, n.we_did, n.author, n.updated_at],
        )?;
        Ok(())
    }

    fn notes(&self, area_id: &str) -> Result<Vec<Note>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, area_id, theme, you_said, we_did, author, updated_at FROM notes
             WHERE area_id = ?1 ORDER BY updated_at DESC, id",
        )?;
        let rows = stmt.query_map([area_id], |r| {
            Ok(Note {
                id: r.get(0)?,
                area_id: r.get(1)?,
                theme: r.get(2)?,
                you_said: r.get(3)?,
                we_did: r.get(4)?,
                author: r.get(5)?,
                updated_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool> {
        let conn = self.lock();
        Ok(conn.execute(
            "DELETE FROM notes WHERE area_id = ?1 AND id = ?2",
            params![area_id, id],
        )? > 0)
    }
}

const USER_COLUMNS: &str = "id, area_id, username, password_hash, role, free_text";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(4)?;
    Ok(User {
        id: r.get(0)?,
        area_id: r.get(1)?,
        username: r.get(2)?,
        password_hash: r.get(3)?,
        role: Role::parse(&role).unwrap_or(Role::Leader),
        free_text: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(path: &Path) -> Vec<String> {
        let conn = Connection::open(path).expect("open");
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// A database made by every earlier version, upgraded, has exactly the
    /// schema of a fresh one.
    #[test]
    fn upgraded_equals_fresh() {
        let dir = tempfile::tempdir().expect("dir");
        let fresh = dir.path().join("fresh.db");
        drop(SqliteStorage::open(&fresh).expect("fresh"));
        for version in 1..MIGRATIONS.len() {
            let old = dir.path().join(format!("v{version}.db"));
            {
                let conn = Connection::open(&old).expect("open");
                for m in &MIGRATIONS[..version] {
                    conn.execute_batch(m).expect("old migration");
                }
                conn.pragma_update(None, "user_version", version as i64)
                    .expect("version");
            }
            drop(SqliteStorage::open(&old).expect("upgrade"));
            assert_eq!(schema(&old), schema(&fresh), "from version {version}");
        }
    }

    /// Responses stored before the tallies existed are counted on upgrade.
    #[test]
    fn an_upgrade_counts_existing_responses_into_the_tallies() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(MIGRATIONS[0]).expect("v1");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
            conn.execute_batch(
                "INSERT INTO areas VALUES ('a1', 'hartlepool', 0);
                 INSERT INTO responses VALUES ('r1', 'a1', 'f', '1.0.0', 'submitted', 'home', NULL, NULL, NULL, 0, 0, 0, '2026-01', 0);
                 INSERT INTO answers VALUES ('r1', 'q', 'choice', 'yes', NULL);
                 INSERT INTO responses VALUES ('r2', 'a1', 'f', '1.0.0', 'draft', 'home', NULL, NULL, NULL, 0, 0, 0, '2026-01', 0);
                 INSERT INTO answers VALUES ('r2', 'q', 'choice', 'no', NULL);",
            )
            .expect("v1 data");
        }
        let s = SqliteStorage::open(&path).expect("upgrade");
        let rows = s
            .tallies(&TallyQuery {
                area_id: "a1".into(),
                question: "q".into(),
                versions: vec![("f".into(), "1.0.0".into())],
                dims: vec![super::super::Dim::Setting],
                months: None,
            })
            .expect("tallies");
        let mut got: Vec<(String, String, i64)> = rows
            .into_iter()
            .map(|r| (r.dims[0].clone(), r.value, r.n))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("home".to_owned(), String::new(), 1),
                ("home".to_owned(), "yes".to_owned(), 1)
            ],
            "the submitted response, not the draft"
        );
    }
}
