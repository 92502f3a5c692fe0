//! SQLite storage: the embedded default. WAL with `synchronous=FULL`, one
//! connection behind a mutex (SQLite has one writer anyway), every write an
//! `IMMEDIATE` transaction. SQL and row mapping only: the algorithms are
//! `documents.rs`'s.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::ChangeHash;
use hark_core::doc::{DocKind, decode_heads, encode_heads, now_ms};
use hark_core::lists::{AreaLists, ListDim};
use hark_core::response::Status;
use rusqlite::{
    Connection, OptionalExtension, Params, Statement, Transaction, TransactionBehavior, params,
};

use super::backend::{Backend, DocRow, DocTx, ProjectionRow, SchemaTx};
use super::query::{Tallies, free_text_sql, publish_quotes_sql, publish_tallies_sql, tallies_sql};
use super::rows::{self, Row};
use super::{
    Accounts, AnswerCell, AuditLog, Links, Notes, ProblemCount, Reads, SafeguardingList, Storage,
    Tenancy,
};
use crate::error::{Error, Result};
use crate::export::{ExportRecord, pack_answers};
use crate::ingest::StoredDoc;
use crate::model::{
    Area, AuditEntry, Device, Flag, FlagStatus, Note, PublishedQuote, SurveyLink, User,
};
use crate::projection::{AnswerRow, Projection};
use crate::tally::{TallyKey, TallyQuery, TallyRow};
use crate::throttle::Failures;

/// Numbered migrations; `user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
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
    "
UPDATE doc_changes SET doc_id = (SELECT d.area_id || ':' || d.id FROM docs d WHERE d.id = doc_changes.doc_id)
    WHERE doc_id IN (SELECT id FROM docs WHERE kind = 'response');
UPDATE device_docs SET doc_id = (SELECT d.area_id || ':' || d.id FROM docs d WHERE d.id = device_docs.doc_id)
    WHERE doc_id IN (SELECT id FROM docs WHERE kind = 'response');
UPDATE answers SET response_id = (SELECT r.area_id || ':' || r.id FROM responses r WHERE r.id = answers.response_id);
UPDATE responses SET id = area_id || ':' || id;
UPDATE erasures SET doc_id = area_id || ':' || doc_id;
UPDATE docs SET id = area_id || ':' || id WHERE kind = 'response';
ALTER TABLE responses ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
UPDATE responses SET counted = (status = 'submitted');
CREATE TABLE problems (
    response_id TEXT NOT NULL, area_id TEXT NOT NULL, form_id TEXT NOT NULL, form_version TEXT NOT NULL,
    subject TEXT, kind TEXT NOT NULL);
CREATE INDEX problems_response ON problems (response_id);
CREATE INDEX problems_area ON problems (area_id);
ALTER TABLE areas ADD COLUMN lists_version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE area_lists (
    area_id TEXT NOT NULL REFERENCES areas (id), dim TEXT NOT NULL, position INTEGER NOT NULL,
    value TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY (area_id, dim, value)) WITHOUT ROWID;
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL, first_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT, response_key TEXT NOT NULL, area_id TEXT NOT NULL,
    raised_at INTEGER NOT NULL, form_id TEXT NOT NULL, form_version TEXT NOT NULL, trigger TEXT NOT NULL,
    level TEXT NOT NULL, setting TEXT, occasion TEXT, practitioner TEXT, status TEXT NOT NULL,
    status_by TEXT, status_at INTEGER, note TEXT, UNIQUE (response_key, trigger));
CREATE INDEX flags_area ON flags (area_id, id);
",
    "
CREATE TABLE survey_links (
    id TEXT PRIMARY KEY NOT NULL, area_id TEXT NOT NULL REFERENCES areas (id),
    token_hash BLOB NOT NULL UNIQUE, form_id TEXT NOT NULL, single_use INTEGER NOT NULL,
    closes_at INTEGER, cap INTEGER, used INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX survey_links_area ON survey_links (area_id, created_at);
",
    "
CREATE TABLE published_tallies (
    area_id TEXT NOT NULL, form_id TEXT NOT NULL, question TEXT NOT NULL, month TEXT NOT NULL,
    form_version TEXT NOT NULL, setting TEXT NOT NULL, age_phase TEXT NOT NULL, need TEXT NOT NULL,
    pathway TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value)
) WITHOUT ROWID;
CREATE TABLE publications (
    area_id TEXT PRIMARY KEY NOT NULL REFERENCES areas (id), through TEXT NOT NULL, at INTEGER NOT NULL);
ALTER TABLE responses ADD COLUMN counted_in TEXT;
UPDATE responses SET counted_in = month WHERE counted;
CREATE TABLE published_quotes (
    response_key TEXT NOT NULL, question TEXT NOT NULL, area_id TEXT NOT NULL, form_id TEXT NOT NULL,
    form_version TEXT NOT NULL, month TEXT NOT NULL, setting TEXT NOT NULL, age_phase TEXT NOT NULL,
    need TEXT NOT NULL, pathway TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (response_key, question)) WITHOUT ROWID;
CREATE INDEX published_quotes_area ON published_quotes (area_id, form_id, question, month);
",
    "
-- Live tallies keep each count once, with all four dimensions, by month first
-- (publication reads a month's and adds up the rollups). A new name, so that a
-- server of an earlier version stops rather than mix rollups in. The runner
-- recounts them from the projections.
DROP TABLE tallies;
CREATE TABLE live_tallies (
    area_id TEXT NOT NULL, month TEXT NOT NULL, form_id TEXT NOT NULL, question TEXT NOT NULL,
    form_version TEXT NOT NULL, setting TEXT NOT NULL, age_phase TEXT NOT NULL, need TEXT NOT NULL,
    pathway TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (area_id, month, form_id, question, form_version, setting, age_phase, need, pathway, value)
) WITHOUT ROWID;
",
];

/// SQLite-backed storage.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    /// The database file (`None` in memory): long reads (exports) open
    /// their own connection, so they never hold up writers.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStorage")
    }
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

    fn setup(conn: Connection, path: Option<PathBuf>) -> Result<Self> {
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

    fn read_tallies(&self, query: &TallyQuery, from: Tallies) -> Result<Vec<TallyRow>> {
        let (sql, params) = tallies_sql(query, from, &|i| format!("?{i}"));
        let conn = self.lock();
        let dims = query.dims.len();
        all(
            &mut *conn.prepare_cached(&sql)?,
            rusqlite::params_from_iter(params.iter()),
            |r| rows::tally_row(r, dims),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let mut tx = SqliteTx(conn.transaction_with_behavior(behavior)?);
        let out = f(&mut tx)?;
        tx.0.commit()?;
        Ok(out)
    }
}

/// Every row of a statement, mapped.
/// Ids as one JSON array parameter (read with `json_each`): a list in one
/// statement.
fn json_array(ids: &[&str]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

fn all<T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    f: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// The first row of a statement, mapped.
fn first<T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    f: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut rows = stmt.query(params)?;
    rows.next()?.map(f).transpose()
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A unique-constraint failure as `Exists(what)`.
fn exists(e: rusqlite::Error, what: String) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::Exists(what)
        }
        e => e.into(),
    }
}

/// One transaction on the storage's connection.
pub struct SqliteTx<'t>(Transaction<'t>);

impl std::fmt::Debug for SqliteTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteTx")
    }
}

impl Backend for SqliteStorage {
    type Tx<'t> = SqliteTx<'t>;

    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;

    fn write<T>(
        &self,
        _lock: &[String],
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        // One connection: an immediate transaction excludes every other
        // writer already.
        self.transaction(TransactionBehavior::Immediate, f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut SqliteTx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    fn migration<T>(&self, f: impl FnOnce(&mut SqliteTx<'_>) -> Result<T>) -> Result<T> {
        // The version is read inside the write transaction, so two
        // processes starting at once cannot both run a migration.
        self.transaction(TransactionBehavior::Immediate, f)
    }
}

impl SchemaTx for SqliteTx<'_> {
    fn schema_version(&mut self) -> Result<usize> {
        let v: i64 = self.0.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn set_schema_version(&mut self, version: usize) -> Result<()> {
        Ok(self.0.pragma_update(
            None,
            "user_version",
            i64::try_from(version).unwrap_or(i64::MAX),
        )?)
    }
}

impl DocTx for SqliteTx<'_> {
    fn next_seq(&mut self) -> Result<i64> {
        Ok(self.0.query_row(
            "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
            [],
            |r| r.get(0),
        )?)
    }

    fn reserve_seqs(&mut self, n: i64) -> Result<i64> {
        let last: i64 = self.0.query_row(
            "UPDATE counters SET value = value + ?1 WHERE name = 'seq' RETURNING value",
            [n],
            |r| r.get(0),
        )?;
        Ok(last - n + 1)
    }

    fn current_seq(&mut self) -> Result<i64> {
        Ok(self
            .0
            .query_row("SELECT value FROM counters WHERE name = 'seq'", [], |r| {
                r.get(0)
            })?)
    }

    fn lock_writers(&mut self) -> Result<()> {
        // Write transactions are immediate: the lock is held already.
        Ok(())
    }

    fn is_erased(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM erasures WHERE doc_id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn erased_among(&mut self, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT doc_id FROM erasures WHERE doc_id IN (SELECT value FROM json_each(?1))",
        )?;
        Ok(all(&mut stmt, [json_array(ids)], |r| r.text(0))?
            .into_iter()
            .collect())
    }

    fn doc_versions(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, seq FROM docs WHERE id IN (SELECT value FROM json_each(?1))",
        )?;
        Ok(all(&mut stmt, [json_array(ids)], |r| {
            Ok((r.text(0)?, r.int(1)?))
        })?
        .into_iter()
        .collect())
    }

    fn load_doc(&mut self, id: &str) -> Result<Option<StoredDoc>> {
        let head = first(
            &mut *self.0.prepare_cached(
                "SELECT area_id, kind, snapshot, n_changes, seq FROM docs WHERE id = ?1",
            )?,
            [id],
            |r| Ok((r.text(0)?, r.text(1)?, r.blob(2)?, r.int(3)?, r.int(4)?)),
        )?;
        let Some((area_id, kind, mut bytes, n_changes, seq)) = head else {
            return Ok(None);
        };
        if n_changes > 0 {
            let mut stmt = self
                .0
                .prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY n")?;
            for chunk in all(&mut stmt, [id], |r| r.blob(0))? {
                bytes.extend(chunk);
            }
        }
        Ok(Some(StoredDoc {
            area_id,
            kind: rows::kind(&kind)?,
            bytes,
            n_changes,
            seq,
        }))
    }

    fn doc_owner(&mut self, id: &str) -> Result<Option<(String, DocKind)>> {
        let owner = first(
            &mut *self
                .0
                .prepare_cached("SELECT area_id, kind FROM docs WHERE id = ?1")?,
            [id],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )?;
        owner.map(|(a, k)| Ok((a, rows::kind(&k)?))).transpose()
    }

    fn insert_doc(&mut self, d: &DocRow<'_>) -> Result<bool> {
        Ok(self
            .0
            .prepare_cached(
                "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![d.id, d.area_id, d.kind.as_str(), d.form_id, d.seq, encode_heads(d.heads), d.bytes])?
            > 0)
    }

    fn doc_exists(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM docs WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn append_change(
        &mut self,
        id: &str,
        seq: i64,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<()> {
        let n: i64 = self
            .0
            .prepare_cached(
                "UPDATE docs SET seq = ?2, heads = ?3, n_changes = n_changes + 1 WHERE id = ?1 RETURNING n_changes",
            )?
            .query_row(params![id, seq, encode_heads(heads)], |r| r.get(0))?;
        self.0
            .prepare_cached("INSERT INTO doc_changes (doc_id, n, bytes) VALUES (?1, ?2, ?3)")?
            .execute(params![id, n, bytes])?;
        Ok(())
    }

    fn delete_doc(&mut self, id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM doc_changes WHERE doc_id = ?1",
            "DELETE FROM docs WHERE id = ?1",
            "DELETE FROM device_docs WHERE doc_id = ?1",
        ] {
            self.0.prepare_cached(sql)?.execute([id])?;
        }
        Ok(())
    }

    fn record_erasure(&mut self, id: &str, area_id: &str, seq: i64) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO erasures (doc_id, area_id, seq) VALUES (?1, ?2, ?3) ON CONFLICT (doc_id) DO NOTHING",
            )?
            .execute(params![id, area_id, seq])?;
        Ok(())
    }

    fn area_forms(&mut self, area_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT id, snapshot FROM docs WHERE area_id = ?1 AND kind = 'form' ORDER BY id",
            )?,
            [area_id],
            |r| Ok((r.text(0)?, r.blob(1)?)),
        )
    }

    fn doc_ids(&mut self, kind: DocKind, after: &str, n: usize) -> Result<Vec<String>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT id FROM docs WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )?,
            params![kind.as_str(), after, limit(n)],
            |r| r.text(0),
        )
    }

    fn put_snapshots(&mut self, docs: &[DocRow<'_>]) -> Result<()> {
        // In-process: one prepared statement run per row costs no round
        // trips.
        for d in docs {
            self.put_snapshot(d)?;
        }
        Ok(())
    }

    fn set_device_heads(&mut self, device_id: &str, docs: &[(&str, &[ChangeHash])]) -> Result<()> {
        for (doc_id, heads) in docs {
            self.set_device_heads_one(device_id, doc_id, heads)?;
        }
        Ok(())
    }

    fn projections(&mut self, ids: &[&str]) -> Result<HashMap<String, Projection>> {
        let mut out = HashMap::new();
        for key in ids {
            if let Some(mut p) = self.projection(key)? {
                if p.status == Status::Submitted {
                    p.answers = self.projected_answers(key)?;
                }
                out.insert((*key).to_owned(), p);
            }
        }
        Ok(out)
    }

    fn write_projections(&mut self, rows: &[ProjectionRow<'_>]) -> Result<()> {
        for r in rows {
            self.write_projection(r.id, r.area_id, r.projection)?;
        }
        Ok(())
    }

    fn projected_answers(&mut self, id: &str) -> Result<Vec<AnswerRow>> {
        all(
            &mut *self.0.prepare_cached(&format!(
                "SELECT {} FROM answers WHERE response_id = ?1 ORDER BY question",
                rows::ANSWER
            ))?,
            [id],
            |r| rows::answer_row(r),
        )
    }

    fn response_ids(&mut self) -> Result<Vec<String>> {
        all(&mut self.0.prepare("SELECT id FROM responses")?, [], |r| {
            r.text(0)
        })
    }

    fn set_packed(&mut self, id: &str, packed: &str) -> Result<()> {
        self.0
            .prepare_cached("UPDATE responses SET packed = ?2 WHERE id = ?1")?
            .execute(params![id, packed])?;
        Ok(())
    }

    fn submitted_after(&mut self, after: &str, n: usize) -> Result<Vec<(String, String)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT id, area_id FROM responses WHERE id > ?1 AND counted ORDER BY id LIMIT ?2",
            )?,
            params![after, limit(n)],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
    }

    fn add_tallies(&mut self, rows: &[(&str, TallyKey, i64)]) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO live_tallies (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for (area_id, k, by) in rows {
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

    fn clear_tallies(&mut self) -> Result<()> {
        self.0.execute("DELETE FROM live_tallies", [])?;
        Ok(())
    }

    fn published_through(&mut self, area_id: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row(
                "SELECT through FROM publications WHERE area_id = ?1",
                [area_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn publish_months(
        &mut self,
        area_id: &str,
        after: Option<&str>,
        through: &str,
        at: i64,
    ) -> Result<()> {
        self.0.execute(
            &publish_tallies_sql(&|i| format!("?{i}")),
            params![area_id, after.unwrap_or(""), through],
        )?;
        self.0.execute(
            &publish_quotes_sql(&|i| format!("?{i}")),
            params![area_id, after.unwrap_or(""), through],
        )?;
        self.0.execute(
            "INSERT INTO publications (area_id, through, at) VALUES (?1, ?2, ?3)
             ON CONFLICT (area_id) DO UPDATE SET through = excluded.through, at = excluded.at",
            params![area_id, through, at],
        )?;
        Ok(())
    }

    fn forms_between(
        &mut self,
        area_id: &str,
        after: i64,
        upto: i64,
        n: usize,
    ) -> Result<Vec<(i64, String)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT seq, id FROM docs WHERE area_id = ?1 AND kind = 'form' AND seq > ?2 AND seq <= ?3
                 ORDER BY seq LIMIT ?4",
            )?,
            params![area_id, after, upto, limit(n)],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
    }

    fn device_docs_between(
        &mut self,
        device_id: &str,
        after: i64,
        upto: i64,
        n: usize,
    ) -> Result<Vec<(i64, String, Vec<ChangeHash>)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT d.seq, d.id, dd.heads FROM docs d JOIN device_docs dd ON dd.doc_id = d.id AND dd.device_id = ?1
                 WHERE d.seq > ?2 AND d.seq <= ?3 AND d.heads != dd.heads ORDER BY d.seq LIMIT ?4",
            )?,
            params![device_id, after, upto, limit(n)],
            |r| Ok((r.int(0)?, r.text(1)?, decode_heads(&r.blob(2)?))),
        )
    }

    fn erasures_between(
        &mut self,
        area_id: &str,
        after: i64,
        upto: i64,
        n: usize,
    ) -> Result<Vec<(i64, String)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT seq, doc_id FROM erasures WHERE area_id = ?1 AND seq > ?2 AND seq <= ?3
                 ORDER BY seq LIMIT ?4",
            )?,
            params![area_id, after, upto, limit(n)],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
    }

    fn lists_version(&mut self, area_id: &str) -> Result<i64> {
        Ok(first(
            &mut *self
                .0
                .prepare_cached("SELECT lists_version FROM areas WHERE id = ?1")?,
            [area_id],
            |r| r.int(0),
        )?
        .unwrap_or(0))
    }

    fn list_items(&mut self, area_id: &str) -> Result<Vec<(String, String, String)>> {
        all(
            &mut *self.0.prepare_cached(
                "SELECT dim, value, label FROM area_lists WHERE area_id = ?1 ORDER BY dim, position",
            )?,
            [area_id],
            |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)),
        )
    }

    fn replace_lists(&mut self, area_id: &str, lists: &AreaLists) -> Result<()> {
        self.0
            .execute("DELETE FROM area_lists WHERE area_id = ?1", [area_id])?;
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO area_lists (area_id, dim, position, value, label) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for dim in ListDim::ALL {
            for (i, item) in (0i64..).zip(lists.list(dim)) {
                stmt.execute(params![area_id, dim.as_str(), i, item.id, item.label])?;
            }
        }
        self.0.execute(
            "UPDATE areas SET lists_version = ?2 WHERE id = ?1",
            params![area_id, lists.version],
        )?;
        Ok(())
    }
}

/// The single-row statements the batch methods run.
impl SqliteTx<'_> {
    fn put_snapshot(&mut self, d: &DocRow<'_>) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
            .execute([d.id])?;
        self.0
            .prepare_cached(
                "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot, n_changes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
                     snapshot = excluded.snapshot, n_changes = 0",
            )?
            .execute(params![
                d.id,
                d.area_id,
                d.kind.as_str(),
                d.form_id,
                d.seq,
                encode_heads(d.heads),
                d.bytes
            ])?;
        Ok(())
    }

    fn set_device_heads_one(
        &mut self,
        device_id: &str,
        doc_id: &str,
        heads: &[ChangeHash],
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO device_docs (device_id, doc_id, heads) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads",
            )?
            .execute(params![device_id, doc_id, encode_heads(heads)])?;
        Ok(())
    }

    fn projection(&mut self, id: &str) -> Result<Option<Projection>> {
        first(
            &mut *self.0.prepare_cached(&format!(
                "SELECT {} FROM responses WHERE id = ?1",
                rows::PROJECTION
            ))?,
            [id],
            |r| rows::projection(r),
        )
    }

    fn write_projection(&mut self, id: &str, area_id: &str, p: Option<&Projection>) -> Result<()> {
        let tx = &self.0;
        tx.prepare_cached("DELETE FROM answers WHERE response_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM problems WHERE response_id = ?1")?
            .execute([id])?;
        let Some(p) = p else {
            tx.prepare_cached("DELETE FROM responses WHERE id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM flags WHERE response_key = ?1")?
                .execute([id])?;
            // The words go; the writer's groups stay, unlinked, so the
            // sets of quotes served do not change (`report::quotes`).
            tx.prepare_cached(
                "UPDATE published_quotes SET text = '',
                     response_key = 'erased-' || lower(hex(randomblob(16)))
                 WHERE response_key = ?1",
            )?
            .execute([id])?;
            return Ok(());
        };
        tx.prepare_cached(
            "INSERT INTO responses (id, area_id, form_id, form_version, status, setting, age_phase, need, pathway,
                 kiosk, captured_at, submitted_at, month, flags, packed, counted, counted_in)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (id) DO UPDATE SET form_id = excluded.form_id, form_version = excluded.form_version,
                 status = excluded.status, counted = excluded.counted, setting = excluded.setting,
                 age_phase = excluded.age_phase,
                 need = excluded.need, pathway = excluded.pathway, kiosk = excluded.kiosk,
                 captured_at = excluded.captured_at, submitted_at = excluded.submitted_at,
                 month = excluded.month, flags = excluded.flags, packed = excluded.packed,
                 counted_in = excluded.counted_in",
        )?
        .execute(params![
            id,
            area_id,
            p.form_id,
            p.form_version,
            p.status.as_str(),
            p.setting,
            p.age_phase,
            p.need,
            p.pathway,
            p.kiosk,
            p.captured_at,
            p.submitted_at,
            p.month,
            p.flags,
            pack_answers(&p.answers),
            p.counted,
            p.counted_in_month()
        ])?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO answers (response_id, question, kind, value_text, value_num) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for a in &p.answers {
            stmt.execute(params![id, a.question, a.kind, a.value_text, a.value_num])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO problems (response_id, area_id, form_id, form_version, subject, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for problem in &p.problems {
            stmt.execute(params![
                id,
                area_id,
                p.form_id,
                p.form_version,
                problem.subject(),
                problem.kind()
            ])?;
        }
        // A flag once raised stays, its follow-up with it.
        let mut stmt = tx.prepare_cached(
            "INSERT INTO flags (response_key, area_id, raised_at, form_id, form_version, trigger, level,
                 setting, occasion, practitioner, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'new')
             ON CONFLICT (response_key, trigger) DO UPDATE SET setting = excluded.setting,
                 occasion = excluded.occasion, practitioner = excluded.practitioner",
        )?;
        if let Some(s) = &p.safeguarding {
            for (trigger, level, at) in &s.raised {
                stmt.execute(params![
                    id,
                    area_id,
                    at,
                    p.form_id,
                    p.form_version,
                    trigger,
                    level,
                    p.setting,
                    s.occasion,
                    s.practitioner
                ])?;
            }
        }
        Ok(())
    }
}

impl Tenancy for SqliteStorage {
    fn create_area(&self, name: &str) -> Result<Area> {
        let area = Area {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
        };
        self.lock()
            .execute(
                "INSERT INTO areas (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![area.id, area.name, now_ms()],
            )
            .map_err(|e| exists(e, format!("area '{name}'")))?;
        Ok(area)
    }

    fn area_by_name(&self, name: &str) -> Result<Option<Area>> {
        let conn = self.lock();
        first(
            &mut *conn
                .prepare_cached(&format!("SELECT {} FROM areas WHERE name = ?1", rows::AREA))?,
            [name],
            |r| rows::area(r),
        )
    }

    fn area(&self, id: &str) -> Result<Option<Area>> {
        let conn = self.lock();
        first(
            &mut *conn
                .prepare_cached(&format!("SELECT {} FROM areas WHERE id = ?1", rows::AREA))?,
            [id],
            |r| rows::area(r),
        )
    }

    fn areas(&self) -> Result<Vec<Area>> {
        let conn = self.lock();
        all(
            &mut *conn
                .prepare_cached(&format!("SELECT {} FROM areas ORDER BY name", rows::AREA))?,
            [],
            |r| rows::area(r),
        )
    }

    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()> {
        self.lock().execute(
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
        self.transaction(TransactionBehavior::Immediate, |tx| {
            let area = first(
                &mut tx.0.prepare(
                    "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING area_id, (SELECT name FROM areas WHERE areas.id = enrol_codes.area_id)",
                )?,
                params![code_hash, now],
                |r| rows::area(r),
            )?;
            let Some(area) = area else {
                return Ok(None);
            };
            tx.0.execute(
                "INSERT INTO devices (id, area_id, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![device.id, area.id, device.token_hash, device.label, now],
            )?;
            Ok(Some(area))
        })
    }

    fn device(&self, id: &str) -> Result<Option<Device>> {
        let conn = self.lock();
        first(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM devices WHERE id = ?1",
                rows::DEVICE
            ))?,
            [id],
            |r| rows::device(r),
        )
    }

    fn revoke_device(&self, id: &str) -> Result<bool> {
        // Keeps the first revocation time; matches (so counts) any existing
        // device.
        Ok(self.lock().execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            params![id, now_ms()],
        )? > 0)
    }
}

impl Reads for SqliteStorage {
    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT count(*) FROM responses WHERE area_id = ?1 AND counted AND (?2 IS NULL OR form_id = ?2)",
            params![area_id, form_id],
            |r| r.get(0),
        )?)
    }

    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<AnswerCell>> {
        let conn = self.lock();
        all(
            &mut conn.prepare(
                "SELECT a.response_id, a.question, a.value_text, a.value_num FROM answers a
                 JOIN responses r ON r.id = a.response_id
                 WHERE r.area_id = ?1 AND r.form_id = ?2 AND r.counted
                 ORDER BY a.response_id, a.question",
            )?,
            params![area_id, form_id],
            |r| {
                Ok((
                    rows::response_id(r.text(0)?),
                    r.text(1)?,
                    r.opt_text(2)?,
                    r.opt_int(3)?,
                ))
            },
        )
    }

    fn tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>> {
        self.read_tallies(query, Tallies::Published)
    }

    fn live_tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>> {
        self.read_tallies(query, Tallies::Live)
    }

    fn free_text(&self, query: &TallyQuery) -> Result<Vec<PublishedQuote>> {
        let (sql, params) = free_text_sql(query, &|i| format!("?{i}"));
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&sql)?,
            rusqlite::params_from_iter(params.iter()),
            |r| rows::published_quote(r),
        )
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
        // One row per response with its answers packed: a plain scan, no
        // join, no sort.
        let sql = format!(
            "SELECT {} FROM responses WHERE area_id = ?1 AND counted AND form_id IN ({})",
            rows::EXPORT,
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
                each(rows::export_record(r, with_text)?)?;
            }
            Ok(())
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    fn problems(&self, area_id: &str) -> Result<Vec<ProblemCount>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM problems WHERE area_id = ?1 {}",
                rows::PROBLEM_COUNT,
                rows::PROBLEM_GROUPS
            ))?,
            [area_id],
            |r| rows::problem_count(r),
        )
    }
}

impl Accounts for SqliteStorage {
    fn create_user(&self, user: &User) -> Result<()> {
        self.lock()
            .execute(
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
            )
            .map_err(|e| exists(e, format!("user '{}'", user.username)))?;
        Ok(())
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let conn = self.lock();
        first(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM users WHERE username = ?1",
                rows::user_columns("")
            ))?,
            [username],
            |r| rows::user(r),
        )
    }

    fn users(&self, area_id: &str) -> Result<Vec<User>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM users WHERE area_id = ?1 ORDER BY username",
                rows::user_columns("")
            ))?,
            [area_id],
            |r| rows::user(r),
        )
    }

    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool> {
        self.transaction(TransactionBehavior::Immediate, |tx| {
            let changed = tx.0.execute(
                "UPDATE users SET password_hash = ?2 WHERE username = ?1",
                params![username, password_hash],
            )? > 0;
            // A new password ends every session of the user.
            tx.0.execute(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?1)",
                [username],
            )?;
            Ok(changed)
        })
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
        first(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                rows::user_columns("u.")
            ))?,
            params![token_hash, now],
            |r| rows::user(r),
        )
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        self.lock()
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn sign_in_failures(&self, key: &str) -> Result<Option<Failures>> {
        let conn = self.lock();
        first(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM sign_in_failures WHERE key = ?1",
                rows::FAILURES
            ))?,
            [key],
            |r| rows::failures(r),
        )
    }

    fn set_sign_in_failures(&self, key: &str, failures: Option<&Failures>) -> Result<()> {
        let conn = self.lock();
        match failures {
            None => conn.execute("DELETE FROM sign_in_failures WHERE key = ?1", [key])?,
            Some(f) => conn.execute(
                "INSERT INTO sign_in_failures (key, count, first_at, locked_until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at,
                     locked_until = excluded.locked_until",
                params![key, f.count, f.first_at, f.locked_until],
            )?,
        };
        Ok(())
    }
}

impl AuditLog for SqliteStorage {
    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.lock()
            .prepare_cached(
                "INSERT INTO audit (at, area_id, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![e.at, e.area_id, e.actor, e.action, e.detail])?;
        Ok(())
    }

    fn audit_log(&self, area_id: &str, before: i64, n: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM audit WHERE area_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
                rows::AUDIT
            ))?,
            params![area_id, before, limit(n)],
            |r| rows::audit_entry(r),
        )
    }
}

impl Notes for SqliteStorage {
    fn put_note(&self, n: &Note) -> Result<()> {
        self.lock().execute(
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
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM notes WHERE area_id = ?1 ORDER BY updated_at DESC, id",
                rows::NOTE
            ))?,
            [area_id],
            |r| rows::note(r),
        )
    }

    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool> {
        Ok(self.lock().execute(
            "DELETE FROM notes WHERE area_id = ?1 AND id = ?2",
            params![area_id, id],
        )? > 0)
    }
}

impl Links for SqliteStorage {
    fn create_link(&self, l: &SurveyLink, token_hash: &[u8]) -> Result<()> {
        self.lock().execute(
            "INSERT INTO survey_links (id, area_id, token_hash, form_id, single_use, closes_at, cap,
                 used, created_at, created_by, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                l.id,
                l.area_id,
                token_hash,
                l.form_id,
                l.single_use,
                l.closes_at,
                l.cap,
                l.used,
                l.created_at,
                l.created_by,
                l.revoked
            ],
        )?;
        Ok(())
    }

    fn links(&self, area_id: &str) -> Result<Vec<SurveyLink>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM survey_links WHERE area_id = ?1 ORDER BY created_at DESC, id",
                rows::LINK
            ))?,
            [area_id],
            |r| rows::link(r),
        )
    }

    fn link_by_token(&self, token_hash: &[u8]) -> Result<Option<SurveyLink>> {
        let conn = self.lock();
        conn.prepare_cached(&format!(
            "SELECT {} FROM survey_links WHERE token_hash = ?1",
            rows::LINK
        ))?
        .query_row([token_hash], |r| Ok(rows::link(r)))
        .optional()?
        .transpose()
    }

    fn claim_link(&self, id: &str, now: i64) -> Result<bool> {
        Ok(self.lock().execute(
            "UPDATE survey_links SET used = used + 1
             WHERE id = ?1 AND revoked = 0 AND (closes_at IS NULL OR ?2 < closes_at)
                 AND (cap IS NULL OR used < cap)",
            params![id, now],
        )? == 1)
    }

    fn release_link(&self, id: &str) -> Result<()> {
        self.lock().execute(
            "UPDATE survey_links SET used = used - 1 WHERE id = ?1 AND used > 0",
            [id],
        )?;
        Ok(())
    }

    fn revoke_link(&self, area_id: &str, id: &str) -> Result<bool> {
        Ok(self.lock().execute(
            "UPDATE survey_links SET revoked = 1 WHERE area_id = ?1 AND id = ?2",
            params![area_id, id],
        )? > 0)
    }
}

impl SafeguardingList for SqliteStorage {
    fn flags(
        &self,
        area_id: &str,
        status: Option<FlagStatus>,
        before: i64,
        n: usize,
    ) -> Result<Vec<Flag>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM flags WHERE area_id = ?1 AND (?2 IS NULL OR status = ?2) AND id < ?3
                 ORDER BY id DESC LIMIT ?4",
                rows::FLAG
            ))?,
            params![area_id, status.map(FlagStatus::as_str), before, limit(n)],
            |r| rows::flag(r),
        )
    }

    fn flags_after(&self, area_id: &str, after: i64, n: usize) -> Result<Vec<Flag>> {
        let conn = self.lock();
        all(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM flags WHERE area_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                rows::FLAG
            ))?,
            params![area_id, after, limit(n)],
            |r| rows::flag(r),
        )
    }

    fn flag(&self, area_id: &str, id: i64) -> Result<Option<Flag>> {
        let conn = self.lock();
        first(
            &mut *conn.prepare_cached(&format!(
                "SELECT {} FROM flags WHERE area_id = ?1 AND id = ?2",
                rows::FLAG
            ))?,
            params![area_id, id],
            |r| rows::flag(r),
        )
    }

    fn set_flag_status(
        &self,
        area_id: &str,
        id: i64,
        status: FlagStatus,
        by: &str,
        at: i64,
        note: Option<&str>,
    ) -> Result<bool> {
        Ok(self.lock().execute(
            "UPDATE flags SET status = ?3, status_by = ?4, status_at = ?5, note = coalesce(?6, note)
             WHERE area_id = ?1 AND id = ?2",
            params![area_id, id, status.as_str(), by, at, note],
        )? > 0)
    }

    fn count_flags(&self, area_id: &str, status: FlagStatus) -> Result<i64> {
        Ok(self.lock().query_row(
            "SELECT count(*) FROM flags WHERE area_id = ?1 AND status = ?2",
            params![area_id, status.as_str()],
            |r| r.get(0),
        )?)
    }
}
