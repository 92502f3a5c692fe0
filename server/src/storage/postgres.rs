//! PostgreSQL storage: for larger deployments and for several server
//! processes sharing one database. Behaves exactly like the SQLite storage
//! (the conformance suites in `tests.rs` run against both). SQL and row
//! mapping only: the algorithms are `documents.rs`'s.
//!
//! Concurrency between server processes:
//!
//! - migrations run in one transaction under a transaction-level advisory
//!   lock, so two processes starting at once apply each migration once;
//! - every writing transaction takes the next sequence number from the
//!   `counters` row (`UPDATE … RETURNING`), whose row lock orders committing
//!   writers (see the module documentation of [`super`]);
//! - `ingest` and `erase` first take transaction-level advisory locks on
//!   the documents' ids (hashed into a few buckets, locked in a fixed order,
//!   so batches cannot deadlock), then lock each existing document row
//!   `FOR UPDATE` before merging: two servers merging the same document, even
//!   one that does not exist yet (which `FOR UPDATE` alone cannot lock), take
//!   turns, and neither overwrites the other's changes;
//! - reads that span several statements (`pending`, `load`) run in one
//!   read-only `REPEATABLE READ` transaction, so they see one snapshot.

use std::collections::{HashMap, HashSet};

use automerge::ChangeHash;
use hark_core::doc::{DocKind, decode_heads, encode_heads, now_ms};
use hark_core::lists::{AreaLists, ListDim};
use hark_core::response::Status;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{GenericClient, IsolationLevel, NoTls, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use sha2::{Digest, Sha256};

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

type Manager = PostgresConnectionManager<NoTls>;

/// Most connections the pool opens.
const POOL_SIZE: u32 = 16;

/// The first key of hark's advisory locks (two-key form): `'hark'`.
const LOCK_CLASS: i32 = 0x6861_726b;

/// The second key of the lock held while migrating.
const MIGRATION_LOCK: i32 = -1;

/// Documents are locked by bucket (second keys `0..DOC_LOCK_BUCKETS`), so a
/// transaction holds at most this many advisory locks however many
/// documents it touches (PostgreSQL's lock table is small: 64 locks per
/// connection by default). Sharing a bucket costs little: writers are
/// serialised by the sequence counter anyway.
const DOC_LOCK_BUCKETS: u64 = 64;

/// Tally rows per `INSERT … SELECT FROM unnest(…)` statement.
const TALLY_CHUNK: usize = 5000;

/// Numbered migrations: migration `i` (from 0) is version `i + 1` in
/// `schema_migrations`. Text compares bytewise (`COLLATE "C"`), as in
/// SQLite, whatever the database's default collation (and every text column
/// has the same collation, so joins need no `COLLATE` clause).
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE counters (name TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('seq', 0);
CREATE TABLE areas (
    id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, created_at BIGINT NOT NULL);
CREATE TABLE devices (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id),
    token_hash BYTEA NOT NULL, label TEXT COLLATE "C" NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);
CREATE TABLE enrol_codes (
    code_hash BYTEA PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id),
    expires_at BIGINT NOT NULL, used_at BIGINT);
CREATE TABLE docs (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL,
    form_id TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, heads BYTEA NOT NULL, snapshot BYTEA NOT NULL,
    n_changes BIGINT NOT NULL DEFAULT 0);
CREATE INDEX docs_seq ON docs (seq);
CREATE INDEX docs_area_kind_seq ON docs (area_id, kind, seq);
CREATE TABLE doc_changes (
    doc_id TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (doc_id, n));
CREATE TABLE device_docs (
    device_id TEXT COLLATE "C" NOT NULL, doc_id TEXT COLLATE "C" NOT NULL, heads BYTEA NOT NULL,
    PRIMARY KEY (device_id, doc_id));
CREATE INDEX device_docs_doc ON device_docs (doc_id);
CREATE TABLE erasures (
    doc_id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL);
CREATE INDEX erasures_area_seq ON erasures (area_id, seq);
CREATE TABLE responses (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL, form_id TEXT COLLATE "C" NOT NULL,
    form_version TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL, setting TEXT COLLATE "C",
    age_phase TEXT COLLATE "C", need TEXT COLLATE "C", pathway TEXT COLLATE "C", kiosk BOOLEAN NOT NULL,
    captured_at BIGINT NOT NULL, submitted_at BIGINT, month TEXT COLLATE "C" NOT NULL, flags BIGINT NOT NULL);
CREATE INDEX responses_area_form ON responses (area_id, form_id, status);
CREATE TABLE answers (
    response_id TEXT COLLATE "C" NOT NULL, question TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL,
    value_text TEXT COLLATE "C", value_num BIGINT, PRIMARY KEY (response_id, question));
"#,
    r#"
ALTER TABLE responses ADD COLUMN packed TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE TABLE tallies (
    area_id TEXT COLLATE "C" NOT NULL, form_id TEXT COLLATE "C" NOT NULL, question TEXT COLLATE "C" NOT NULL,
    month TEXT COLLATE "C" NOT NULL, form_version TEXT COLLATE "C" NOT NULL, setting TEXT COLLATE "C" NOT NULL,
    age_phase TEXT COLLATE "C" NOT NULL, need TEXT COLLATE "C" NOT NULL, pathway TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value));
CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id),
    username TEXT COLLATE "C" NOT NULL UNIQUE, password_hash TEXT COLLATE "C" NOT NULL, role TEXT COLLATE "C" NOT NULL,
    free_text BOOLEAN NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY, user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id), expires_at BIGINT NOT NULL);
CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, area_id TEXT COLLATE "C" NOT NULL, actor TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL, detail TEXT COLLATE "C" NOT NULL);
CREATE INDEX audit_area_seq ON audit (area_id, seq);
CREATE TABLE notes (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id),
    theme TEXT COLLATE "C" NOT NULL, you_said TEXT COLLATE "C" NOT NULL, we_did TEXT COLLATE "C" NOT NULL,
    author TEXT COLLATE "C" NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX notes_area ON notes (area_id, updated_at);
"#,
    r#"
UPDATE doc_changes SET doc_id = (SELECT d.area_id || ':' || d.id FROM docs d WHERE d.id = doc_changes.doc_id)
    WHERE doc_id IN (SELECT id FROM docs WHERE kind = 'response');
UPDATE device_docs SET doc_id = (SELECT d.area_id || ':' || d.id FROM docs d WHERE d.id = device_docs.doc_id)
    WHERE doc_id IN (SELECT id FROM docs WHERE kind = 'response');
UPDATE answers SET response_id = (SELECT r.area_id || ':' || r.id FROM responses r WHERE r.id = answers.response_id);
UPDATE responses SET id = area_id || ':' || id;
UPDATE erasures SET doc_id = area_id || ':' || doc_id;
UPDATE docs SET id = area_id || ':' || id WHERE kind = 'response';
ALTER TABLE responses ADD COLUMN counted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE responses SET counted = (status = 'submitted');
CREATE TABLE problems (
    response_id TEXT COLLATE "C" NOT NULL, area_id TEXT COLLATE "C" NOT NULL, form_id TEXT COLLATE "C" NOT NULL,
    form_version TEXT COLLATE "C" NOT NULL, subject TEXT COLLATE "C", kind TEXT COLLATE "C" NOT NULL);
CREATE INDEX problems_response ON problems (response_id);
CREATE INDEX problems_area ON problems (area_id);
ALTER TABLE areas ADD COLUMN lists_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE area_lists (
    area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id), dim TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL, value TEXT COLLATE "C" NOT NULL, label TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (area_id, dim, value));
CREATE TABLE sign_in_failures (
    key TEXT COLLATE "C" PRIMARY KEY, count BIGINT NOT NULL, first_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL);
CREATE TABLE flags (
    id BIGSERIAL PRIMARY KEY, response_key TEXT COLLATE "C" NOT NULL, area_id TEXT COLLATE "C" NOT NULL,
    raised_at BIGINT NOT NULL, form_id TEXT COLLATE "C" NOT NULL, form_version TEXT COLLATE "C" NOT NULL,
    trigger TEXT COLLATE "C" NOT NULL, level TEXT COLLATE "C" NOT NULL, setting TEXT COLLATE "C",
    occasion TEXT COLLATE "C", practitioner TEXT COLLATE "C", status TEXT COLLATE "C" NOT NULL,
    status_by TEXT COLLATE "C", status_at BIGINT, note TEXT COLLATE "C", UNIQUE (response_key, trigger));
CREATE INDEX flags_area ON flags (area_id, id);
"#,
    r#"
CREATE TABLE survey_links (
    id TEXT COLLATE "C" PRIMARY KEY, area_id TEXT COLLATE "C" NOT NULL REFERENCES areas (id),
    token_hash BYTEA NOT NULL UNIQUE, form_id TEXT COLLATE "C" NOT NULL, single_use BOOLEAN NOT NULL,
    closes_at BIGINT, cap BIGINT, used BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX survey_links_area ON survey_links (area_id, created_at);
"#,
    r#"
CREATE TABLE published_tallies (
    area_id TEXT COLLATE "C" NOT NULL, form_id TEXT COLLATE "C" NOT NULL, question TEXT COLLATE "C" NOT NULL,
    month TEXT COLLATE "C" NOT NULL, form_version TEXT COLLATE "C" NOT NULL, setting TEXT COLLATE "C" NOT NULL,
    age_phase TEXT COLLATE "C" NOT NULL, need TEXT COLLATE "C" NOT NULL, pathway TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value));
CREATE TABLE publications (
    area_id TEXT COLLATE "C" PRIMARY KEY REFERENCES areas (id), through TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL);
ALTER TABLE responses ADD COLUMN counted_in TEXT COLLATE "C";
UPDATE responses SET counted_in = month WHERE counted;
CREATE TABLE published_quotes (
    response_key TEXT COLLATE "C" NOT NULL, question TEXT COLLATE "C" NOT NULL, area_id TEXT COLLATE "C" NOT NULL,
    form_id TEXT COLLATE "C" NOT NULL, form_version TEXT COLLATE "C" NOT NULL, month TEXT COLLATE "C" NOT NULL,
    setting TEXT COLLATE "C" NOT NULL, age_phase TEXT COLLATE "C" NOT NULL, need TEXT COLLATE "C" NOT NULL,
    pathway TEXT COLLATE "C" NOT NULL, text TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (response_key, question));
CREATE INDEX published_quotes_area ON published_quotes (area_id, form_id, question, month);
"#,
    r#"
-- Live tallies keep each count once, with all four dimensions, by month first
-- (publication reads a month's and adds up the rollups). A new name, so that a
-- server of an earlier version stops rather than mix rollups in. The runner
-- recounts them from the projections.
DROP TABLE tallies;
CREATE TABLE live_tallies (
    area_id TEXT COLLATE "C" NOT NULL, month TEXT COLLATE "C" NOT NULL, form_id TEXT COLLATE "C" NOT NULL,
    question TEXT COLLATE "C" NOT NULL, form_version TEXT COLLATE "C" NOT NULL, setting TEXT COLLATE "C" NOT NULL,
    age_phase TEXT COLLATE "C" NOT NULL, need TEXT COLLATE "C" NOT NULL, pathway TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (area_id, month, form_id, question, form_version, setting, age_phase, need, pathway, value));
"#,
];

/// PostgreSQL-backed storage: a pool of connections to one database.
pub struct PostgresStorage {
    pool: Pool<Manager>,
}

impl std::fmt::Debug for PostgresStorage {
    // By hand: the connection string may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.pool.state();
        f.debug_struct("PostgresStorage")
            .field("max_connections", &self.pool.max_size())
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish()
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host/db`) with a
    /// pool of up to 16 connections, and migrates it.
    ///
    /// Call it from a plain thread or `spawn_blocking`, not from async code:
    /// the `postgres` client blocks.
    pub fn connect(url: &str) -> Result<Self> {
        let config: postgres::Config = url.parse()?;
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            // Open one connection at once (so a bad URL fails here), the
            // rest on demand.
            .min_idle(Some(1))
            .build(PostgresConnectionManager::new(config, NoTls))?;
        let s = Self { pool };
        s.migrate()?;
        Ok(s)
    }

    fn conn(&self) -> Result<PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    fn read_tallies(&self, query: &TallyQuery, from: Tallies) -> Result<Vec<TallyRow>> {
        let (sql, params) = tallies_sql(query, from, &|i| format!("${i}"));
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let dims = query.dims.len();
        all(&mut *self.conn()?, &sql, &params, |r| {
            rows::tally_row(r, dims)
        })
    }

    fn transaction<T>(&self, f: impl FnOnce(&mut PgTx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut tx = PgTx {
            tx: conn.transaction()?,
            locking: true,
        };
        let out = f(&mut tx)?;
        tx.tx.commit()?;
        Ok(out)
    }
}

/// The lock bucket of a document id: a stable hash, the same in every
/// server process.
fn doc_lock_bucket(id: &str) -> i32 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i32::try_from(u64::from_be_bytes(first) % DOC_LOCK_BUCKETS).unwrap_or(0)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A unique-constraint failure as `Exists(what)`.
fn exists(e: postgres::Error, what: String) -> Error {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        Error::Exists(what)
    } else {
        e.into()
    }
}

/// Every row of a query, mapped.
fn all<T>(
    c: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    f: impl Fn(&postgres::Row) -> Result<T>,
) -> Result<Vec<T>> {
    c.query(sql, params)?.iter().map(f).collect()
}

/// The first row of a query, mapped.
fn first<T>(
    c: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    f: impl Fn(&postgres::Row) -> Result<T>,
) -> Result<Option<T>> {
    c.query_opt(sql, params)?.as_ref().map(f).transpose()
}

/// One transaction. In a write transaction (`locking`) documents read are
/// locked `FOR UPDATE`.
pub struct PgTx<'t> {
    tx: Transaction<'t>,
    locking: bool,
}

impl std::fmt::Debug for PgTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTx")
            .field("locking", &self.locking)
            .finish()
    }
}

impl PgTx<'_> {
    fn for_update(&self) -> &'static str {
        if self.locking { " FOR UPDATE" } else { "" }
    }
}

impl Backend for PostgresStorage {
    type Tx<'t> = PgTx<'t>;

    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;

    fn write<T>(&self, lock: &[String], f: impl FnOnce(&mut PgTx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(|tx| {
            // The advisory lock of every id's bucket, in bucket order (the
            // same order in every transaction, and before the sequence
            // counter's row lock, so two transactions cannot deadlock).
            let mut buckets: Vec<i32> = lock.iter().map(|id| doc_lock_bucket(id)).collect();
            buckets.sort_unstable();
            buckets.dedup();
            for bucket in buckets {
                tx.tx.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)",
                    &[&LOCK_CLASS, &bucket],
                )?;
            }
            f(tx)
        })
    }

    fn read<T>(&self, f: impl FnOnce(&mut PgTx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut tx = PgTx {
            tx: conn
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?,
            locking: false,
        };
        let out = f(&mut tx)?;
        tx.tx.commit()?;
        Ok(out)
    }

    fn migration<T>(&self, f: impl FnOnce(&mut PgTx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(|tx| {
            tx.tx.execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&LOCK_CLASS, &MIGRATION_LOCK],
            )?;
            tx.tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
            )?;
            f(tx)
        })
    }
}

impl SchemaTx for PgTx<'_> {
    fn schema_version(&mut self) -> Result<usize> {
        let v: i64 = self
            .tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )?
            .try_get(0)?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.tx.batch_execute(sql)?)
    }

    fn set_schema_version(&mut self, version: usize) -> Result<()> {
        self.tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&limit(version)],
        )?;
        Ok(())
    }
}

impl DocTx for PgTx<'_> {
    fn next_seq(&mut self) -> Result<i64> {
        Ok(self
            .tx
            .query_one(
                "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
                &[],
            )?
            .try_get(0)?)
    }

    fn reserve_seqs(&mut self, n: i64) -> Result<i64> {
        let last: i64 = self
            .tx
            .query_one(
                "UPDATE counters SET value = value + $1 WHERE name = 'seq' RETURNING value",
                &[&n],
            )?
            .try_get(0)?;
        Ok(last - n + 1)
    }

    fn current_seq(&mut self) -> Result<i64> {
        Ok(self
            .tx
            .query_one("SELECT value FROM counters WHERE name = 'seq'", &[])?
            .try_get(0)?)
    }

    fn lock_writers(&mut self) -> Result<()> {
        self.tx.execute(
            "SELECT value FROM counters WHERE name = 'seq' FOR UPDATE",
            &[],
        )?;
        Ok(())
    }

    fn is_erased(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .query_opt("SELECT 1 FROM erasures WHERE doc_id = $1", &[&id])?
            .is_some())
    }

    fn erased_among(&mut self, ids: &[&str]) -> Result<HashSet<String>> {
        let rows = self.tx.query(
            "SELECT doc_id FROM erasures WHERE doc_id = ANY($1)",
            &[&ids],
        )?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    fn doc_versions(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>> {
        let sql = format!(
            "SELECT id, seq FROM docs WHERE id = ANY($1) ORDER BY id{}",
            self.for_update()
        );
        let rows = self.tx.query(&sql, &[&ids])?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    fn load_doc(&mut self, id: &str) -> Result<Option<StoredDoc>> {
        let sql = format!(
            "SELECT area_id, kind, snapshot, n_changes, seq FROM docs WHERE id = $1{}",
            self.for_update()
        );
        let head = first(&mut self.tx, &sql, &[&id], |r| {
            Ok((r.text(0)?, r.text(1)?, r.blob(2)?, r.int(3)?, r.int(4)?))
        })?;
        let Some((area_id, kind, mut bytes, n_changes, seq)) = head else {
            return Ok(None);
        };
        if n_changes > 0 {
            for r in self.tx.query(
                "SELECT bytes FROM doc_changes WHERE doc_id = $1 ORDER BY n",
                &[&id],
            )? {
                bytes.extend_from_slice(r.try_get::<_, &[u8]>(0)?);
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
        let sql = format!(
            "SELECT area_id, kind FROM docs WHERE id = $1{}",
            self.for_update()
        );
        let owner = first(&mut self.tx, &sql, &[&id], |r| Ok((r.text(0)?, r.text(1)?)))?;
        owner.map(|(a, k)| Ok((a, rows::kind(&k)?))).transpose()
    }

    fn insert_doc(&mut self, d: &DocRow<'_>) -> Result<bool> {
        Ok(self.tx.execute(
            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO NOTHING",
            &[&d.id, &d.area_id, &d.kind.as_str(), &d.form_id, &d.seq, &encode_heads(d.heads), &d.bytes],
        )? > 0)
    }

    fn doc_exists(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .query_opt("SELECT 1 FROM docs WHERE id = $1", &[&id])?
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
            .tx
            .query_one(
                "UPDATE docs SET seq = $2, heads = $3, n_changes = n_changes + 1 WHERE id = $1 RETURNING n_changes",
                &[&id, &seq, &encode_heads(heads)],
            )?
            .try_get(0)?;
        self.tx.execute(
            "INSERT INTO doc_changes (doc_id, n, bytes) VALUES ($1, $2, $3)",
            &[&id, &n, &bytes],
        )?;
        Ok(())
    }

    fn delete_doc(&mut self, id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM doc_changes WHERE doc_id = $1",
            "DELETE FROM docs WHERE id = $1",
            "DELETE FROM device_docs WHERE doc_id = $1",
        ] {
            self.tx.execute(sql, &[&id])?;
        }
        Ok(())
    }

    fn record_erasure(&mut self, id: &str, area_id: &str, seq: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO erasures (doc_id, area_id, seq) VALUES ($1, $2, $3) ON CONFLICT (doc_id) DO NOTHING",
            &[&id, &area_id, &seq],
        )?;
        Ok(())
    }

    fn area_forms(&mut self, area_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        all(
            &mut self.tx,
            "SELECT id, snapshot FROM docs WHERE area_id = $1 AND kind = 'form' ORDER BY id",
            &[&area_id],
            |r| Ok((r.text(0)?, r.blob(1)?)),
        )
    }

    fn doc_ids(&mut self, kind: DocKind, after: &str, n: usize) -> Result<Vec<String>> {
        all(
            &mut self.tx,
            "SELECT id FROM docs WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[&kind.as_str(), &after, &limit(n)],
            |r| r.text(0),
        )
    }

    fn put_snapshots(&mut self, docs: &[DocRow<'_>]) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = docs.iter().map(|d| d.id).collect();
        let areas: Vec<&str> = docs.iter().map(|d| d.area_id).collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d.kind.as_str()).collect();
        let forms: Vec<&str> = docs.iter().map(|d| d.form_id).collect();
        let seqs: Vec<i64> = docs.iter().map(|d| d.seq).collect();
        let heads: Vec<Vec<u8>> = docs.iter().map(|d| encode_heads(d.heads)).collect();
        let bytes: Vec<&[u8]> = docs.iter().map(|d| d.bytes).collect();
        self.tx
            .execute("DELETE FROM doc_changes WHERE doc_id = ANY($1)", &[&ids])?;
        self.tx.execute(
            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot, n_changes)
             SELECT id, a, k, f, s, h, b, 0
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bytea[], $7::bytea[])
                 AS d (id, a, k, f, s, h, b)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
                 snapshot = excluded.snapshot, n_changes = 0",
            &[&ids, &areas, &kinds, &forms, &seqs, &heads, &bytes],
        )?;
        Ok(())
    }

    fn set_device_heads(&mut self, device_id: &str, docs: &[(&str, &[ChangeHash])]) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = docs.iter().map(|(id, _)| *id).collect();
        let heads: Vec<Vec<u8>> = docs.iter().map(|(_, h)| encode_heads(h)).collect();
        self.tx.execute(
            "INSERT INTO device_docs (device_id, doc_id, heads)
             SELECT $1, d, h FROM unnest($2::text[], $3::bytea[]) AS t (d, h)
             ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads",
            &[&device_id, &ids, &heads],
        )?;
        Ok(())
    }

    fn projections(&mut self, ids: &[&str]) -> Result<HashMap<String, Projection>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        // The projection's columns first (as `rows::projection` reads
        // them), then the id.
        let mut out: HashMap<String, Projection> = self
            .tx
            .query(
                &format!(
                    "SELECT {}, id FROM responses WHERE id = ANY($1)",
                    rows::PROJECTION
                ),
                &[&ids],
            )?
            .iter()
            .map(|r| Ok((r.text(10)?, rows::projection(r)?)))
            .collect::<Result<_>>()?;
        let submitted: Vec<&str> = out
            .iter()
            .filter(|(_, p)| p.status == Status::Submitted)
            .map(|(id, _)| id.as_str())
            .collect();
        if submitted.is_empty() {
            return Ok(out);
        }
        let answers = self.tx.query(
            &format!(
                "SELECT {}, response_id FROM answers WHERE response_id = ANY($1)
                 ORDER BY response_id, question",
                rows::ANSWER
            ),
            &[&submitted],
        )?;
        for r in &answers {
            if let Some(p) = out.get_mut(&r.text(4)?) {
                p.answers.push(rows::answer_row(r)?);
            }
        }
        Ok(out)
    }

    fn write_projections(&mut self, rows: &[ProjectionRow<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = &mut self.tx;
        let ids: Vec<&str> = rows.iter().map(|r| r.id).collect();
        tx.execute("DELETE FROM answers WHERE response_id = ANY($1)", &[&ids])?;
        tx.execute("DELETE FROM problems WHERE response_id = ANY($1)", &[&ids])?;
        let gone: Vec<&str> = rows
            .iter()
            .filter(|r| r.projection.is_none())
            .map(|r| r.id)
            .collect();
        if !gone.is_empty() {
            tx.execute("DELETE FROM responses WHERE id = ANY($1)", &[&gone])?;
            tx.execute("DELETE FROM flags WHERE response_key = ANY($1)", &[&gone])?;
            // The words go; the writer's groups stay, unlinked, so the
            // sets of quotes served do not change (`report::quotes`).
            tx.execute(
                "UPDATE published_quotes SET text = '',
                     response_key = 'erased-' || gen_random_uuid()::text
                 WHERE response_key = ANY($1)",
                &[&gone],
            )?;
        }
        let kept: Vec<(&str, &str, &Projection)> = rows
            .iter()
            .filter_map(|r| r.projection.map(|p| (r.id, r.area_id, p)))
            .collect();
        if kept.is_empty() {
            return Ok(());
        }
        let text = |f: fn(&Projection) -> &str| -> Vec<&str> {
            kept.iter().map(|(_, _, p)| f(p)).collect()
        };
        let opt = |f: fn(&Projection) -> Option<&str>| -> Vec<Option<&str>> {
            kept.iter().map(|(_, _, p)| f(p)).collect()
        };
        let ids: Vec<&str> = kept.iter().map(|(id, _, _)| *id).collect();
        let areas: Vec<&str> = kept.iter().map(|(_, a, _)| *a).collect();
        let packed: Vec<String> = kept
            .iter()
            .map(|(_, _, p)| pack_answers(&p.answers))
            .collect();
        tx.execute(
            "INSERT INTO responses (id, area_id, form_id, form_version, status, setting, age_phase, need, pathway,
                 kiosk, captured_at, submitted_at, month, flags, packed, counted, counted_in)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::bool[], $11::bigint[], $12::bigint[], $13::text[],
                 $14::bigint[], $15::text[], $16::bool[], $17::text[])
             ON CONFLICT (id) DO UPDATE SET form_id = excluded.form_id, form_version = excluded.form_version,
                 status = excluded.status, counted = excluded.counted, setting = excluded.setting,
                 age_phase = excluded.age_phase,
                 need = excluded.need, pathway = excluded.pathway, kiosk = excluded.kiosk,
                 captured_at = excluded.captured_at, submitted_at = excluded.submitted_at,
                 month = excluded.month, flags = excluded.flags, packed = excluded.packed,
                 counted_in = excluded.counted_in",
            &[
                &ids,
                &areas,
                &text(|p| &p.form_id),
                &text(|p| &p.form_version),
                &text(|p| p.status.as_str()),
                &opt(|p| p.setting.as_deref()),
                &opt(|p| p.age_phase.as_deref()),
                &opt(|p| p.need.as_deref()),
                &opt(|p| p.pathway.as_deref()),
                &kept.iter().map(|(_, _, p)| p.kiosk).collect::<Vec<bool>>(),
                &kept.iter().map(|(_, _, p)| p.captured_at).collect::<Vec<i64>>(),
                &kept.iter().map(|(_, _, p)| p.submitted_at).collect::<Vec<Option<i64>>>(),
                &text(|p| &p.month),
                &kept.iter().map(|(_, _, p)| p.flags).collect::<Vec<i64>>(),
                &packed,
                &kept.iter().map(|(_, _, p)| p.counted).collect::<Vec<bool>>(),
                &opt(Projection::counted_in_month),
            ],
        )?;
        // Every answer, data problem and flag of the batch: one statement each.
        let answers: Vec<(&str, &AnswerRow)> = kept
            .iter()
            .flat_map(|(id, _, p)| p.answers.iter().map(move |a| (*id, a)))
            .collect();
        if !answers.is_empty() {
            tx.execute(
                "INSERT INTO answers (response_id, question, kind, value_text, value_num)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])",
                &[
                    &answers.iter().map(|(id, _)| *id).collect::<Vec<&str>>(),
                    &answers.iter().map(|(_, a)| a.question.as_str()).collect::<Vec<&str>>(),
                    &answers.iter().map(|(_, a)| a.kind.as_str()).collect::<Vec<&str>>(),
                    &answers.iter().map(|(_, a)| a.value_text.as_deref()).collect::<Vec<Option<&str>>>(),
                    &answers.iter().map(|(_, a)| a.value_num).collect::<Vec<Option<i64>>>(),
                ],
            )?;
        }
        let problems: Vec<(&str, &str, &Projection, &crate::projection::Problem)> = kept
            .iter()
            .flat_map(|(id, area, p)| p.problems.iter().map(move |pr| (*id, *area, *p, pr)))
            .collect();
        if !problems.is_empty() {
            tx.execute(
                "INSERT INTO problems (response_id, area_id, form_id, form_version, subject, kind)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
                &[
                    &problems.iter().map(|(id, _, _, _)| *id).collect::<Vec<&str>>(),
                    &problems.iter().map(|(_, a, _, _)| *a).collect::<Vec<&str>>(),
                    &problems.iter().map(|(_, _, p, _)| p.form_id.as_str()).collect::<Vec<&str>>(),
                    &problems.iter().map(|(_, _, p, _)| p.form_version.as_str()).collect::<Vec<&str>>(),
                    &problems.iter().map(|(_, _, _, pr)| pr.subject()).collect::<Vec<Option<&str>>>(),
                    &problems.iter().map(|(_, _, _, pr)| pr.kind()).collect::<Vec<&str>>(),
                ],
            )?;
        }
        // A flag once raised stays, its follow-up with it.
        let flags: Vec<_> = kept
            .iter()
            .filter_map(|(id, area, p)| p.safeguarding.as_ref().map(|s| (*id, *area, *p, s)))
            .flat_map(|(id, area, p, s)| s.raised.iter().map(move |r| (id, area, p, s, r)))
            .collect();
        if !flags.is_empty() {
            tx.execute(
                "INSERT INTO flags (response_key, area_id, raised_at, form_id, form_version, trigger, level,
                     setting, occasion, practitioner, status)
                 SELECT k, a, at, f, v, t, l, s, o, pr, 'new'
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[]) AS x (k, a, at, f, v, t, l, s, o, pr)
                 ON CONFLICT (response_key, trigger) DO UPDATE SET setting = excluded.setting,
                     occasion = excluded.occasion, practitioner = excluded.practitioner",
                &[
                    &flags.iter().map(|f| f.0).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.1).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.4.2).collect::<Vec<i64>>(),
                    &flags.iter().map(|f| f.2.form_id.as_str()).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.2.form_version.as_str()).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.4.0.as_str()).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.4.1.as_str()).collect::<Vec<&str>>(),
                    &flags.iter().map(|f| f.2.setting.as_deref()).collect::<Vec<Option<&str>>>(),
                    &flags.iter().map(|f| f.3.occasion.as_deref()).collect::<Vec<Option<&str>>>(),
                    &flags.iter().map(|f| f.3.practitioner.as_deref()).collect::<Vec<Option<&str>>>(),
                ],
            )?;
        }
        Ok(())
    }

    fn projected_answers(&mut self, id: &str) -> Result<Vec<AnswerRow>> {
        all(
            &mut self.tx,
            &format!(
                "SELECT {} FROM answers WHERE response_id = $1 ORDER BY question",
                rows::ANSWER
            ),
            &[&id],
            rows::answer_row,
        )
    }

    fn response_ids(&mut self) -> Result<Vec<String>> {
        all(&mut self.tx, "SELECT id FROM responses", &[], |r| r.text(0))
    }

    fn set_packed(&mut self, id: &str, packed: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE responses SET packed = $2 WHERE id = $1",
            &[&id, &packed],
        )?;
        Ok(())
    }

    fn submitted_after(&mut self, after: &str, n: usize) -> Result<Vec<(String, String)>> {
        all(
            &mut self.tx,
            "SELECT id, area_id FROM responses WHERE id > $1 AND counted ORDER BY id LIMIT $2",
            &[&after, &limit(n)],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
    }

    fn add_tallies(&mut self, rows: &[(&str, TallyKey, i64)]) -> Result<()> {
        for chunk in rows.chunks(TALLY_CHUNK) {
            let col = |f: fn(&TallyKey) -> &str| -> Vec<&str> {
                chunk.iter().map(|(_, k, _)| f(k)).collect()
            };
            let areas: Vec<&str> = chunk.iter().map(|(a, _, _)| *a).collect();
            let forms = col(|k| &k.form_id);
            let questions = col(|k| &k.question);
            let months = col(|k| &k.month);
            let versions = col(|k| &k.form_version);
            let settings = col(|k| &k.setting);
            let phases = col(|k| &k.age_phase);
            let needs = col(|k| &k.need);
            let pathways = col(|k| &k.pathway);
            let values = col(|k| &k.value);
            let ns: Vec<i64> = chunk.iter().map(|(_, _, n)| *n).collect();
            self.tx.execute(
                "INSERT INTO live_tallies (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value, n)
                 SELECT ar, f, q, m, v, s, a, nd, p, val, n
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                             $8::text[], $9::text[], $10::text[], $11::bigint[]) AS t (ar, f, q, m, v, s, a, nd, p, val, n)
                 ON CONFLICT (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value)
                 DO UPDATE SET n = live_tallies.n + excluded.n",
                &[
                    &areas, &forms, &questions, &months, &versions, &settings, &phases, &needs,
                    &pathways, &values, &ns,
                ],
            )?;
        }
        Ok(())
    }

    fn clear_tallies(&mut self) -> Result<()> {
        self.tx.execute("DELETE FROM live_tallies", &[])?;
        Ok(())
    }

    fn published_through(&mut self, area_id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_opt(
                "SELECT through FROM publications WHERE area_id = $1",
                &[&area_id],
            )?
            .map(|r| r.get(0)))
    }

    fn publish_months(
        &mut self,
        area_id: &str,
        after: Option<&str>,
        through: &str,
        at: i64,
    ) -> Result<()> {
        self.tx.execute(
            &publish_tallies_sql(&|i| format!("${i}")),
            &[&area_id, &after.unwrap_or(""), &through],
        )?;
        self.tx.execute(
            &publish_quotes_sql(&|i| format!("${i}")),
            &[&area_id, &after.unwrap_or(""), &through],
        )?;
        self.tx.execute(
            "INSERT INTO publications (area_id, through, at) VALUES ($1, $2, $3)
             ON CONFLICT (area_id) DO UPDATE SET through = excluded.through, at = excluded.at",
            &[&area_id, &through, &at],
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
            &mut self.tx,
            "SELECT seq, id FROM docs WHERE area_id = $1 AND kind = 'form' AND seq > $2 AND seq <= $3
             ORDER BY seq LIMIT $4",
            &[&area_id, &after, &upto, &limit(n)],
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
            &mut self.tx,
            "SELECT d.seq, d.id, dd.heads FROM docs d JOIN device_docs dd ON dd.doc_id = d.id AND dd.device_id = $1
             WHERE d.seq > $2 AND d.seq <= $3 AND d.heads <> dd.heads ORDER BY d.seq LIMIT $4",
            &[&device_id, &after, &upto, &limit(n)],
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
            &mut self.tx,
            "SELECT seq, doc_id FROM erasures WHERE area_id = $1 AND seq > $2 AND seq <= $3
             ORDER BY seq LIMIT $4",
            &[&area_id, &after, &upto, &limit(n)],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
    }

    fn lists_version(&mut self, area_id: &str) -> Result<i64> {
        Ok(first(
            &mut self.tx,
            "SELECT lists_version FROM areas WHERE id = $1",
            &[&area_id],
            |r| r.int(0),
        )?
        .unwrap_or(0))
    }

    fn list_items(&mut self, area_id: &str) -> Result<Vec<(String, String, String)>> {
        all(
            &mut self.tx,
            "SELECT dim, value, label FROM area_lists WHERE area_id = $1 ORDER BY dim, position",
            &[&area_id],
            |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)),
        )
    }

    fn replace_lists(&mut self, area_id: &str, lists: &AreaLists) -> Result<()> {
        self.tx
            .execute("DELETE FROM area_lists WHERE area_id = $1", &[&area_id])?;
        for dim in ListDim::ALL {
            for (i, item) in (0i64..).zip(lists.list(dim)) {
                self.tx.execute(
                    "INSERT INTO area_lists (area_id, dim, position, value, label) VALUES ($1, $2, $3, $4, $5)",
                    &[&area_id, &dim.as_str(), &i, &item.id, &item.label],
                )?;
            }
        }
        self.tx.execute(
            "UPDATE areas SET lists_version = $2 WHERE id = $1",
            &[&area_id, &lists.version],
        )?;
        Ok(())
    }
}

impl Tenancy for PostgresStorage {
    fn create_area(&self, name: &str) -> Result<Area> {
        let area = Area {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
        };
        self.conn()?
            .execute(
                "INSERT INTO areas (id, name, created_at) VALUES ($1, $2, $3)",
                &[&area.id, &area.name, &now_ms()],
            )
            .map_err(|e| exists(e, format!("area '{name}'")))?;
        Ok(area)
    }

    fn area_by_name(&self, name: &str) -> Result<Option<Area>> {
        first(
            &mut *self.conn()?,
            &format!("SELECT {} FROM areas WHERE name = $1", rows::AREA),
            &[&name],
            rows::area,
        )
    }

    fn area(&self, id: &str) -> Result<Option<Area>> {
        first(
            &mut *self.conn()?,
            &format!("SELECT {} FROM areas WHERE id = $1", rows::AREA),
            &[&id],
            rows::area,
        )
    }

    fn areas(&self) -> Result<Vec<Area>> {
        all(
            &mut *self.conn()?,
            &format!("SELECT {} FROM areas ORDER BY name", rows::AREA),
            &[],
            rows::area,
        )
    }

    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO enrol_codes (code_hash, area_id, expires_at) VALUES ($1, $2, $3)",
            &[&code_hash, &area_id, &expires_at],
        )?;
        Ok(())
    }

    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        now: i64,
        device: &Device,
    ) -> Result<Option<Area>> {
        self.transaction(|tx| {
            // A concurrent redeemer waits on the row lock, then re-checks
            // `used_at IS NULL` against the committed row: one of them wins.
            let area = first(
                &mut tx.tx,
                "UPDATE enrol_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING area_id, (SELECT name FROM areas WHERE areas.id = enrol_codes.area_id)",
                &[&code_hash, &now],
                rows::area,
            )?;
            let Some(area) = area else {
                return Ok(None);
            };
            tx.tx.execute(
                "INSERT INTO devices (id, area_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&device.id, &area.id, &device.token_hash, &device.label, &now],
            )?;
            Ok(Some(area))
        })
    }

    fn device(&self, id: &str) -> Result<Option<Device>> {
        first(
            &mut *self.conn()?,
            &format!("SELECT {} FROM devices WHERE id = $1", rows::DEVICE),
            &[&id],
            rows::device,
        )
    }

    fn revoke_device(&self, id: &str) -> Result<bool> {
        // Keeps the first revocation time; matches (so counts) any existing
        // device.
        Ok(self.conn()?.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
            &[&id, &now_ms()],
        )? > 0)
    }
}

impl Reads for PostgresStorage {
    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT count(*) FROM responses
                 WHERE area_id = $1 AND counted AND ($2::text IS NULL OR form_id = $2::text)",
                &[&area_id, &form_id],
            )?
            .try_get(0)?)
    }

    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<AnswerCell>> {
        all(
            &mut *self.conn()?,
            "SELECT a.response_id, a.question, a.value_text, a.value_num FROM answers a
             JOIN responses r ON r.id = a.response_id
             WHERE r.area_id = $1 AND r.form_id = $2 AND r.counted
             ORDER BY a.response_id, a.question",
            &[&area_id, &form_id],
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
        let (sql, params) = free_text_sql(query, &|i| format!("${i}"));
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        all(&mut *self.conn()?, &sql, &params, |r| {
            rows::published_quote(r)
        })
    }

    fn export_responses(
        &self,
        area_id: &str,
        forms: &[String],
        with_text: bool,
        each: &mut dyn FnMut(ExportRecord) -> Result<()>,
    ) -> Result<()> {
        self.read(|tx| {
            let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
            // A portal fetches the rows in slices: memory stays flat however
            // many responses there are. One row per response, answers packed.
            let portal = tx.tx.bind(
                &format!(
                    "SELECT {} FROM responses WHERE area_id = $1 AND counted AND form_id = ANY($2)",
                    rows::EXPORT
                ),
                &[&area_id, &forms],
            )?;
            loop {
                let rows = tx.tx.query_portal(&portal, 5000)?;
                if rows.is_empty() {
                    return Ok(());
                }
                for r in &rows {
                    each(rows::export_record(r, with_text)?)?;
                }
            }
        })
    }

    fn problems(&self, area_id: &str) -> Result<Vec<ProblemCount>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM problems WHERE area_id = $1 {}",
                rows::PROBLEM_COUNT,
                rows::PROBLEM_GROUPS
            ),
            &[&area_id],
            rows::problem_count,
        )
    }
}

impl Accounts for PostgresStorage {
    fn create_user(&self, user: &User) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT INTO users (id, area_id, username, password_hash, role, free_text, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &user.id,
                    &user.area_id,
                    &user.username,
                    &user.password_hash,
                    &user.role.as_str(),
                    &user.free_text,
                    &now_ms(),
                ],
            )
            .map_err(|e| exists(e, format!("user '{}'", user.username)))?;
        Ok(())
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        first(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM users WHERE username = $1",
                rows::user_columns("")
            ),
            &[&username],
            rows::user,
        )
    }

    fn users(&self, area_id: &str) -> Result<Vec<User>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM users WHERE area_id = $1 ORDER BY username",
                rows::user_columns("")
            ),
            &[&area_id],
            rows::user,
        )
    }

    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool> {
        self.transaction(|tx| {
            let changed = tx.tx.execute(
                "UPDATE users SET password_hash = $2 WHERE username = $1",
                &[&username, &password_hash],
            )? > 0;
            // A new password ends every session of the user.
            tx.tx.execute(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
                &[&username],
            )?;
            Ok(changed)
        })
    }

    fn create_session(&self, token_hash: &[u8], user_id: &str, expires_at: i64) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now_ms()])?;
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            &[&token_hash, &user_id, &expires_at],
        )?;
        Ok(())
    }

    fn session_user(&self, token_hash: &[u8], now: i64) -> Result<Option<User>> {
        first(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
                rows::user_columns("u.")
            ),
            &[&token_hash, &now],
            rows::user,
        )
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn sign_in_failures(&self, key: &str) -> Result<Option<Failures>> {
        first(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM sign_in_failures WHERE key = $1",
                rows::FAILURES
            ),
            &[&key],
            rows::failures,
        )
    }

    fn set_sign_in_failures(&self, key: &str, failures: Option<&Failures>) -> Result<()> {
        let mut conn = self.conn()?;
        match failures {
            None => conn.execute("DELETE FROM sign_in_failures WHERE key = $1", &[&key])?,
            Some(f) => conn.execute(
                "INSERT INTO sign_in_failures (key, count, first_at, locked_until) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET count = excluded.count, first_at = excluded.first_at,
                     locked_until = excluded.locked_until",
                &[&key, &i64::from(f.count), &f.first_at, &f.locked_until],
            )?,
        };
        Ok(())
    }
}

impl AuditLog for PostgresStorage {
    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO audit (at, area_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&e.at, &e.area_id, &e.actor, &e.action, &e.detail],
        )?;
        Ok(())
    }

    fn audit_log(&self, area_id: &str, before: i64, n: usize) -> Result<Vec<AuditEntry>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM audit WHERE area_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                rows::AUDIT
            ),
            &[&area_id, &before, &limit(n)],
            rows::audit_entry,
        )
    }
}

impl Notes for PostgresStorage {
    fn put_note(&self, n: &Note) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO notes (id, area_id, theme, you_said, we_did, author, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET theme = excluded.theme, you_said = excluded.you_said,
                 we_did = excluded.we_did, author = excluded.author, updated_at = excluded.updated_at
             WHERE notes.area_id = excluded.area_id",
            &[&n.id, &n.area_id, &n.theme, &n.you_said, &n.we_did, &n.author, &n.updated_at],
        )?;
        Ok(())
    }

    fn notes(&self, area_id: &str) -> Result<Vec<Note>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM notes WHERE area_id = $1 ORDER BY updated_at DESC, id",
                rows::NOTE
            ),
            &[&area_id],
            rows::note,
        )
    }

    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM notes WHERE area_id = $1 AND id = $2",
            &[&area_id, &id],
        )? > 0)
    }
}

impl Links for PostgresStorage {
    fn create_link(&self, l: &SurveyLink, token_hash: &[u8]) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO survey_links (id, area_id, token_hash, form_id, single_use, closes_at, cap,
                 used, created_at, created_by, revoked)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &l.id,
                &l.area_id,
                &token_hash,
                &l.form_id,
                &l.single_use,
                &l.closes_at,
                &l.cap,
                &l.used,
                &l.created_at,
                &l.created_by,
                &l.revoked,
            ],
        )?;
        Ok(())
    }

    fn links(&self, area_id: &str) -> Result<Vec<SurveyLink>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM survey_links WHERE area_id = $1 ORDER BY created_at DESC, id",
                rows::LINK
            ),
            &[&area_id],
            rows::link,
        )
    }

    fn link_by_token(&self, token_hash: &[u8]) -> Result<Option<SurveyLink>> {
        Ok(all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM survey_links WHERE token_hash = $1",
                rows::LINK
            ),
            &[&token_hash],
            rows::link,
        )?
        .into_iter()
        .next())
    }

    fn claim_link(&self, id: &str, now: i64) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE survey_links SET used = used + 1
             WHERE id = $1 AND NOT revoked AND (closes_at IS NULL OR $2 < closes_at)
                 AND (cap IS NULL OR used < cap)",
            &[&id, &now],
        )? == 1)
    }

    fn release_link(&self, id: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE survey_links SET used = used - 1 WHERE id = $1 AND used > 0",
            &[&id],
        )?;
        Ok(())
    }

    fn revoke_link(&self, area_id: &str, id: &str) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE survey_links SET revoked = TRUE WHERE area_id = $1 AND id = $2",
            &[&area_id, &id],
        )? > 0)
    }
}

impl SafeguardingList for PostgresStorage {
    fn flags(
        &self,
        area_id: &str,
        status: Option<FlagStatus>,
        before: i64,
        n: usize,
    ) -> Result<Vec<Flag>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM flags WHERE area_id = $1 AND ($2::text IS NULL OR status = $2::text) AND id < $3
                 ORDER BY id DESC LIMIT $4",
                rows::FLAG
            ),
            &[&area_id, &status.map(FlagStatus::as_str), &before, &limit(n)],
            rows::flag,
        )
    }

    fn flags_after(&self, area_id: &str, after: i64, n: usize) -> Result<Vec<Flag>> {
        all(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM flags WHERE area_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                rows::FLAG
            ),
            &[&area_id, &after, &limit(n)],
            rows::flag,
        )
    }

    fn flag(&self, area_id: &str, id: i64) -> Result<Option<Flag>> {
        first(
            &mut *self.conn()?,
            &format!(
                "SELECT {} FROM flags WHERE area_id = $1 AND id = $2",
                rows::FLAG
            ),
            &[&area_id, &id],
            rows::flag,
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
        Ok(self.conn()?.execute(
            "UPDATE flags SET status = $3, status_by = $4, status_at = $5, note = coalesce($6, note)
             WHERE area_id = $1 AND id = $2",
            &[&area_id, &id, &status.as_str(), &by, &at, &note],
        )? > 0)
    }

    fn count_flags(&self, area_id: &str, status: FlagStatus) -> Result<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT count(*) FROM flags WHERE area_id = $1 AND status = $2",
                &[&area_id, &status.as_str()],
            )?
            .try_get(0)?)
    }
}
