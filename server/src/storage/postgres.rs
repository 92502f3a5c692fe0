//! PostgreSQL storage: for larger deployments and for several server
//! processes sharing one database. Behaves exactly like the SQLite storage
//! (the conformance suite in `tests.rs` runs against both).
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

use automerge::ChangeHash;
use hark_core::sync::DocKind;
use postgres::error::SqlState;
use postgres::{GenericClient, IsolationLevel, NoTls, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use sha2::{Digest, Sha256};

use super::sqlite::{heads_bytes, heads_from, kind_from, kind_str, now_ms};
use super::tally::Deltas;
use super::{
    AnswerRow, Area, AuditEntry, Device, DocBytes, ExportRecord, MergeFn, Merged, Note, Pending,
    PendingBatch, Projection, Role, Storage, StoredDoc, TallyQuery, TallyRow, User,
};
use crate::error::{Error, Result};

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
}

/// Starts a read-only transaction that sees one snapshot throughout.
fn snapshot(conn: &mut PooledConnection<Manager>) -> Result<Transaction<'_>> {
    Ok(conn
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

fn next_seq(tx: &mut Transaction<'_>) -> Result<i64> {
    Ok(tx
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
            &[],
        )?
        .try_get(0)?)
}

/// The lock bucket of a document id: a stable hash, the same in every
/// server process.
fn doc_lock_bucket(id: &str) -> i32 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i32::try_from(u64::from_be_bytes(first) % DOC_LOCK_BUCKETS).unwrap_or(0)
}

/// Takes the transaction-level advisory lock of every id's bucket, in bucket
/// order (the same order in every transaction, and before the sequence
/// counter's row lock, so two transactions cannot deadlock).
fn lock_docs(tx: &mut Transaction<'_>, ids: &[String]) -> Result<()> {
    let mut buckets: Vec<i32> = ids.iter().map(|id| doc_lock_bucket(id)).collect();
    buckets.sort_unstable();
    buckets.dedup();
    for bucket in buckets {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_CLASS, &bucket],
        )?;
    }
    Ok(())
}

fn area_row(row: &postgres::Row) -> Result<Area> {
    Ok(Area {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
    })
}

fn load_doc(c: &mut impl GenericClient, id: &str, for_update: bool) -> Result<Option<StoredDoc>> {
    let sql = if for_update {
        "SELECT area_id, kind, snapshot, n_changes FROM docs WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT area_id, kind, snapshot, n_changes FROM docs WHERE id = $1"
    };
    let Some(row) = c.query_opt(sql, &[&id])? else {
        return Ok(None);
    };
    let area_id: String = row.try_get(0)?;
    let kind: String = row.try_get(1)?;
    let mut bytes: Vec<u8> = row.try_get(2)?;
    let n_changes: i64 = row.try_get(3)?;
    if n_changes > 0 {
        for r in c.query(
            "SELECT bytes FROM doc_changes WHERE doc_id = $1 ORDER BY n",
            &[&id],
        )? {
            bytes.extend_from_slice(r.try_get::<_, &[u8]>(0)?);
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
fn stored_projection(tx: &mut Transaction<'_>, id: &str) -> Result<Option<Projection>> {
    let Some(r) = tx.query_opt(
        "SELECT form_id, form_version, status, setting, age_phase, need, pathway, month
         FROM responses WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let mut p = Projection {
        form_id: r.try_get(0)?,
        form_version: r.try_get(1)?,
        status: r.try_get(2)?,
        setting: r.try_get(3)?,
        age_phase: r.try_get(4)?,
        need: r.try_get(5)?,
        pathway: r.try_get(6)?,
        month: r.try_get(7)?,
        ..Projection::default()
    };
    if p.status == "submitted" {
        p.answers = stored_answers(tx, id)?;
    }
    Ok(Some(p))
}

/// The projected answers of a response, by question.
fn stored_answers(tx: &mut Transaction<'_>, id: &str) -> Result<Vec<AnswerRow>> {
    tx.query(
        "SELECT question, kind, value_text, value_num FROM answers WHERE response_id = $1 ORDER BY question",
        &[&id],
    )?
    .iter()
    .map(|r| {
        Ok(AnswerRow {
            question: r.try_get(0)?,
            kind: r.try_get(1)?,
            value_text: r.try_get(2)?,
            value_num: r.try_get(3)?,
        })
    })
    .collect()
}

/// Writes a transaction's tally changes, a few thousand rows per
/// statement. Callers hold the sequence counter's row lock, so concurrent
/// writers cannot deadlock on tally rows.
fn flush_tallies(tx: &mut Transaction<'_>, deltas: &Deltas) -> Result<()> {
    let all = deltas.rows();
    for chunk in all.chunks(5000) {
        let col = |f: fn(&super::TallyKey) -> &str| -> Vec<&str> {
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
        tx.execute(
            "INSERT INTO tallies (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value, n)
             SELECT ar, f, q, m, v, s, a, nd, p, val, n
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::bigint[]) AS t (ar, f, q, m, v, s, a, nd, p, val, n)
             ON CONFLICT (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value)
             DO UPDATE SET n = tallies.n + excluded.n",
            &[
                &areas, &forms, &questions, &months, &versions, &settings, &phases, &needs,
                &pathways, &values, &ns,
            ],
        )?;
    }
    Ok(())
}

/// Recounts the tallies from the projections, a thousand responses at a
/// time.
fn rebuild_tallies(tx: &mut Transaction<'_>) -> Result<()> {
    tx.execute("DELETE FROM tallies", &[])?;
    let mut after = String::new();
    loop {
        let ids: Vec<(String, String)> = tx
            .query(
                "SELECT id, area_id FROM responses WHERE id > $1 AND status = 'submitted' ORDER BY id LIMIT 1000",
                &[&after],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
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

/// Takes the sequence counter's row lock (see [`flush_tallies`]).
fn lock_writers(tx: &mut Transaction<'_>) -> Result<()> {
    tx.execute(
        "SELECT value FROM counters WHERE name = 'seq' FOR UPDATE",
        &[],
    )?;
    Ok(())
}

fn write_projection(
    tx: &mut Transaction<'_>,
    id: &str,
    area_id: &str,
    p: Option<&Projection>,
    deltas: &mut Deltas,
) -> Result<()> {
    let old = stored_projection(tx, id)?;
    deltas.add(area_id, old.as_ref(), p);
    tx.execute("DELETE FROM answers WHERE response_id = $1", &[&id])?;
    let Some(p) = p else {
        tx.execute("DELETE FROM responses WHERE id = $1", &[&id])?;
        return Ok(());
    };
    tx.execute(
        "INSERT INTO responses (id, area_id, form_id, form_version, status, setting, age_phase, need, pathway,
             kiosk, captured_at, submitted_at, month, flags, packed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO UPDATE SET form_id = excluded.form_id, form_version = excluded.form_version,
             status = excluded.status, setting = excluded.setting, age_phase = excluded.age_phase,
             need = excluded.need, pathway = excluded.pathway, kiosk = excluded.kiosk,
             captured_at = excluded.captured_at, submitted_at = excluded.submitted_at,
             month = excluded.month, flags = excluded.flags, packed = excluded.packed",
        &[
            &id,
            &area_id,
            &p.form_id,
            &p.form_version,
            &p.status,
            &p.setting,
            &p.age_phase,
            &p.need,
            &p.pathway,
            &p.kiosk,
            &p.captured_at,
            &p.submitted_at,
            &p.month,
            &p.flags,
            &super::pack_answers(&p.answers),
        ],
    )?;
    if !p.answers.is_empty() {
        // All answers in one statement.
        let questions: Vec<&str> = p.answers.iter().map(|a| a.question.as_str()).collect();
        let kinds: Vec<&str> = p.answers.iter().map(|a| a.kind.as_str()).collect();
        let texts: Vec<Option<&str>> = p.answers.iter().map(|a| a.value_text.as_deref()).collect();
        let nums: Vec<Option<i64>> = p.answers.iter().map(|a| a.value_num).collect();
        tx.execute(
            "INSERT INTO answers (response_id, question, kind, value_text, value_num)
             SELECT $1, q, k, t, n FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS a (q, k, t, n)",
            &[&id, &questions, &kinds, &texts, &nums],
        )?;
    }
    Ok(())
}

impl Storage for PostgresStorage {
    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_CLASS, &MIGRATION_LOCK],
        )?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
        )?;
        let version: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )?
            .try_get(0)?;
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > known {
            return Err(Error::Config(format!(
                "database schema {version} is newer than this hark"
            )));
        }
        for (v, m) in (1..).zip(MIGRATIONS.iter()) {
            if v > version {
                tx.batch_execute(m)?;
                tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])?;
            }
        }
        if version == 1 {
            // Migration 2 added packed answers and the tallies: fill both
            // from what is there already.
            let ids: Vec<String> = tx
                .query("SELECT id FROM responses", &[])?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            for id in ids {
                let answers = stored_answers(&mut tx, &id)?;
                tx.execute(
                    "UPDATE responses SET packed = $2 WHERE id = $1",
                    &[&id, &super::pack_answers(&answers)],
                )?;
            }
            rebuild_tallies(&mut tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn create_area(&self, name: &str) -> Result<Area> {
        let mut conn = self.conn()?;
        let area = Area {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
        };
        match conn.execute(
            "INSERT INTO areas (id, name, created_at) VALUES ($1, $2, $3)",
            &[&area.id, &area.name, &now_ms()],
        ) {
            Ok(_) => Ok(area),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(Error::Exists(format!("area '{name}'")))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn area_by_name(&self, name: &str) -> Result<Option<Area>> {
        let mut conn = self.conn()?;
        conn.query_opt("SELECT id, name FROM areas WHERE name = $1", &[&name])?
            .as_ref()
            .map(area_row)
            .transpose()
    }

    fn area(&self, id: &str) -> Result<Option<Area>> {
        let mut conn = self.conn()?;
        conn.query_opt("SELECT id, name FROM areas WHERE id = $1", &[&id])?
            .as_ref()
            .map(area_row)
            .transpose()
    }

    fn areas(&self) -> Result<Vec<Area>> {
        let mut conn = self.conn()?;
        conn.query("SELECT id, name FROM areas ORDER BY name", &[])?
            .iter()
            .map(area_row)
            .collect()
    }

    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute(
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
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // A concurrent redeemer waits on the row lock, then re-checks
        // `used_at IS NULL` against the committed row: one of them wins.
        let Some(row) = tx.query_opt(
            "UPDATE enrol_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING area_id, (SELECT name FROM areas WHERE areas.id = enrol_codes.area_id)",
            &[&code_hash, &now],
        )?
        else {
            return Ok(None);
        };
        let area = area_row(&row)?;
        tx.execute(
            "INSERT INTO devices (id, area_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&device.id, &area.id, &device.token_hash, &device.label, &now],
        )?;
        tx.commit()?;
        Ok(Some(area))
    }

    fn device(&self, id: &str) -> Result<Option<Device>> {
        let mut conn = self.conn()?;
        let Some(r) = conn.query_opt(
            "SELECT id, area_id, token_hash, label, revoked_at IS NOT NULL FROM devices WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Device {
            id: r.try_get(0)?,
            area_id: r.try_get(1)?,
            token_hash: r.try_get(2)?,
            label: r.try_get(3)?,
            revoked: r.try_get(4)?,
        }))
    }

    fn revoke_device(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        // Keeps the first revocation time; matches (so counts) any existing device.
        Ok(conn.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
            &[&id, &now_ms()],
        )? > 0)
    }

    fn ingest(
        &self,
        device: &Device,
        ids: &[String],
        merge: &mut MergeFn<'_>,
    ) -> Result<Vec<Merged>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_docs(&mut tx, ids)?;
        let mut out = Vec::with_capacity(ids.len());
        let mut deltas = Deltas::new();
        for id in ids {
            if tx
                .query_opt("SELECT 1 FROM erasures WHERE doc_id = $1", &[id])?
                .is_some()
            {
                out.push(Merged::Rejected("erased".into()));
                continue;
            }
            let stored = load_doc(&mut tx, id, true)?;
            let merged = merge(id, stored)?;
            if let Merged::Write(w) = &merged {
                let heads = heads_bytes(&w.heads);
                match &w.bytes {
                    DocBytes::Unchanged => {}
                    DocBytes::Snapshot(bytes) => {
                        let seq = next_seq(&mut tx)?;
                        tx.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[&w.id])?;
                        tx.execute(
                            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot, n_changes)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
                             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
                                 snapshot = excluded.snapshot, n_changes = 0",
                            &[&w.id, &w.area_id, &kind_str(w.kind), &w.form_id, &seq, &heads, bytes],
                        )?;
                    }
                    DocBytes::Append(bytes) => {
                        let seq = next_seq(&mut tx)?;
                        let n: i64 = tx
                            .query_one(
                                "UPDATE docs SET seq = $2, heads = $3, n_changes = n_changes + 1 WHERE id = $1 RETURNING n_changes",
                                &[&w.id, &seq, &heads],
                            )?
                            .try_get(0)?;
                        tx.execute(
                            "INSERT INTO doc_changes (doc_id, n, bytes) VALUES ($1, $2, $3)",
                            &[&w.id, &n, bytes],
                        )?;
                    }
                }
                if w.bytes != DocBytes::Unchanged {
                    write_projection(
                        &mut tx,
                        &w.id,
                        &w.area_id,
                        w.projection.as_ref(),
                        &mut deltas,
                    )?;
                }
                tx.execute(
                    "INSERT INTO device_docs (device_id, doc_id, heads) VALUES ($1, $2, $3)
                     ON CONFLICT (device_id, doc_id) DO UPDATE SET heads = excluded.heads",
                    &[&device.id, &w.id, &heads],
                )?;
            }
            out.push(merged);
        }
        flush_tallies(&mut tx, &deltas)?;
        tx.commit()?;
        Ok(out)
    }

    fn erase(&self, area_id: &str, ids: &[String]) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_docs(&mut tx, ids)?;
        let mut deltas = Deltas::new();
        for id in ids {
            // Only responses of the caller's area: never forms, never
            // another area's documents.
            let owned: Option<(String, String)> = tx
                .query_opt(
                    "SELECT area_id, kind FROM docs WHERE id = $1 FOR UPDATE",
                    &[id],
                )?
                .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?;
            if owned
                .as_ref()
                .is_some_and(|(a, k)| a != area_id || k != "response")
                || id.starts_with("form:")
            {
                continue;
            }
            let seq = next_seq(&mut tx)?;
            tx.execute("DELETE FROM doc_changes WHERE doc_id = $1", &[id])?;
            tx.execute("DELETE FROM docs WHERE id = $1", &[id])?;
            tx.execute("DELETE FROM device_docs WHERE doc_id = $1", &[id])?;
            write_projection(&mut tx, id, area_id, None, &mut deltas)?;
            tx.execute(
                "INSERT INTO erasures (doc_id, area_id, seq) VALUES ($1, $2, $3) ON CONFLICT (doc_id) DO NOTHING",
                &[id, &area_id, &seq],
            )?;
        }
        flush_tallies(&mut tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn pending(&self, device: &Device, cursor: i64, limit: usize) -> Result<PendingBatch> {
        let limit = limit.max(1);
        let mut conn = self.conn()?;
        let mut tx = snapshot(&mut conn)?;
        // Read first: every sequence number up to it is committed (and, in
        // this snapshot, visible).
        let upper: i64 = tx
            .query_one("SELECT value FROM counters WHERE name = 'seq'", &[])?
            .try_get(0)?;
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let mut rows: Vec<(i64, String, Option<Vec<u8>>)> = Vec::new();
        for r in tx.query(
            "SELECT seq, id FROM docs WHERE area_id = $1 AND kind = 'form' AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
            &[&device.area_id, &cursor, &upper, &fetch],
        )? {
            rows.push((r.try_get(0)?, r.try_get(1)?, None));
        }
        for r in tx.query(
            "SELECT d.seq, d.id, dd.heads FROM docs d JOIN device_docs dd ON dd.doc_id = d.id AND dd.device_id = $1
             WHERE d.seq > $2 AND d.seq <= $3 AND d.heads <> dd.heads ORDER BY d.seq LIMIT $4",
            &[&device.id, &cursor, &upper, &fetch],
        )? {
            rows.push((r.try_get(0)?, r.try_get(1)?, Some(r.try_get(2)?)));
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
            if let Some(d) = load_doc(&mut tx, &id, false)? {
                docs.push(Pending {
                    id,
                    kind: d.kind,
                    bytes: d.bytes,
                    device_heads: heads.map(|h| heads_from(&h)),
                });
            }
        }
        let erased = tx
            .query(
                "SELECT doc_id FROM erasures WHERE area_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                &[&device.area_id, &cursor, &cursor_out],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        tx.commit()?;
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
        let mut conn = self.conn()?;
        if conn
            .query_opt("SELECT 1 FROM docs WHERE id = $1", &[&id])?
            .is_some()
        {
            return Ok(false);
        }
        let mut tx = conn.transaction()?;
        let seq = next_seq(&mut tx)?;
        let inserted = tx.execute(
            "INSERT INTO docs (id, area_id, kind, form_id, seq, heads, snapshot) VALUES ($1, $2, 'form', $3, $4, $5, $6)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &area_id, &form_id, &seq, &heads_bytes(heads), &bytes],
        )?;
        if inserted == 0 {
            // Another server stored it meanwhile: roll back (the sequence
            // number too).
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    fn load(&self, id: &str) -> Result<Option<StoredDoc>> {
        let mut conn = self.conn()?;
        let mut tx = snapshot(&mut conn)?;
        let doc = load_doc(&mut tx, id, false)?;
        tx.commit()?;
        Ok(doc)
    }

    fn area_forms(&self, area_id: &str) -> Result<Vec<Vec<u8>>> {
        let mut conn = self.conn()?;
        conn.query(
            "SELECT snapshot FROM docs WHERE area_id = $1 AND kind = 'form' ORDER BY id",
            &[&area_id],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn doc_ids(&self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        conn.query(
            "SELECT id FROM docs WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[
                &kind_str(kind),
                &after,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn put_projection(
        &self,
        id: &str,
        area_id: &str,
        projection: Option<&Projection>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_docs(&mut tx, &[id.to_owned()])?;
        lock_writers(&mut tx)?;
        let mut deltas = Deltas::new();
        write_projection(&mut tx, id, area_id, projection, &mut deltas)?;
        flush_tallies(&mut tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64> {
        let mut conn = self.conn()?;
        Ok(conn
            .query_one(
                "SELECT count(*) FROM responses
                 WHERE area_id = $1 AND status = 'submitted' AND ($2::text IS NULL OR form_id = $2::text)",
                &[&area_id, &form_id],
            )?
            .try_get(0)?)
    }

    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<super::AnswerCell>> {
        let mut conn = self.conn()?;
        conn.query(
            "SELECT a.response_id, a.question, a.value_text, a.value_num FROM answers a
             JOIN responses r ON r.id = a.response_id
             WHERE r.area_id = $1 AND r.form_id = $2 AND r.status = 'submitted'
             ORDER BY a.response_id, a.question",
            &[&area_id, &form_id],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
    }

    fn tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>> {
        let (sql, params) = super::tally::tallies_sql(query, &|i| format!("${i}"));
        let mut conn = self.conn()?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let k = query.dims.len();
        conn.query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(TallyRow {
                    form_id: r.try_get(0)?,
                    month: r.try_get(1)?,
                    dims: (0..k).map(|i| r.try_get(2 + i)).collect::<Result<_, _>>()?,
                    value: r.try_get(2 + k)?,
                    n: r.try_get(3 + k)?,
                })
            })
            .collect()
    }

    fn free_text(&self, query: &TallyQuery, filter_values: &[String]) -> Result<Vec<String>> {
        let (sql, params) = super::tally::free_text_sql(query, filter_values, &|i| format!("${i}"));
        let mut conn = self.conn()?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        conn.query(&sql, &params)?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    fn export_responses(
        &self,
        area_id: &str,
        forms: &[String],
        with_text: bool,
        each: &mut dyn FnMut(ExportRecord) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = snapshot(&mut conn)?;
        let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
        // A portal fetches the rows in slices: memory stays flat however
        // many responses there are. One row per response, answers packed.
        let portal = tx.bind(
            "SELECT form_id, form_version, month, setting, age_phase, need, pathway, kiosk, packed
             FROM responses WHERE area_id = $1 AND status = 'submitted' AND form_id = ANY($2)",
            &[&area_id, &forms],
        )?;
        loop {
            let rows = tx.query_portal(&portal, 5000)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let packed: &str = r.try_get(8)?;
                each(ExportRecord {
                    form_id: r.try_get(0)?,
                    form_version: r.try_get(1)?,
                    month: r.try_get(2)?,
                    setting: r.try_get(3)?,
                    age_phase: r.try_get(4)?,
                    need: r.try_get(5)?,
                    pathway: r.try_get(6)?,
                    kiosk: r.try_get(7)?,
                    answers: super::unpack_answers(packed, with_text)?,
                })?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn rebuild_tallies(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_writers(&mut tx)?;
        rebuild_tallies(&mut tx)?;
        tx.commit()?;
        Ok(())
    }

    fn put_projections(&self, batch: &[(String, String, Projection)]) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let ids: Vec<String> = batch.iter().map(|(id, _, _)| id.clone()).collect();
        lock_docs(&mut tx, &ids)?;
        lock_writers(&mut tx)?;
        let mut deltas = Deltas::new();
        for (id, area_id, p) in batch {
            write_projection(&mut tx, id, area_id, Some(p), &mut deltas)?;
        }
        flush_tallies(&mut tx, &deltas)?;
        tx.commit()?;
        Ok(())
    }

    fn create_user(&self, user: &User) -> Result<()> {
        let mut conn = self.conn()?;
        match conn.execute(
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
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(Error::Exists(format!("user '{}'", user.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let mut conn = self.conn()?;
        conn.query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"),
            &[&username],
        )?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    fn users(&self, area_id: &str) -> Result<Vec<User>> {
        let mut conn = self.conn()?;
        conn.query(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE area_id = $1 ORDER BY username"),
            &[&area_id],
        )?
        .iter()
        .map(user_row)
        .collect()
    }

    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE users SET password_hash = $2 WHERE username = $1",
            &[&username, &password_hash],
        )? > 0;
        tx.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)",
            &[&username],
        )?;
        tx.commit()?;
        Ok(changed)
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
        let mut conn = self.conn()?;
        let cols = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        conn.query_opt(
            &format!(
                "SELECT {cols} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2"
            ),
            &[&token_hash, &now],
        )?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn audit(&self, e: &AuditEntry) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute(
            "INSERT INTO audit (at, area_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&e.at, &e.area_id, &e.actor, &e.action, &e.detail],
        )?;
        Ok(())
    }

    fn audit_log(&self, area_id: &str, before: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut conn = self.conn()?;
        conn.query(
            "SELECT seq, at, area_id, actor, action, detail FROM audit
             WHERE area_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            &[&area_id, &before, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                area_id: r.try_get(2)?,
                actor: r.try_get(3)?,
                action: r.try_get(4)?,
                detail: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn put_note(&self, n: &Note) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute(
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
        let mut conn = self.conn()?;
        conn.query(
            "SELECT id, area_id, theme, you_said, we_did, author, updated_at FROM notes
             WHERE area_id = $1 ORDER BY updated_at DESC, id",
            &[&area_id],
        )?
        .iter()
        .map(|r| {
            Ok(Note {
                id: r.try_get(0)?,
                area_id: r.try_get(1)?,
                theme: r.try_get(2)?,
                you_said: r.try_get(3)?,
                we_did: r.try_get(4)?,
                author: r.try_get(5)?,
                updated_at: r.try_get(6)?,
            })
        })
        .collect()
    }

    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        Ok(conn.execute(
            "DELETE FROM notes WHERE area_id = $1 AND id = $2",
            &[&area_id, &id],
        )? > 0)
    }
}

const USER_COLUMNS: &str = "id, area_id, username, password_hash, role, free_text";

fn user_row(r: &postgres::Row) -> Result<User> {
    let role: String = r.try_get(4)?;
    Ok(User {
        id: r.try_get(0)?,
        area_id: r.try_get(1)?,
        username: r.try_get(2)?,
        password_hash: r.try_get(3)?,
        role: Role::parse(&role).unwrap_or(Role::Leader),
        free_text: r.try_get(5)?,
    })
}
