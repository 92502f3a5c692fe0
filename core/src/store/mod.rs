//! The device's local store: encrypted Automerge documents in SQLite.
//!
//! - One connection, behind a mutex: a single writer. Every write runs in one
//!   transaction (writers take `&Transaction`) and is committed with WAL and
//!   `synchronous = FULL`, so it is on disk before the call returns; a process
//!   killed at any moment loses at most the call in flight.
//! - Every document, change chunk and list header is sealed with the host's
//!   key ([`crypto`]); only ids, form ids, heads and counters are in the clear.
//!   A wrong key is detected before anything is written.
//! - Each edit appends its Automerge change chunk; after
//!   [`DEVICE_CHUNKS_BEFORE_SNAPSHOT`]
//!   chunks the document is rewritten as one snapshot.
//! - Every write bumps a store-wide sequence number (`seq`), the change
//!   cursor the sync client reads with [`Store::changed_since`].
//! - Erasing a response deletes its rows with `secure_delete` on and
//!   truncates the WAL, so its bytes are gone from the file.

mod crypto;
pub mod replica;
pub mod schema;

pub use crypto::StoreKey;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::ChangeHash;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::doc::{DocKind, decode_heads, encode_heads, form_doc_id, form_from_doc, now_ms};
use crate::error::{Error, Result};
use crate::form::{Form, FormRef};
use crate::response::{
    Conflict, Consent, Outcome, RaisedFlag, ResponseContext, ResponseDoc, ResponseHeader, Status,
};
use crypto::Cipher;

/// Change chunks a device keeps per document before compacting it into a
/// snapshot (each chunk is sealed and opened on its own, so fewer than the
/// server keeps).
pub const DEVICE_CHUNKS_BEFORE_SNAPSHOT: i64 = 24;
/// Documents kept loaded in memory.
const CACHE_SIZE: usize = 64;
const KEY_CHECK: &[u8] = b"hark store key check v1";

/// A response with its answers, as the app shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseView {
    /// Everything but the answers.
    pub header: ResponseHeader,
    /// Current answers, by question id.
    pub answers: std::collections::BTreeMap<String, Answer>,
    /// Questions answered differently on two devices.
    pub conflicts: Vec<Conflict>,
}

/// Which responses to list. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseFilter {
    /// Only this form id.
    pub form_id: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this visit or event.
    pub occasion: Option<String>,
    /// Only responses with a safeguarding flag.
    pub flagged_only: bool,
}

/// A document changed since a cursor: what the sync client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocChange {
    /// Document id (`form:…` for forms).
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// Current heads.
    pub heads: Vec<ChangeHash>,
    /// The store sequence number of its last change.
    pub seq: i64,
}

struct Inner {
    conn: Connection,
    cache: HashMap<String, ResponseDoc>,
    forms: HashMap<FormRef, Arc<Form>>,
    user: Option<String>,
}

/// The encrypted local store. Cheap to share (`Arc<Store>`); all methods
/// take `&self` and serialise on one connection.
pub struct Store {
    inner: Mutex<Inner>,
    cipher: Cipher,
    device_id: String,
    /// The actor new responses are started with: made fresh on every open
    /// and never persisted, so no copy of this store (a restored backup)
    /// ever writes as it (see [`ResponseDoc::start_as`]).
    session_actor: automerge::ActorId,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

fn place(table: &str, id: &str, n: i64) -> Vec<u8> {
    format!("hark/1|{table}|{id}|{n}").into_bytes()
}

impl Store {
    /// Opens (or creates) the store at `path` with the host's key.
    ///
    /// # Errors
    /// [`Error::WrongKey`] if the key does not open an existing store — in
    /// which case nothing in the file is changed; [`Error::NewerSchema`] for a
    /// store written by a newer hark.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Self> {
        Self::setup(Connection::open(path)?, key)
    }

    /// An in-memory store (tests, kiosk demos).
    pub fn open_in_memory(key: &StoreKey) -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, key)
    }

    fn setup(mut conn: Connection, key: &StoreKey) -> Result<Self> {
        let cipher = Cipher::new(key);
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::LATEST {
            return Err(Error::NewerSchema(version));
        }
        if version > 0 {
            // Check the key before any write, the journal mode included.
            let check: Option<Vec<u8>> = conn
                .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let check = check.ok_or(Error::Tampered)?;
            match cipher.open(&place("meta", "key_check", 0), &check) {
                Ok(plain) if plain == KEY_CHECK => {}
                _ => return Err(Error::WrongKey),
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let tx = conn.transaction()?;
        if version == 0 {
            schema::create(&tx)?;
            let sealed = cipher.seal(&place("meta", "key_check", 0), KEY_CHECK);
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
                [sealed],
            )?;
            let device = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('device_id', ?1)",
                [device.as_bytes()],
            )?;
        } else {
            schema::upgrade(&tx, version)?;
        }
        let device: Vec<u8> =
            tx.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
                r.get(0)
            })?;
        tx.commit()?;
        let device_id =
            String::from_utf8(device).map_err(|_| Error::Malformed("device id".into()))?;
        Ok(Self {
            inner: Mutex::new(Inner {
                conn,
                cache: HashMap::new(),
                forms: HashMap::new(),
                user: None,
            }),
            cipher,
            device_id,
            session_actor: automerge::ActorId::random(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the database half
        // written (transactions roll back), so a poisoned lock is usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// This store's device id (random, made when the store was created).
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// Sets the staff code recorded as the author of the changes that
    /// follow (`None`: the device). Kiosk responses never record a user.
    pub fn set_user(&self, user: Option<String>) {
        self.lock().user = user;
    }

    fn author(&self, inner: &Inner, kiosk: bool) -> String {
        match (&inner.user, kiosk) {
            (Some(u), false) => u.clone(),
            (_, true) => format!("kiosk:{}", self.device_id),
            (None, false) => format!("device:{}", self.device_id),
        }
    }

    /// Stores a setting (server URL, token, ...), encrypted.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let inner = self.lock();
        let k = format!("setting:{key}");
        let sealed = self.cipher.seal(&place("meta", &k, 0), value.as_bytes());
        inner.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![k, sealed],
        )?;
        Ok(())
    }

    /// Reads a setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        let inner = self.lock();
        let k = format!("setting:{key}");
        let blob: Option<Vec<u8>> = inner
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [&k], |r| r.get(0))
            .optional()?;
        blob.map(|b| {
            let plain = self.cipher.open(&place("meta", &k, 0), &b)?;
            String::from_utf8(plain).map_err(|_| Error::Malformed("setting".into()))
        })
        .transpose()
    }

    // ----- forms -------------------------------------------------------

    /// Installs a form version (from the server, or a built-in). Returns
    /// `false` if that exact version was already installed.
    ///
    /// # Errors
    /// [`Error::FormVersionClash`] if different content is installed under
    /// the same id and version; the form's own validation errors.
    pub fn install_form(&self, form: &Form) -> Result<bool> {
        form.validate()?;
        let mut inner = self.lock();
        let r = form.form_ref();
        if let Some(existing) = self.load_form(&mut inner, &r)? {
            return if *existing == *form {
                Ok(false)
            } else {
                Err(Error::FormVersionClash(r))
            };
        }
        let tx = inner.conn.transaction()?;
        self.write_form(&tx, form)?;
        tx.commit()?;
        inner.forms.insert(r, Arc::new(form.clone()));
        Ok(true)
    }

    fn load_form(&self, inner: &mut Inner, r: &FormRef) -> Result<Option<Arc<Form>>> {
        if let Some(f) = inner.forms.get(r) {
            return Ok(Some(f.clone()));
        }
        let id = form_doc_id(r);
        let Some(bytes) = self.read_document(&inner.conn, &id)? else {
            return Ok(None);
        };
        let form = Arc::new(form_from_doc(&bytes)?);
        inner.forms.insert(r.clone(), form.clone());
        Ok(Some(form))
    }

    /// Every installed form version, ordered by id then version.
    pub fn forms(&self) -> Result<Vec<Arc<Form>>> {
        let mut inner = self.lock();
        let refs: Vec<FormRef> = {
            let mut stmt = inner
                .conn
                .prepare("SELECT form_id, form_version FROM documents WHERE kind = 'form'")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.filter_map(|r| r.ok())
                .filter_map(|(id, v)| {
                    Some(FormRef {
                        id,
                        version: semver::Version::parse(&v).ok()?,
                    })
                })
                .collect()
        };
        let mut out = Vec::new();
        for r in refs {
            out.extend(self.load_form(&mut inner, &r)?);
        }
        out.sort_by(|a, b| (&a.id, &a.version).cmp(&(&b.id, &b.version)));
        Ok(out)
    }

    /// The newest installed version of a form.
    pub fn latest_form(&self, form_id: &str) -> Result<Option<Arc<Form>>> {
        Ok(self
            .forms()?
            .into_iter()
            .filter(|f| f.id == form_id)
            .max_by(|a, b| a.version.cmp(&b.version)))
    }

    /// Whether a form is retired: its newest installed version was retired
    /// by the area. A retired form is not offered for new responses;
    /// responses begun on it are still finished and synced.
    pub fn is_retired(&self, form_id: &str) -> Result<bool> {
        match self.latest_form(form_id)? {
            Some(newest) => self.version_retired(&newest.form_ref()),
            None => Ok(false),
        }
    }

    /// Whether one installed form version was retired.
    fn version_retired(&self, r: &FormRef) -> Result<bool> {
        let inner = self.lock();
        let retired: Option<i64> = inner
            .conn
            .query_row(
                "SELECT retired_at FROM documents WHERE id = ?1",
                [form_doc_id(r)],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        Ok(retired.is_some())
    }

    /// The newest version of every form that is offered for new responses
    /// (not retired), ordered by id: what a device lists to start.
    pub fn offered_forms(&self) -> Result<Vec<Arc<Form>>> {
        let mut newest: Vec<Arc<Form>> = Vec::new();
        for f in self.forms()? {
            match newest.last_mut() {
                Some(last) if last.id == f.id => *last = f,
                _ => newest.push(f),
            }
        }
        let retired: std::collections::HashSet<String> = {
            let inner = self.lock();
            let mut stmt = inner.conn.prepare(
                "SELECT id FROM documents WHERE kind = 'form' AND retired_at IS NOT NULL",
            )?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?
        };
        Ok(newest
            .into_iter()
            .filter(|f| !retired.contains(&form_doc_id(&f.form_ref())))
            .collect())
    }

    /// One exact form version.
    pub fn form(&self, r: &FormRef) -> Result<Arc<Form>> {
        let mut inner = self.lock();
        self.load_form(&mut inner, r)?
            .ok_or_else(|| Error::FormNotInstalled(r.clone()))
    }

    // ----- responses ---------------------------------------------------

    /// Starts a draft response to the newest installed version of
    /// `form_id`, durably, and returns its id. A retired form is refused
    /// ([`Error::FormRetired`]).
    pub fn start_response(
        &self,
        form_id: &str,
        context: &ResponseContext,
        consent: Consent,
    ) -> Result<String> {
        let form = self.latest_form(form_id)?.ok_or_else(|| {
            Error::FormNotInstalled(FormRef {
                id: form_id.to_owned(),
                version: semver::Version::new(0, 0, 0),
            })
        })?;
        if self.version_retired(&form.form_ref())? {
            return Err(Error::FormRetired(form_id.to_owned()));
        }
        let mut context = context.clone();
        if context.device.is_empty() {
            context.device = self.device_id.clone();
        }
        if context.captured_at == 0 {
            context.captured_at = now_ms();
        }
        if context.kiosk {
            context.practitioner = None;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut inner = self.lock();
        let author = self.author(&inner, context.kiosk);
        let mut doc = ResponseDoc::start_as(
            self.session_actor.clone(),
            &id,
            &form,
            &context,
            consent,
            &author,
        )?;
        self.persist(&mut inner, &mut doc, true)?;
        cache_put(&mut inner, doc);
        Ok(id)
    }

    /// Loads a response into the cache (if needed), runs `f` on it, and
    /// persists whatever change `f` made before returning. If `f` fails the
    /// document is unchanged; if persisting fails the cached copy is dropped
    /// so memory never runs ahead of disk.
    fn mutate<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut ResponseDoc, &Form) -> Result<T>,
    ) -> Result<T> {
        let mut inner = self.lock();
        let mut doc = match inner.cache.remove(id) {
            Some(doc) => doc,
            None => self.load_response(&inner, id)?,
        };
        let author = self.author(&inner, doc.context().kiosk);
        doc.set_author(&author);
        let form = self
            .load_form(&mut inner, &doc.form_ref().clone())?
            .ok_or_else(|| Error::FormNotInstalled(doc.form_ref().clone()))?;
        let out = match f(&mut doc, &form) {
            Ok(out) => out,
            Err(e) => {
                cache_put(&mut inner, doc);
                return Err(e);
            }
        };
        self.persist(&mut inner, &mut doc, false)?;
        cache_put(&mut inner, doc);
        Ok(out)
    }

    fn load_response(&self, inner: &Inner, id: &str) -> Result<ResponseDoc> {
        let bytes = self
            .read_document(&inner.conn, id)?
            .ok_or_else(|| Error::NotFound(id.to_owned()))?;
        ResponseDoc::load(&bytes, &self.author(inner, false))
    }

    /// Snapshot plus change chunks, decrypted and concatenated: the form
    /// `Automerge::load` reads.
    fn read_document(&self, conn: &Connection, id: &str) -> Result<Option<Vec<u8>>> {
        let snapshot: Option<Vec<u8>> = conn
            .query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(snapshot) = snapshot else {
            return Ok(None);
        };
        let mut bytes = self.cipher.open(&place("documents", id, 0), &snapshot)?;
        let mut stmt =
            conn.prepare_cached("SELECT n, data FROM changes WHERE doc_id = ?1 ORDER BY n")?;
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            let n: i64 = row.get(0)?;
            let data: Vec<u8> = row.get(1)?;
            bytes.extend(self.cipher.open(&place("changes", id, n), &data)?);
        }
        Ok(Some(bytes))
    }

    /// Persists a response's new changes in their own transaction. If that
    /// fails the cached copy is dropped so memory never runs ahead of disk.
    fn persist(&self, inner: &mut Inner, doc: &mut ResponseDoc, new: bool) -> Result<()> {
        let result = (|| {
            let tx = inner.conn.transaction()?;
            self.write_doc(&tx, doc, new)?;
            tx.commit()?;
            Ok(())
        })();
        if result.is_err() {
            inner.cache.remove(doc.id());
        }
        result
    }

    /// Writes a response's new changes (or, when new or due, a compacted
    /// snapshot) and its header within `tx`.
    fn write_doc(&self, tx: &Transaction<'_>, doc: &mut ResponseDoc, new: bool) -> Result<()> {
        let id = doc.id().to_owned();
        let incremental = if new {
            Vec::new()
        } else {
            doc.save_incremental()
        };
        if !new && incremental.is_empty() {
            return Ok(());
        }
        let n_changes: i64 = if new {
            0
        } else {
            tx.query_row(
                "SELECT n_changes FROM documents WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(id.clone()))?
        };
        let compact = new || n_changes + 1 >= DEVICE_CHUNKS_BEFORE_SNAPSHOT;
        let chunk = if compact { doc.save() } else { incremental };
        let header = doc.header()?;
        let heads = encode_heads(&doc.heads());
        let header_blob = self.cipher.seal(
            &place("header", &id, 0),
            &serde_json::to_vec(&header).unwrap_or_default(),
        );
        let seq = next_seq(tx)?;
        if compact {
            write_snapshot(
                tx,
                &self.cipher,
                &id,
                &header,
                seq,
                &heads,
                &chunk,
                &header_blob,
            )
        } else {
            append_change(
                tx,
                &self.cipher,
                &id,
                n_changes + 1,
                seq,
                &heads,
                &chunk,
                &header_blob,
            )
        }
    }

    /// Records an answer, durably. See [`ResponseDoc::answer`].
    pub fn answer(&self, response: &str, question: &str, answer: Answer) -> Result<Outcome> {
        self.mutate(response, |doc, form| {
            doc.answer(form, question, answer, now_ms())
        })
    }

    /// Clears an answer, durably.
    pub fn clear_answer(&self, response: &str, question: &str) -> Result<Outcome> {
        self.mutate(response, |doc, form| doc.clear(form, question, now_ms()))
    }

    /// Corrects the capture context, durably.
    pub fn set_context(&self, response: &str, context: &ResponseContext) -> Result<()> {
        self.mutate(response, |doc, _| {
            let mut c = context.clone();
            let old = doc.context();
            if c.kiosk || old.kiosk {
                c.practitioner = None;
                c.kiosk = old.kiosk;
            }
            doc.set_context(&c, now_ms())
        })
    }

    /// Records consent and assent, durably.
    pub fn set_consent(&self, response: &str, consent: Consent) -> Result<()> {
        self.mutate(response, |doc, _| doc.set_consent(consent, now_ms()))
    }

    /// Submits a response, durably, and returns the safeguarding flags it
    /// raises (show their guidance to the practitioner at once).
    pub fn submit(&self, response: &str) -> Result<Vec<RaisedFlag>> {
        self.mutate(response, |doc, form| doc.submit(form, now_ms()))
    }

    /// Reopens a submitted response for editing, durably.
    pub fn reopen(&self, response: &str) -> Result<()> {
        self.mutate(response, |doc, _| doc.reopen(now_ms()))
    }

    /// One response with its answers and conflicts.
    pub fn response(&self, id: &str) -> Result<ResponseView> {
        self.mutate(id, |doc, _| {
            Ok(ResponseView {
                header: doc.header()?,
                answers: doc.answers()?,
                conflicts: doc.conflicts()?,
            })
        })
    }

    /// Lists responses matching `filter`, newest capture first. Reads only
    /// the encrypted headers, not the documents.
    pub fn list(&self, filter: &ResponseFilter) -> Result<Vec<ResponseHeader>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id, header FROM documents WHERE kind = 'response' AND (?1 IS NULL OR form_id = ?1)",
        )?;
        let rows = stmt.query_map([&filter.form_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, blob) = row?;
            let plain = self.cipher.open(&place("header", &id, 0), &blob)?;
            let header: ResponseHeader = serde_json::from_slice(&plain)
                .map_err(|_| Error::Malformed("response header".into()))?;
            let keep = filter.status.is_none_or(|s| s == header.status)
                && filter
                    .occasion
                    .as_ref()
                    .is_none_or(|o| header.context.occasion.as_ref() == Some(o))
                && (!filter.flagged_only || !header.flags.is_empty());
            if keep {
                out.push(header);
            }
        }
        out.sort_by(|a, b| {
            b.context
                .captured_at
                .cmp(&a.context.captured_at)
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// Erases a response for real (a family withdrew consent): its rows are
    /// deleted with `secure_delete` on, the WAL is truncated so no copy of
    /// its pages survives in the files, and an erasure is recorded (ids
    /// only) for sync to pass on. Returns whether it existed.
    pub fn erase_response(&self, id: &str) -> Result<bool> {
        let mut inner = self.lock();
        inner.cache.remove(id);
        let tx = inner.conn.transaction()?;
        // Take the sequence number before the delete: the erased document
        // may hold the highest one, and the cursor must never go back.
        let seq = next_seq(&tx)?;
        let existed = tx.execute(
            "DELETE FROM documents WHERE id = ?1 AND kind = 'response'",
            [id],
        )? > 0;
        tx.execute("DELETE FROM changes WHERE doc_id = ?1", [id])?;
        tx.execute(
            "INSERT INTO erasures (doc_id, seq) VALUES (?1, ?2) ON CONFLICT (doc_id) DO UPDATE SET seq = excluded.seq",
            params![id, seq],
        )?;
        tx.commit()?;
        inner
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(existed)
    }

    /// Whether a response was erased on this device.
    pub fn is_erased(&self, id: &str) -> Result<bool> {
        let inner = self.lock();
        Ok(inner
            .conn
            .query_row("SELECT 1 FROM erasures WHERE doc_id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// A consistent copy of the whole database file, as a device backup
    /// would take it (tests of restored backups).
    #[cfg(test)]
    pub(crate) fn export_backup_for_tests(&self) -> Vec<u8> {
        let inner = self.lock();
        let dir = std::env::temp_dir().join(format!("hark-backup-{}", uuid::Uuid::new_v4()));
        inner
            .conn
            .execute("VACUUM INTO ?1", [dir.to_string_lossy()])
            .expect("vacuum into");
        let bytes = std::fs::read(&dir).expect("read backup");
        let _ = std::fs::remove_file(&dir);
        bytes
    }

    // ----- sync support ------------------------------------------------

    /// The current change cursor (highest sequence number written).
    pub fn cursor(&self) -> Result<i64> {
        let inner = self.lock();
        current_seq(&inner.conn)
    }

    /// Documents written after `cursor`, oldest first, with their heads:
    /// what a sync must offer a peer that has seen up to `cursor`.
    pub fn changed_since(&self, cursor: i64) -> Result<Vec<DocChange>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id, kind, heads, seq FROM documents WHERE seq > ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([cursor], |r| {
            let kind: String = r.get(1)?;
            Ok(DocChange {
                id: r.get(0)?,
                kind: DocKind::parse(&kind).unwrap_or(DocKind::Response),
                heads: decode_heads(&r.get::<_, Vec<u8>>(2)?),
                seq: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids erased after `cursor`.
    pub fn erased_since(&self, cursor: i64) -> Result<Vec<String>> {
        let inner = self.lock();
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT doc_id FROM erasures WHERE seq > ?1 ORDER BY seq")?;
        let rows = stmt.query_map([cursor], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The heads of one document, from the index (no decryption).
    pub fn heads(&self, id: &str) -> Result<Option<Vec<ChangeHash>>> {
        let inner = self.lock();
        let heads: Option<Vec<u8>> = inner
            .conn
            .query_row("SELECT heads FROM documents WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(heads.map(|h| decode_heads(&h)))
    }

    /// The whole document, as Automerge bytes (for sync and bundles).
    pub fn export_document(&self, id: &str) -> Result<Vec<u8>> {
        let inner = self.lock();
        self.read_document(&inner.conn, id)?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }
}

fn cache_put(inner: &mut Inner, doc: ResponseDoc) {
    if inner.cache.len() >= CACHE_SIZE
        && let Some(k) = inner.cache.keys().next().cloned()
    {
        inner.cache.remove(&k);
    }
    inner.cache.insert(doc.id().to_owned(), doc);
}

fn current_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT max(COALESCE((SELECT max(seq) FROM documents), 0), COALESCE((SELECT max(seq) FROM erasures), 0))",
        [],
        |r| r.get(0),
    )?)
}

fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(current_seq(tx)? + 1)
}

#[allow(clippy::too_many_arguments)]
fn write_snapshot(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    id: &str,
    header: &ResponseHeader,
    seq: i64,
    heads: &[u8],
    snapshot: &[u8],
    header_blob: &[u8],
) -> Result<()> {
    tx.execute("DELETE FROM changes WHERE doc_id = ?1", [id])?;
    tx.execute(
        "INSERT INTO documents (id, kind, form_id, form_version, seq, heads, snapshot, header, n_changes)
         VALUES (?1, 'response', ?2, ?3, ?4, ?5, ?6, ?7, 0)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
             snapshot = excluded.snapshot, header = excluded.header, n_changes = 0",
        params![
            id,
            header.form.id,
            header.form.version.to_string(),
            seq,
            heads,
            cipher.seal(&place("documents", id, 0), snapshot),
            header_blob
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn append_change(
    tx: &Transaction<'_>,
    cipher: &Cipher,
    id: &str,
    n: i64,
    seq: i64,
    heads: &[u8],
    chunk: &[u8],
    header_blob: &[u8],
) -> Result<()> {
    tx.execute(
        "INSERT INTO changes (doc_id, n, data) VALUES (?1, ?2, ?3)",
        params![id, n, cipher.seal(&place("changes", id, n), chunk)],
    )?;
    tx.execute(
        "UPDATE documents SET seq = ?2, heads = ?3, header = ?4, n_changes = ?5 WHERE id = ?1",
        params![id, seq, heads, header_blob, n],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
