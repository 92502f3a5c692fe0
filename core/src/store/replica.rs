//! What replication needs from the store, in the store's own terms:
//! staging what changed since the last completed exchange with a peer,
//! the bytes of a document after a base, applying documents that arrive
//! (all or nothing), and remembering what each peer acknowledged.
//!
//! Nothing here knows the wire: `crate::sync` turns these into messages
//! (and back), for a server, a hub tablet or a bundle file alike.

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{OptionalExtension, params};

use super::{Store, cache_put, current_seq, place};
use crate::doc::{
    DocKind, decode_heads, encode_heads, form_doc, form_doc_id, form_doc_retired, form_from_doc,
};
use crate::error::{Error, Result};
use crate::form::Form;
use crate::response::{Conflict, ResponseDoc, ResponseHeader};

/// A document that changed locally since the last completed sync with a
/// peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedDoc {
    /// Document id.
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// Local sequence number of its last change.
    pub seq: i64,
    /// Current heads.
    pub heads: Vec<ChangeHash>,
    /// The heads the peer last acknowledged, if it ever did.
    pub acked: Option<Vec<ChangeHash>>,
    /// Carries a safeguarding flag.
    pub flagged: bool,
}

/// Everything a sync with one peer starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Staged {
    /// Documents changed since the last completed sync with this peer.
    pub docs: Vec<StagedDoc>,
    /// Responses erased since then.
    pub erased: Vec<String>,
    /// The highest local sequence number staged: the local cursor to record
    /// once the sync completes.
    pub upto: i64,
    /// The peer's cursor last acknowledged.
    pub peer_cursor: i64,
}

/// A document (or its changes after `base`) that arrived from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// Document id.
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// The heads `bytes` builds on; empty when `bytes` is the whole
    /// document.
    pub base: Vec<ChangeHash>,
    /// Automerge bytes.
    pub bytes: Vec<u8>,
}

/// What to send for one document: its changes after `base`, or the whole
/// document when `base` is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The heads the bytes build on (empty: the whole document).
    pub base: Vec<ChangeHash>,
    /// Automerge bytes.
    pub bytes: Vec<u8>,
}

/// What applying incoming documents did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Documents merged or added.
    pub applied: usize,
    /// Responses that arrived for ids erased here (ignored).
    pub ignored_erased: usize,
    /// Documents whose changes could not be applied without the whole
    /// document: ask the peer for them whole.
    pub want_whole: Vec<String>,
    /// Conflicts present after merging.
    pub conflicts: Vec<Conflict>,
}

/// A document checked and ready to write.
enum Ready {
    /// A form version, with its document as it came when it is retired.
    Form(Form, Option<Retired>),
    Response {
        data_id: String,
        base: Vec<ChangeHash>,
        bytes: Vec<u8>,
        whole: Option<Box<ResponseDoc>>,
    },
}

/// A retired form's document as it arrived from the server, kept as it
/// came.
struct Retired {
    at: i64,
    heads: Vec<ChangeHash>,
    bytes: Vec<u8>,
}

impl Store {
    /// The cursors recorded for `peer`: (local, peer's).
    pub fn sync_cursors(&self, peer: &str) -> Result<(i64, i64)> {
        let inner = self.lock();
        Ok(inner
            .conn
            .query_row(
                "SELECT local_cursor, peer_cursor FROM sync_peers WHERE peer = ?1",
                [peer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, 0)))
    }

    /// Everything changed since the last completed sync with `peer`.
    pub fn stage(&self, peer: &str) -> Result<Staged> {
        let (local, peer_cursor) = self.sync_cursors(peer)?;
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT d.id, d.kind, d.seq, d.heads, s.heads, d.header FROM documents d
             LEFT JOIN sync_docs s ON s.peer = ?1 AND s.doc_id = d.id
             WHERE d.seq > ?2 ORDER BY d.seq",
        )?;
        let rows = stmt.query_map(params![peer, local], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?,
            ))
        })?;
        let mut docs = Vec::new();
        for row in rows {
            let (id, kind, seq, heads, acked, header) = row?;
            let flagged = match &header {
                Some(blob) => {
                    let plain = self.cipher.open(&place("header", &id, 0), blob)?;
                    serde_json::from_slice::<ResponseHeader>(&plain)
                        .is_ok_and(|h| !h.flags.is_empty())
                }
                None => false,
            };
            docs.push(StagedDoc {
                id,
                kind: DocKind::parse(&kind).unwrap_or(DocKind::Response),
                seq,
                heads: decode_heads(&heads),
                acked: acked.map(|a| decode_heads(&a)),
                flagged,
            });
        }
        let mut erased_stmt = inner
            .conn
            .prepare_cached("SELECT doc_id FROM erasures WHERE seq > ?1 ORDER BY seq")?;
        let erased = erased_stmt
            .query_map([local], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let upto = current_seq(&inner.conn)?;
        Ok(Staged {
            docs,
            erased,
            upto,
            peer_cursor,
        })
    }

    /// What to send a peer that has `base` of a document: the changes
    /// after it, or the whole document if the base is empty or unknown
    /// here.
    pub fn outgoing(&self, id: &str, base: &[ChangeHash]) -> Result<Outgoing> {
        let bytes = self.export_document(id)?;
        let mut doc = AutoCommit::load(&bytes)?;
        // A form document always travels whole: a peer reads it as a form.
        let base_known = !id.starts_with("form:")
            && !base.is_empty()
            && base.iter().all(|h| doc.get_change_by_hash(h).is_some());
        // Whole documents travel uncompressed, so the message's gzip can
        // compress across documents (column compression per document
        // cannot see the repetition between responses to one form).
        Ok(if base_known {
            Outgoing {
                base: base.to_vec(),
                bytes: doc.save_after(base),
            }
        } else {
            Outgoing {
                base: Vec::new(),
                bytes: doc.save_nocompress(),
            }
        })
    }

    /// Applies responses from a peer (a tablet syncing with a hub, a
    /// bundle), all or nothing: every document is checked first (it must
    /// load and be a hark document with the id it claims), and only then
    /// are all written in one transaction. Responses erased here stay
    /// erased. A peer may not send forms: forms come from the area's
    /// server only ([`Store::apply_from_server`]), so a tablet at an event
    /// cannot change, add or retire the forms a hub offers.
    pub fn apply(&self, docs: &[Incoming]) -> Result<Applied> {
        if docs.iter().any(|d| d.kind == DocKind::Form) {
            return Err(Error::Malformed(
                "a peer may not send forms; forms come from the area's server".into(),
            ));
        }
        self.apply_from_server(docs)
    }

    /// Applies documents from the area's server: responses as
    /// [`Store::apply`] does, and form versions. A form version already
    /// installed must have the same content (a version is never
    /// rewritten); it may arrive retired.
    pub fn apply_from_server(&self, docs: &[Incoming]) -> Result<Applied> {
        let mut ready = Vec::with_capacity(docs.len());
        for d in docs {
            match d.kind {
                DocKind::Form => {
                    let form = form_from_doc(&d.bytes)?;
                    {
                        let mut inner = self.lock();
                        if let Some(installed) = self.load_form(&mut inner, &form.form_ref())?
                            && *installed != form
                        {
                            return Err(Error::FormVersionClash(form.form_ref()));
                        }
                    }
                    let retired = match form_doc_retired(&d.bytes)? {
                        Some(at) => Some(Retired {
                            at,
                            heads: AutoCommit::load(&d.bytes)?.get_heads(),
                            bytes: d.bytes.clone(),
                        }),
                        None => None,
                    };
                    ready.push(Ready::Form(form, retired));
                }
                DocKind::Response => {
                    let base = d.base.clone();
                    let whole = if base.is_empty() {
                        let doc =
                            ResponseDoc::load(&d.bytes, &format!("device:{}", self.device_id))?;
                        if doc.id() != d.id {
                            return Err(Error::Malformed("document id does not match".into()));
                        }
                        Some(Box::new(doc))
                    } else {
                        // Changes only: they must at least parse as changes.
                        let mut probe = AutoCommit::new();
                        probe.load_incremental(&d.bytes)?;
                        None
                    };
                    ready.push(Ready::Response {
                        data_id: d.id.clone(),
                        base,
                        bytes: d.bytes.clone(),
                        whole,
                    });
                }
            }
        }
        let mut out = Applied::default();
        let mut inner = self.lock();
        // Load every response that will be merged, before the transaction.
        let mut touched: Vec<(ResponseDoc, bool)> = Vec::new();
        let mut forms = Vec::new();
        for r in ready {
            match r {
                Ready::Form(f, retired) => forms.push((f, retired)),
                Ready::Response {
                    data_id,
                    base,
                    bytes,
                    whole,
                } => {
                    let erased = inner
                        .conn
                        .query_row(
                            "SELECT 1 FROM erasures WHERE doc_id = ?1",
                            [&data_id],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                    if erased {
                        out.ignored_erased += 1;
                        continue;
                    }
                    let pos = touched.iter().position(|(d, _)| d.id() == data_id);
                    let existing = match pos {
                        Some(i) => Some(touched.remove(i)),
                        None => match inner.cache.remove(&data_id) {
                            Some(doc) => Some((doc, false)),
                            None => match self.load_response(&inner, &data_id) {
                                Ok(doc) => Some((doc, false)),
                                Err(Error::NotFound(_)) => None,
                                Err(e) => return Err(e),
                            },
                        },
                    };
                    match (existing, whole) {
                        (Some((mut doc, new)), Some(mut incoming)) => {
                            doc.merge(&mut incoming)?;
                            touched.push((doc, new));
                        }
                        (Some((mut doc, new)), None) => {
                            let known = base
                                .iter()
                                .all(|h| doc.doc_mut().get_change_by_hash(h).is_some());
                            if known {
                                doc.doc_mut().load_incremental(&bytes)?;
                            } else {
                                out.want_whole.push(data_id.clone());
                            }
                            touched.push((doc, new));
                        }
                        (None, Some(incoming)) => {
                            if self.load_form(&mut inner, incoming.form_ref())?.is_none() {
                                return Err(Error::FormNotInstalled(incoming.form_ref().clone()));
                            }
                            touched.push((*incoming, true));
                        }
                        (None, None) => out.want_whole.push(data_id),
                    }
                }
            }
        }
        let result = (|| -> Result<()> {
            let tx = inner.conn.transaction()?;
            for (f, retired) in &forms {
                self.write_form(&tx, f)?;
                if let Some(r) = retired {
                    self.retire_form(&tx, f, r)?;
                }
            }
            for (doc, new) in &mut touched {
                self.write_doc(&tx, doc, *new)?;
            }
            tx.commit()?;
            Ok(())
        })();
        result?;
        out.applied = forms.len() + touched.len();
        for (f, _) in forms {
            // An installed version keeps its cached copy (the same content).
            inner
                .forms
                .entry(f.form_ref())
                .or_insert_with(|| std::sync::Arc::new(f));
        }
        for (doc, _) in touched {
            out.conflicts.extend(doc.conflicts()?);
            cache_put(&mut inner, doc);
        }
        Ok(out)
    }

    /// Records the heads a peer acknowledged, (document id, heads), so the
    /// next sync sends only what follows them.
    pub fn record_acks(&self, peer: &str, acks: &[(String, Vec<ChangeHash>)]) -> Result<()> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sync_docs (peer, doc_id, heads) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer, doc_id) DO UPDATE SET heads = excluded.heads",
            )?;
            for (id, heads) in acks {
                stmt.execute(params![peer, id, encode_heads(heads)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a completed sync: local changes up to `local` and the peer's
    /// up to `peer_cursor` are exchanged.
    pub fn finish_sync(&self, peer: &str, local: i64, peer_cursor: i64) -> Result<()> {
        let inner = self.lock();
        inner.conn.execute(
            "INSERT INTO sync_peers (peer, local_cursor, peer_cursor) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer) DO UPDATE SET local_cursor = excluded.local_cursor, peer_cursor = excluded.peer_cursor",
            params![peer, local, peer_cursor],
        )?;
        Ok(())
    }

    /// Merges another copy of a response (whole document, or changes that
    /// apply on top of what this store holds) into the store, durably.
    /// Erased responses stay erased. Returns the conflicts now present.
    pub fn import_response(&self, bytes: &[u8]) -> Result<Vec<Conflict>> {
        let doc = ResponseDoc::load(bytes, &format!("device:{}", self.device_id))?;
        let incoming = Incoming {
            id: doc.id().to_owned(),
            kind: DocKind::Response,
            base: Vec::new(),
            bytes: bytes.to_vec(),
        };
        Ok(self.apply(std::slice::from_ref(&incoming))?.conflicts)
    }

    /// Records that a form version was retired, keeping its document as it
    /// came. Once retired, a version stays retired.
    fn retire_form(
        &self,
        tx: &rusqlite::Transaction<'_>,
        form: &Form,
        retired: &Retired,
    ) -> Result<()> {
        let id = form_doc_id(&form.form_ref());
        tx.execute(
            "UPDATE documents SET retired_at = ?2, heads = ?3, snapshot = ?4
             WHERE id = ?1 AND retired_at IS NULL",
            params![
                id,
                retired.at,
                encode_heads(&retired.heads),
                self.cipher
                    .seal(&place("documents", &id, 0), &retired.bytes)
            ],
        )?;
        Ok(())
    }

    pub(super) fn write_form(&self, tx: &rusqlite::Transaction<'_>, form: &Form) -> Result<()> {
        let r = form.form_ref();
        let id = form_doc_id(&r);
        let exists = tx
            .query_row("SELECT 1 FROM documents WHERE id = ?1", [&id], |_| Ok(()))
            .optional()?
            .is_some();
        if exists {
            return Ok(());
        }
        let (heads, bytes) = form_doc(form)?;
        let seq = super::next_seq(tx)?;
        tx.execute(
            "INSERT INTO documents (id, kind, form_id, form_version, seq, heads, snapshot)
             VALUES (?1, 'form', ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                form.id,
                form.version.to_string(),
                seq,
                encode_heads(&heads),
                self.cipher.seal(&place("documents", &id, 0), &bytes)
            ],
        )?;
        Ok(())
    }
}
