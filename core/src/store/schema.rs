//! The device store's schema and its numbered migrations.
//!
//! `PRAGMA user_version` holds the schema version. A fresh database is
//! created at [`LATEST`] directly by [`create`]; an older one is brought up
//! step by step by [`upgrade`]. A test checks that both paths give the same
//! tables, columns and indexes.

use rusqlite::Transaction;

use crate::error::{Error, Result};

/// The schema version this build writes.
pub const LATEST: i64 = 3;

/// Creates the latest schema in an empty database, in one step.
pub fn create(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(FRESH)?;
    tx.pragma_update(None, "user_version", LATEST)?;
    Ok(())
}

/// The whole latest schema, as a new store gets it. Kept in step with the
/// migrations below by the `upgraded_equals_fresh` test.
const FRESH: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE documents (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('response', 'form')),
    form_id      TEXT NOT NULL,
    form_version TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    heads        BLOB NOT NULL,
    snapshot     BLOB NOT NULL,
    header       BLOB,
    n_changes    INTEGER NOT NULL DEFAULT 0,
    retired_at   INTEGER
) STRICT;
CREATE INDEX documents_seq ON documents (seq);
CREATE TABLE changes (
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    n      INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (doc_id, n)
) STRICT;
CREATE TABLE erasures (
    doc_id TEXT PRIMARY KEY NOT NULL,
    seq    INTEGER NOT NULL
) STRICT;
CREATE INDEX erasures_seq ON erasures (seq);
CREATE TABLE sync_peers (
    peer         TEXT PRIMARY KEY NOT NULL,
    local_cursor INTEGER NOT NULL DEFAULT 0,
    peer_cursor  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE sync_docs (
    peer   TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    heads  BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
) STRICT;
";

/// Upgrades a database at `from` to [`LATEST`], one numbered step at a time.
pub fn upgrade(tx: &Transaction<'_>, from: i64) -> Result<()> {
    if from > LATEST {
        return Err(Error::NewerSchema(from));
    }
    if from < 1 {
        tx.execute_batch(V1)?;
    }
    if from < 2 {
        tx.execute_batch(V2)?;
    }
    if from < 3 {
        tx.execute_batch(V3)?;
    }
    tx.pragma_update(None, "user_version", LATEST)?;
    Ok(())
}

/// Version 1: documents (responses and forms), their change chunks, meta.
/// Only ids, form ids, heads and counters are in the clear; every document,
/// change and header is an encrypted blob.
pub(crate) const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE documents (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('response', 'form')),
    form_id      TEXT NOT NULL,
    form_version TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    heads        BLOB NOT NULL,
    snapshot     BLOB NOT NULL,
    header       BLOB,
    n_changes    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX documents_seq ON documents (seq);
CREATE TABLE changes (
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    n      INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (doc_id, n)
) STRICT;
";

/// Version 2: erasures (withdrawn consent, propagated by sync) and the
/// per-peer sync state: cursors, and the heads last acknowledged per document.
pub(crate) const V2: &str = "
CREATE TABLE erasures (
    doc_id TEXT PRIMARY KEY NOT NULL,
    seq    INTEGER NOT NULL
) STRICT;
CREATE INDEX erasures_seq ON erasures (seq);
CREATE TABLE sync_peers (
    peer         TEXT PRIMARY KEY NOT NULL,
    local_cursor INTEGER NOT NULL DEFAULT 0,
    peer_cursor  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE sync_docs (
    peer   TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    heads  BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
) STRICT;
";

/// Version 3: when a form was retired (from its document; null while it is
/// offered). The cursors of what peers sent are reset, so the next sync
/// fetches every form document again: a store of an older hark kept its
/// own copy of a form and dropped a retirement it could not read.
pub(crate) const V3: &str = "
ALTER TABLE documents ADD COLUMN retired_at INTEGER;
UPDATE sync_peers SET peer_cursor = 0;
";

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn describe(conn: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        let mut tables = conn
            .prepare("SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
            .expect("prepare");
        let rows: Vec<(String, String, String)> = tables
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        for (kind, name, table) in rows {
            out.push(format!("{kind} {name} on {table}"));
            if kind == "table" {
                let mut cols = conn
                    .prepare(&format!("PRAGMA table_xinfo({name})"))
                    .expect("prepare");
                let cols: Vec<String> = cols
                    .query_map([], |r| {
                        Ok(format!(
                            "  {} {} notnull={} default={:?} pk={}",
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, i64>(5)?
                        ))
                    })
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                out.extend(cols);
            } else {
                let mut cols = conn
                    .prepare(&format!("PRAGMA index_xinfo({name})"))
                    .expect("prepare");
                let cols: Vec<String> = cols
                    .query_map([], |r| {
                        Ok(format!("  idx {:?}", r.get::<_, Option<String>>(2)?))
                    })
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                out.extend(cols);
            }
        }
        out.push(format!(
            "user_version {}",
            conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                .expect("version")
        ));
        out
    }

    #[test]
    fn upgraded_equals_fresh() {
        let mut fresh = Connection::open_in_memory().expect("open");
        let tx = fresh.transaction().expect("tx");
        create(&tx).expect("create");
        tx.commit().expect("commit");

        for start in 0..LATEST {
            let mut old = Connection::open_in_memory().expect("open");
            let tx = old.transaction().expect("tx");
            // The database as version `start` left it.
            for (v, sql) in [(1, V1), (2, V2)] {
                if start >= v {
                    tx.execute_batch(sql).expect("migration");
                    tx.pragma_update(None, "user_version", v).expect("version");
                }
            }
            tx.commit().expect("commit");
            let tx = old.transaction().expect("tx");
            upgrade(&tx, start).expect("upgrade");
            tx.commit().expect("commit");
            assert_eq!(
                describe(&old),
                describe(&fresh),
                "upgrade from {start} differs from fresh"
            );
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        let tx = conn.transaction().expect("tx");
        assert!(matches!(
            upgrade(&tx, LATEST + 1),
            Err(Error::NewerSchema(_))
        ));
    }
}
