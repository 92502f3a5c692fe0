//! The storage conformance suites, one macro per capability trait (and one
//! for the schema), each run against both backends (`sqlite_…` on an
//! in-memory or temporary database, `postgres_…` on a fresh database per
//! test), so the two behave identically.
//!
//! PostgreSQL must be running at `127.0.0.1:5432` (user `postgres`, trust
//! authentication; the CI script starts it). The PostgreSQL tests fail, and
//! do not skip, when it is not.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Condvar, Mutex, PoisonError};

use automerge::ChangeHash;
use automerge::transaction::Transactable;
use hark_core::answer::Answer;
use hark_core::doc::{DocKind, now_ms};
use hark_core::form::{Form, builtin_form, plausible_answers};
use hark_core::response::{Consent, ResponseContext, ResponseDoc, Status};
use hark_core::sync::{DocData, wire_heads};
use serde_bytes::ByteBuf;

use super::backend::Backend;
use super::postgres::PostgresStorage;
use super::sqlite::SqliteStorage;
use super::*;
use crate::admin;
use crate::error::Error;
use crate::ingest::Ingest;
use crate::ingest::{Fate, Merged, SERVER_CHUNKS_BEFORE_SNAPSHOT, StagedDoc};
use crate::model::{Area, AuditEntry, Device, Flag, FlagStatus, Note, Role, User};
use crate::projection::{AnswerRow, Projection, answer_row};
use crate::tally::{Dim, TallyQuery};
use crate::validate::{AreaForms, check};
use hark_core::doc::form_doc;
use hark_core::lists::AreaLists;

// ---------------------------------------------------------------------------
// Backends

/// An in-memory SQLite storage.
struct SqliteGuard(SqliteStorage);

impl SqliteGuard {
    fn new() -> Self {
        Self(SqliteStorage::in_memory().expect("in-memory SQLite"))
    }
}

impl Deref for SqliteGuard {
    type Target = dyn Storage;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The maintenance database on the CI server.
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn pg_admin() -> ::postgres::Client {
    ::postgres::Client::connect(PG_ADMIN_URL, ::postgres::NoTls).unwrap_or_else(|e| {
        panic!("PostgreSQL must be running at {PG_ADMIN_URL} for the storage tests (the CI script starts it): {e}")
    })
}

/// At most this many test databases at once, however many test threads
/// run, so the tests stay well under the server's connection limit (100 by
/// default).
const PG_MAX_DATABASES: usize = 8;
static PG_IN_USE: Mutex<usize> = Mutex::new(0);
static PG_FREED: Condvar = Condvar::new();

/// One of the [`PG_MAX_DATABASES`] slots, held while a test database lives.
struct PgSlot;

impl PgSlot {
    fn take() -> Self {
        let mut in_use = PG_IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        while *in_use >= PG_MAX_DATABASES {
            in_use = PG_FREED
                .wait(in_use)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *in_use += 1;
        Self
    }
}

impl Drop for PgSlot {
    fn drop(&mut self) {
        *PG_IN_USE.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        PG_FREED.notify_one();
    }
}

/// A PostgreSQL storage on a database of its own, dropped afterwards.
struct PgGuard {
    storage: Option<PostgresStorage>,
    db: String,
    // Last: released once the database is dropped.
    _slot: PgSlot,
}

impl PgGuard {
    /// A fresh database, connected and migrated.
    fn new() -> Self {
        let mut guard = Self::empty();
        guard.storage =
            Some(PostgresStorage::connect(&guard.url()).expect("connect to the test database"));
        guard
    }

    /// A fresh database with no schema and no connection yet.
    fn empty() -> Self {
        let slot = PgSlot::take();
        let db = format!("hark_test_{}", uuid::Uuid::new_v4().simple());
        pg_admin()
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .expect("create the test database");
        Self {
            storage: None,
            db,
            _slot: slot,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.db)
    }
}

impl Deref for PgGuard {
    type Target = dyn Storage;
    fn deref(&self) -> &Self::Target {
        self.storage.as_ref().expect("connected")
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        // Close the pool first, then anything left, then the database.
        drop(self.storage.take());
        let Ok(mut admin) = ::postgres::Client::connect(PG_ADMIN_URL, ::postgres::NoTls) else {
            return;
        };
        let _ = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&self.db],
        );
        if let Err(e) = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.db)) {
            eprintln!("could not drop test database {}: {e}", self.db);
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

const CAPTURED: i64 = 1_700_000_000_000;
const FORM: &str = "feeling-safe-child";

fn form() -> Form {
    builtin_form(FORM).expect("built-in form")
}

/// A deterministic stream of random numbers.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x >> 11
    }
}

/// Enrols a device in `area` through a one-time code.
fn enrol(s: &dyn Storage, area: &Area, label: &str) -> Device {
    let now = now_ms();
    let code = admin::hash_secret(&format!("code-{}", uuid::Uuid::new_v4()));
    s.add_enrol_code(&area.id, &code, now + 60_000)
        .expect("add code");
    let device = Device {
        id: uuid::Uuid::new_v4().to_string(),
        area_id: area.id.clone(),
        token_hash: admin::hash_secret(&format!("token-{label}")),
        label: label.to_owned(),
        revoked: false,
    };
    let got = s
        .redeem_enrol_code(&code, now, &device)
        .expect("redeem")
        .expect("a fresh code redeems");
    assert_eq!(&got, area);
    device
}

/// A new draft response captured in `area_name`.
fn draft(area_name: &str, id: &str) -> ResponseDoc {
    let context = ResponseContext {
        area: area_name.to_owned(),
        device: "tablet".to_owned(),
        captured_at: CAPTURED,
        ..ResponseContext::default()
    };
    ResponseDoc::start(id, &form(), &context, Consent::child(), "fw-1").expect("start")
}

/// A submitted response with plausible answers.
fn submitted(area_name: &str, id: &str, seed: u64) -> ResponseDoc {
    let form = form();
    let mut doc = draft(area_name, id);
    for (q, a) in plausible_answers(&form, rng(seed)) {
        doc.answer(&form, &q, a, CAPTURED + 1).expect("answer");
    }
    doc.submit(&form, CAPTURED + 2).expect("submit");
    doc
}

fn answer(doc: &mut ResponseDoc, question: &str, a: Answer, at: i64) {
    doc.answer(&form(), question, a, at).expect("answer");
}

/// The whole document, as a device uploads it the first time.
fn whole(doc: &mut ResponseDoc) -> DocData {
    DocData {
        id: doc.id().to_owned(),
        kind: DocKind::Response,
        base: vec![],
        bytes: ByteBuf::from(doc.save()),
        flagged: false,
    }
}

/// The changes after `base`, as a device uploads an edit.
fn edit(doc: &mut ResponseDoc, base: &[ChangeHash]) -> DocData {
    DocData {
        id: doc.id().to_owned(),
        kind: DocKind::Response,
        base: wire_heads(base),
        bytes: ByteBuf::from(doc.doc_mut().save_after(base)),
        flagged: false,
    }
}

/// The built-in forms, as an area has them installed.
fn builtin_area_forms() -> AreaForms {
    let docs: Vec<Vec<u8>> = hark_core::form::builtin_forms()
        .expect("forms")
        .iter()
        .map(|f| form_doc(f).expect("form document").1)
        .collect();
    AreaForms::from_docs(&docs)
}

/// The projection ingest makes of a response (built-in forms, default
/// lists).
fn project(doc: &ResponseDoc) -> Projection {
    check(doc, &builtin_area_forms(), &AreaLists::defaults(), now_ms()).expect("a valid response")
}

/// An area with only the form the tests answer installed (as
/// `admin::create_area` would install it with the others).
fn area_with_form(s: &dyn Storage, name: &str) -> Area {
    let area = s.create_area(name).expect("create");
    let (heads, bytes) = form_doc(&form()).expect("form document");
    let id = format!("form:{}:{FORM}", area.id);
    assert!(
        s.put_form(&area.id, &id, FORM, &heads, &bytes)
            .expect("form")
    );
    area
}

/// Responses among pending documents (the forms left out).
fn responses(docs: &[Pending]) -> Vec<String> {
    docs.iter()
        .filter(|d| d.kind == DocKind::Response)
        .map(|d| d.id.clone())
        .collect()
}

/// The key a response of `area` is stored under.
fn key(area: &Area, id: &str) -> String {
    response_key(&area.id, id)
}

/// Uploads one document from `device`, merging as the sync endpoint does.
fn upload(s: &dyn Storage, area: &Area, device: &Device, data: &DocData) -> Merged {
    let forms = AreaForms::from_stored(s.area_forms(&area.id).expect("forms"));
    let lists = s.area_lists(&area.id).expect("lists");
    let ctx = Ingest {
        area,
        forms: &forms,
        lists: &lists,
        now_ms: now_ms(),
    };
    let mut out =
        crate::writer::ingest(s, &crate::writer::Direct(s), &ctx, device, &[data]).expect("ingest");
    assert_eq!(out.len(), 1);
    out.remove(0).0
}

/// Stages and merges one upload as an exchange does, without committing.
fn staged(s: &dyn Storage, area: &Area, data: &DocData) -> StagedDoc {
    let forms = AreaForms::from_stored(s.area_forms(&area.id).expect("forms"));
    let lists = s.area_lists(&area.id).expect("lists");
    let ctx = Ingest {
        area,
        forms: &forms,
        lists: &lists,
        now_ms: now_ms(),
    };
    let key = key(area, &data.id);
    let stored = s
        .stage(std::slice::from_ref(&key))
        .expect("stage")
        .remove(0);
    StagedDoc {
        key,
        seen: stored.as_ref().map(|d| d.seq),
        merged: crate::ingest::merge_upload(&ctx, data, stored).0,
    }
}

/// Uploads and expects the document to be written; returns its heads.
fn upload_ok(s: &dyn Storage, area: &Area, device: &Device, data: &DocData) -> Vec<ChangeHash> {
    match upload(s, area, device, data) {
        Merged::Write(w) => sorted(w.heads),
        other => panic!("expected a write, got {other:?}"),
    }
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

/// The stored copy of a response, loaded.
fn stored_response(s: &dyn Storage, area: &Area, id: &str) -> ResponseDoc {
    let stored = s.load(&key(area, id)).expect("load").expect("stored");
    assert_eq!(stored.kind, DocKind::Response);
    ResponseDoc::load(&stored.bytes, "test").expect("the stored bytes load")
}

/// What `answers()` should return for these responses.
fn expected_answers(docs: &[&ResponseDoc]) -> Vec<(String, String, Option<String>, Option<i64>)> {
    let mut out = Vec::new();
    for doc in docs {
        let p = project(doc);
        for a in p.answers {
            out.push((doc.id().to_owned(), a.question, a.value_text, a.value_num));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// A small form document (bytes and heads).
fn form_bytes(n: usize) -> (Vec<ChangeHash>, Vec<u8>) {
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "hark", "form/1").expect("put");
    doc.put(automerge::ROOT, "n", i64::try_from(n).expect("small"))
        .expect("put");
    (doc.get_heads(), doc.save())
}

fn put_test_form(s: &dyn Storage, area: &Area, id: &str) -> bool {
    let (heads, bytes) = form_bytes(id.len());
    s.put_form(&area.id, id, "test-form", &heads, &bytes)
        .expect("put_form")
}

/// Every document `device` receives from `cursor` on, paging by `limit`.
fn drain(
    s: &dyn Storage,
    device: &Device,
    mut cursor: i64,
    limit: usize,
) -> (Vec<Pending>, Vec<String>, i64) {
    let (mut docs, mut erased) = (Vec::new(), Vec::new());
    loop {
        let batch = s.pending(device, cursor, limit).expect("pending");
        assert!(batch.cursor >= cursor, "the cursor never goes back");
        assert!(batch.docs.len() <= limit);
        docs.extend(batch.docs);
        erased.extend(batch.erased);
        cursor = batch.cursor;
        if !batch.more {
            return (docs, erased, cursor);
        }
    }
}

fn ids(docs: &[Pending]) -> Vec<String> {
    docs.iter().map(|d| d.id.clone()).collect()
}

// ---------------------------------------------------------------------------
// The suite

/// Areas, enrolment codes and devices ([`Tenancy`]).
macro_rules! tenancy_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn areas_have_unique_names_and_are_found_by_name_and_id() {
                let s = $make;
                let h = s.create_area("hartlepool").expect("create");
                let d = s.create_area("darlington").expect("create");
                assert_ne!(h.id, d.id);
                assert!(matches!(s.create_area("hartlepool"), Err(Error::Exists(_))));
                assert_eq!(
                    s.area_by_name("hartlepool").expect("by name"),
                    Some(h.clone())
                );
                assert_eq!(s.area(&d.id).expect("by id"), Some(d.clone()));
                assert_eq!(s.area_by_name("nowhere").expect("by name"), None);
                assert_eq!(s.area("no-such-id").expect("by id"), None);
                assert_eq!(
                    s.areas().expect("list"),
                    vec![d, h],
                    "listed by name, the duplicate not added"
                );
            }

            #[test]
            fn an_enrolment_code_redeems_once_and_only_before_it_expires() {
                let s = $make;
                let area = s.create_area("hartlepool").expect("create");
                let now = 1_800_000_000_000;
                let device = |id: &str| Device {
                    id: id.to_owned(),
                    area_id: String::new(),
                    token_hash: admin::hash_secret(id),
                    label: format!("tablet {id}"),
                    revoked: false,
                };
                let code = admin::hash_secret("ABCD-EFGH-JKLM");
                s.add_enrol_code(&area.id, &code, now + 1000).expect("add");
                assert_eq!(
                    s.redeem_enrol_code(&code, now, &device("d1"))
                        .expect("redeem"),
                    Some(area.clone())
                );
                let d1 = s
                    .device("d1")
                    .expect("device")
                    .expect("the device was created");
                assert_eq!(d1.area_id, area.id, "the device joins the code's area");
                assert_eq!(d1.token_hash, admin::hash_secret("d1"));
                assert_eq!(d1.label, "tablet d1");
                assert!(!d1.revoked);

                assert_eq!(
                    s.redeem_enrol_code(&code, now, &device("d2"))
                        .expect("redeem"),
                    None,
                    "used"
                );
                assert_eq!(
                    s.device("d2").expect("device"),
                    None,
                    "no device for a used code"
                );

                let expired = admin::hash_secret("EXPI-REDC-ODE2");
                s.add_enrol_code(&area.id, &expired, now).expect("add");
                assert_eq!(
                    s.redeem_enrol_code(&expired, now, &device("d3"))
                        .expect("redeem"),
                    None,
                    "expired"
                );
                assert_eq!(s.device("d3").expect("device"), None);

                let unknown = admin::hash_secret("NOPE-NOPE-NOPE");
                assert_eq!(
                    s.redeem_enrol_code(&unknown, now, &device("d4"))
                        .expect("redeem"),
                    None,
                    "unknown"
                );
                assert_eq!(s.device("d4").expect("device"), None);
            }

            #[test]
            fn concurrent_redeems_of_one_code_create_one_device() {
                let s = $make;
                let s: &dyn Storage = &*s;
                let area = area_with_form(&*s, "hartlepool");
                let code = admin::hash_secret("RACE-RACE-RACE");
                s.add_enrol_code(&area.id, &code, i64::MAX).expect("add");
                let barrier = Barrier::new(6);
                let wins: usize = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..6)
                        .map(|i| {
                            let (barrier, code) = (&barrier, &code);
                            scope.spawn(move || {
                                let device = Device {
                                    id: format!("racer-{i}"),
                                    area_id: String::new(),
                                    token_hash: vec![1],
                                    label: String::new(),
                                    revoked: false,
                                };
                                barrier.wait();
                                s.redeem_enrol_code(code, 1, &device)
                                    .expect("redeem")
                                    .is_some()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| usize::from(h.join().expect("thread")))
                        .sum()
                });
                assert_eq!(wins, 1);
                let devices = (0..6)
                    .filter(|i| s.device(&format!("racer-{i}")).expect("device").is_some())
                    .count();
                assert_eq!(devices, 1);
            }

            #[test]
            fn a_revoked_device_is_marked_revoked() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let d = enrol(&*s, &area, "tablet");
                assert_eq!(s.device(&d.id).expect("device"), Some(d.clone()));
                assert!(s.revoke_device(&d.id).expect("revoke"));
                assert!(
                    s.device(&d.id)
                        .expect("device")
                        .expect("still there")
                        .revoked
                );
                assert!(
                    s.revoke_device(&d.id).expect("revoke again"),
                    "it still exists"
                );
                assert!(
                    s.device(&d.id)
                        .expect("device")
                        .expect("still there")
                        .revoked
                );
                assert!(!s.revoke_device("no-such-device").expect("revoke unknown"));
                assert_eq!(s.device("no-such-device").expect("device"), None);
            }
        }
    };
}

tenancy_conformance!(sqlite_tenancy, SqliteGuard::new());
tenancy_conformance!(postgres_tenancy, PgGuard::new());

/// Documents with their projections and tallies ([`Documents`]): ingest, erase, paging, forms, rebuilds.
macro_rules! documents_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn a_new_response_is_stored_and_projected_and_a_replay_changes_nothing() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = submitted(&area.name, "r-1", 7);
                let data = whole(&mut doc);
                let heads = upload_ok(&*s, &area, &device, &data);
                assert_eq!(heads, sorted(doc.heads()));

                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);
                assert_eq!(s.count_submitted(&area.id, Some(FORM)).expect("count"), 1);
                assert_eq!(
                    s.count_submitted(&area.id, Some("being-heard"))
                        .expect("count"),
                    0
                );
                let expected = expected_answers(&[&doc]);
                assert!(
                    expected.len() >= 5,
                    "the form's required questions are answered"
                );
                assert_eq!(s.answers(&area.id, FORM).expect("answers"), expected);

                let stored = s.load(&key(&area, "r-1")).expect("load").expect("stored");
                assert_eq!(stored.area_id, area.id);
                assert_eq!(stored.n_changes, 0);
                assert_eq!(
                    stored_response(&*s, &area, "r-1")
                        .answers()
                        .expect("answers"),
                    doc.answers().expect("answers")
                );

                // The same upload again (a device retrying): acknowledged,
                // nothing new stored, still one response.
                assert_eq!(upload_ok(&*s, &area, &device, &data), heads);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);
                assert_eq!(s.answers(&area.id, FORM).expect("answers"), expected);
                assert_eq!(s.load(&key(&area, "r-1")).expect("load"), Some(stored));
                let (docs, _, _) = drain(&*s, &device, 0, 100);
                assert!(
                    responses(&docs).is_empty(),
                    "the uploader has everything: {:?}",
                    ids(&docs)
                );
            }

            #[test]
            fn an_incremental_upload_appends_a_change() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = draft(&area.name, "r-1");
                answer(&mut doc, "safe_school", Answer::Scale(4), CAPTURED + 1);
                upload_ok(&*s, &area, &device, &whole(&mut doc));
                assert_eq!(
                    s.count_submitted(&area.id, None).expect("count"),
                    0,
                    "a draft is not counted"
                );

                let old = doc.heads();
                answer(&mut doc, "safe_home", Answer::Scale(5), CAPTURED + 2);
                let heads = upload_ok(&*s, &area, &device, &edit(&mut doc, &old));
                assert_eq!(heads, sorted(doc.heads()));
                assert_eq!(
                    s.load(&key(&area, "r-1"))
                        .expect("load")
                        .expect("stored")
                        .n_changes,
                    1
                );
                let answers = stored_response(&*s, &area, "r-1")
                    .answers()
                    .expect("answers");
                assert_eq!(answers.get("safe_school"), Some(&Answer::Scale(4)));
                assert_eq!(answers.get("safe_home"), Some(&Answer::Scale(5)));

                // Finish and submit: another change, now counted.
                let old = doc.heads();
                let form = form();
                for (q, a) in plausible_answers(&form, rng(3)) {
                    if q != "safe_school" && q != "safe_home" {
                        doc.answer(&form, &q, a, CAPTURED + 3).expect("answer");
                    }
                }
                doc.submit(&form, CAPTURED + 4).expect("submit");
                upload_ok(&*s, &area, &device, &edit(&mut doc, &old));
                assert_eq!(
                    s.load(&key(&area, "r-1"))
                        .expect("load")
                        .expect("stored")
                        .n_changes,
                    2
                );
                assert_eq!(s.count_submitted(&area.id, Some(FORM)).expect("count"), 1);
                assert_eq!(
                    stored_response(&*s, &area, "r-1")
                        .answers()
                        .expect("answers"),
                    doc.answers().expect("answers")
                );
                assert_eq!(
                    s.answers(&area.id, FORM).expect("answers"),
                    expected_answers(&[&doc])
                );
            }

            #[test]
            fn many_incremental_uploads_are_compacted_and_still_load() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = draft(&area.name, "r-1");
                answer(&mut doc, "safe_school", Answer::Scale(1), CAPTURED + 1);
                upload_ok(&*s, &area, &device, &whole(&mut doc));
                let uploads = SERVER_CHUNKS_BEFORE_SNAPSHOT + 3;
                let mut last = 0;
                for i in 0..uploads {
                    let old = doc.heads();
                    last = u8::try_from(i % 5).expect("small") + 1;
                    answer(
                        &mut doc,
                        "safe_school",
                        Answer::Scale(last),
                        CAPTURED + 10 + i,
                    );
                    upload_ok(&*s, &area, &device, &edit(&mut doc, &old));
                    let n = s
                        .load(&key(&area, "r-1"))
                        .expect("load")
                        .expect("stored")
                        .n_changes;
                    assert!(
                        n < SERVER_CHUNKS_BEFORE_SNAPSHOT,
                        "compacted before {SERVER_CHUNKS_BEFORE_SNAPSHOT} chunks, got {n}"
                    );
                }
                let stored = s.load(&key(&area, "r-1")).expect("load").expect("stored");
                assert!(stored.n_changes > 0 && stored.n_changes < SERVER_CHUNKS_BEFORE_SNAPSHOT);
                let mut loaded = stored_response(&*s, &area, "r-1");
                assert_eq!(
                    loaded.answers().expect("answers").get("safe_school"),
                    Some(&Answer::Scale(last))
                );
                assert_eq!(sorted(loaded.heads()), sorted(doc.heads()));
            }

            #[test]
            fn a_response_for_another_area_is_rejected_and_not_stored() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let other = area_with_form(&*s, "darlington");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = submitted(&other.name, "r-1", 1);
                match upload(&*s, &area, &device, &whole(&mut doc)) {
                    Merged::Rejected(reason) => {
                        assert!(reason.contains("another area"), "{reason}")
                    }
                    other => panic!("expected a rejection, got {other:?}"),
                }
                assert_eq!(s.load(&key(&area, "r-1")).expect("load"), None);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 0);
                assert_eq!(s.count_submitted(&other.id, None).expect("count"), 0);
                assert!(
                    s.doc_ids(DocKind::Response, "", 10)
                        .expect("ids")
                        .is_empty()
                );
                let other_device = enrol(&*s, &other, "theirs");
                let (docs, _, _) = drain(&*s, &other_device, 0, 100);
                assert!(responses(&docs).is_empty());
            }

            #[test]
            fn an_erased_response_is_gone_announced_and_refused_afterwards() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let other = area_with_form(&*s, "darlington");
                let device = enrol(&*s, &area, "tablet");
                let colleague = enrol(&*s, &area, "colleague");
                let outsider = enrol(&*s, &other, "outsider");
                let mut doc = submitted(&area.name, "r-1", 2);
                let data = whole(&mut doc);
                upload_ok(&*s, &area, &device, &data);
                let (_, _, cursor) = drain(&*s, &device, 0, 100);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);

                // Another area cannot erase it.
                assert_eq!(s.erase(&other.id, &["r-1".to_owned()]).expect("erase"), 0);
                assert!(s.load(&key(&area, "r-1")).expect("load").is_some());
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);

                assert_eq!(s.erase(&area.id, &["r-1".to_owned()]).expect("erase"), 1);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 0);
                assert!(s.answers(&area.id, FORM).expect("answers").is_empty());
                assert_eq!(s.load(&key(&area, "r-1")).expect("load"), None);
                assert!(
                    s.doc_ids(DocKind::Response, "", 10)
                        .expect("ids")
                        .is_empty()
                );

                let (docs, erased, _) = drain(&*s, &device, cursor, 100);
                assert!(responses(&docs).is_empty());
                assert_eq!(erased, vec!["r-1".to_owned()]);
                assert_eq!(
                    drain(&*s, &colleague, 0, 100).1,
                    vec!["r-1".to_owned()],
                    "every device of the area hears"
                );
                assert_eq!(
                    drain(&*s, &outsider, 0, 100).1,
                    vec!["r-1".to_owned()],
                    "other areas hear only their own erasure (which stored nothing)"
                );

                match upload(&*s, &area, &device, &data) {
                    Merged::Rejected(reason) => assert_eq!(reason, "erased"),
                    other => panic!("expected a rejection, got {other:?}"),
                }
                assert_eq!(s.load(&key(&area, "r-1")).expect("load"), None);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 0);

                // An id erased in one area blocks nothing in another (the
                // other area's own erasure of r-1 above blocks r-1 there).
                let mut elsewhere = submitted(&other.name, "r-9", 3);
                assert_eq!(s.erase(&area.id, &["r-9".to_owned()]).expect("erase"), 0);
                upload_ok(&*s, &other, &outsider, &whole(&mut elsewhere));
                assert_eq!(s.count_submitted(&other.id, None).expect("count"), 1);
            }

            #[test]
            fn a_new_device_receives_the_areas_forms_but_not_other_devices_responses() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                let other = admin::create_area(&*s, "darlington").expect("create");
                let a = enrol(&*s, &area, "a");
                let b = enrol(&*s, &area, "b");
                let mut doc = submitted(&area.name, "r-1", 4);
                upload_ok(&*s, &area, &a, &whole(&mut doc));

                let (docs, erased, _) = drain(&*s, &b, 0, 1000);
                assert!(erased.is_empty());
                let got: BTreeSet<String> = ids(&docs).into_iter().collect();
                let forms: BTreeSet<String> = s
                    .doc_ids(DocKind::Form, "", 1000)
                    .expect("ids")
                    .into_iter()
                    .filter(|id| id.starts_with(&format!("form:{}:", area.id)))
                    .collect();
                assert_eq!(
                    forms.len(),
                    hark_core::form::builtin_forms().expect("forms").len()
                );
                assert_eq!(got, forms, "exactly this area's forms");
                assert_eq!(docs.len(), forms.len(), "each once");
                assert!(!got.iter().any(|id| id.contains(&other.id)));
                for d in &docs {
                    assert_eq!(d.kind, DocKind::Form);
                    assert_eq!(d.device_heads, None);
                    assert_eq!(d.bytes, s.load(&d.id).expect("load").expect("stored").bytes);
                }

                // The uploader gets the forms too, but not its own response back.
                let (docs, _, _) = drain(&*s, &a, 0, 1000);
                assert_eq!(ids(&docs).into_iter().collect::<BTreeSet<_>>(), forms);
            }

            #[test]
            fn each_device_is_sent_what_it_has_not_acknowledged() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let a = enrol(&*s, &area, "a");
                let b = enrol(&*s, &area, "b");
                let mut on_a = draft(&area.name, "r-1");
                answer(&mut on_a, "safe_school", Answer::Scale(3), CAPTURED + 1);
                let a_heads = upload_ok(&*s, &area, &a, &whole(&mut on_a));
                let (_, _, cursor_a) = drain(&*s, &a, 0, 100);

                // B has the same document (it was handed over) and uploads it,
                // then an edit.
                let mut on_b = ResponseDoc::load(&on_a.save(), "fw-2").expect("copy");
                assert_eq!(upload_ok(&*s, &area, &b, &whole(&mut on_b)), a_heads);
                let old = on_b.heads();
                answer(&mut on_b, "safe_home", Answer::Scale(2), CAPTURED + 2);
                let b_heads = upload_ok(&*s, &area, &b, &edit(&mut on_b, &old));
                assert_ne!(a_heads, b_heads);

                let (docs, _, _) = drain(&*s, &a, cursor_a, 100);
                assert_eq!(
                    responses(&docs),
                    vec!["r-1".to_owned()],
                    "A is sent B's edit"
                );
                assert_eq!(docs[0].kind, DocKind::Response);
                assert_eq!(
                    docs[0].device_heads,
                    Some(a_heads.clone()),
                    "with the heads A acknowledged"
                );
                let mut merged = ResponseDoc::load(&docs[0].bytes, "test").expect("load");
                assert_eq!(sorted(merged.heads()), b_heads);
                assert_eq!(
                    merged.answers().expect("answers").get("safe_home"),
                    Some(&Answer::Scale(2))
                );
                let (docs, _, _) = drain(&*s, &a, 0, 100);
                assert_eq!(
                    responses(&docs),
                    vec!["r-1".to_owned()],
                    "from the start too"
                );

                let (docs, _, _) = drain(&*s, &b, 0, 100);
                assert!(
                    responses(&docs).is_empty(),
                    "B has it all: {:?}",
                    ids(&docs)
                );

                // Once A acknowledges the merged heads (uploads them back),
                // nothing more is pending for it.
                let mut on_a = merged;
                assert_eq!(upload_ok(&*s, &area, &a, &whole(&mut on_a)), b_heads);
                let (docs, _, _) = drain(&*s, &a, 0, 100);
                assert!(
                    responses(&docs).is_empty(),
                    "A has it all: {:?}",
                    ids(&docs)
                );
            }

            #[test]
            fn paging_returns_every_form_exactly_once() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                admin::create_area(&*s, "darlington").expect("create");
                let device = enrol(&*s, &area, "tablet");
                for i in 0..3 {
                    assert!(put_test_form(&*s, &area, &format!("extra-{i}")));
                }
                let expected: Vec<String> = {
                    let mut v: Vec<String> = s
                        .doc_ids(DocKind::Form, "", 1000)
                        .expect("ids")
                        .into_iter()
                        .filter(|id| {
                            id.starts_with(&format!("form:{}:", area.id))
                                || id.starts_with("extra-")
                        })
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(
                    expected.len(),
                    hark_core::form::builtin_forms().expect("forms").len() + 3
                );

                let (mut cursor, mut seen, mut pages) = (0, Vec::new(), 0);
                loop {
                    let batch = s.pending(&device, cursor, 3).expect("pending");
                    pages += 1;
                    assert!(batch.docs.len() <= 3);
                    assert!(batch.cursor > cursor || batch.docs.is_empty());
                    seen.extend(ids(&batch.docs));
                    cursor = batch.cursor;
                    if !batch.more {
                        break;
                    }
                    assert_eq!(batch.docs.len(), 3, "a page short of the limit is the last");
                }
                assert_eq!(pages, expected.len().div_ceil(3));
                let mut sorted_seen = seen.clone();
                sorted_seen.sort();
                assert_eq!(sorted_seen, expected, "every form exactly once");

                // Nothing more after the last cursor, until something new.
                let batch = s.pending(&device, cursor, 3).expect("pending");
                assert!(batch.docs.is_empty() && !batch.more);
                assert_eq!(batch.cursor, cursor);
                assert!(put_test_form(&*s, &area, "later"));
                let batch = s.pending(&device, cursor, 3).expect("pending");
                assert_eq!(ids(&batch.docs), vec!["later".to_owned()]);
                assert!(!batch.more);
                assert!(batch.cursor > cursor);
            }

            #[test]
            fn concurrent_writers_never_let_a_cursor_skip_a_document() {
                let s = $make;
                let s: &dyn Storage = &*s;
                let area = s.create_area("hartlepool").expect("create");
                let device = enrol(s, &area, "reader");
                let (writers, per_writer) = (3, 20);
                let done = AtomicBool::new(false);
                let seen = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..writers)
                        .map(|w| {
                            let area = &area;
                            scope.spawn(move || {
                                for i in 0..per_writer {
                                    assert!(put_test_form(s, area, &format!("w{w}-{i:02}")));
                                }
                            })
                        })
                        .collect();
                    let reader = scope.spawn(|| {
                        let (mut cursor, mut seen) = (0, Vec::new());
                        loop {
                            let finished = done.load(Ordering::SeqCst);
                            let (docs, _, c) = drain(s, &device, cursor, 7);
                            seen.extend(ids(&docs));
                            cursor = c;
                            if finished {
                                return seen;
                            }
                        }
                    });
                    for h in handles {
                        h.join().expect("writer");
                    }
                    done.store(true, Ordering::SeqCst);
                    reader.join().expect("reader")
                });
                let unique: BTreeSet<&String> = seen.iter().collect();
                assert_eq!(unique.len(), seen.len(), "no document twice");
                assert_eq!(seen.len(), writers * per_writer, "no document skipped");
            }

            #[test]
            fn concurrent_uploads_of_one_new_document_are_both_kept() {
                let s = $make;
                let s: &dyn Storage = &*s;
                let area = area_with_form(&*s, "hartlepool");
                let a = enrol(s, &area, "a");
                let b = enrol(s, &area, "b");
                for n in 0..5 {
                    let id = format!("r-{n}");
                    let mut on_a = draft(&area.name, &id);
                    let mut on_b = ResponseDoc::load(&on_a.save(), "fw-2").expect("copy");
                    answer(&mut on_a, "safe_school", Answer::Scale(1), CAPTURED + 1);
                    answer(&mut on_b, "safe_home", Answer::Scale(5), CAPTURED + 1);
                    let (data_a, data_b) = (whole(&mut on_a), whole(&mut on_b));
                    let barrier = Barrier::new(2);
                    std::thread::scope(|scope| {
                        for (device, data) in [(&a, &data_a), (&b, &data_b)] {
                            let (barrier, area) = (&barrier, &area);
                            scope.spawn(move || {
                                barrier.wait();
                                upload_ok(s, area, device, data);
                            });
                        }
                    });
                    let answers = stored_response(s, &area, &id).answers().expect("answers");
                    assert_eq!(
                        answers.get("safe_school"),
                        Some(&Answer::Scale(1)),
                        "{id}: A's answer kept"
                    );
                    assert_eq!(
                        answers.get("safe_home"),
                        Some(&Answer::Scale(5)),
                        "{id}: B's answer kept"
                    );
                }
            }

            #[test]
            fn a_group_commit_writes_each_merge_once_and_hands_back_stale_ones() {
                let s = $make;
                let s: &dyn Storage = &*s;
                let area = area_with_form(s, "hartlepool");
                let (a, b) = (enrol(s, &area, "a"), enrol(s, &area, "b"));
                // Both tablets hold r-1 (copied before either synced), and
                // one new response each.
                let mut on_a = submitted(&area.name, "r-1", 1);
                let mut on_b = ResponseDoc::load(&on_a.save(), "fw-2").expect("copy");
                let (mut r2, mut r3) = (
                    submitted(&area.name, "r-2", 2),
                    submitted(&area.name, "r-3", 3),
                );
                let group = [
                    Upload {
                        device: a.clone(),
                        docs: vec![
                            staged(s, &area, &whole(&mut on_a)),
                            staged(s, &area, &whole(&mut r2)),
                        ],
                    },
                    Upload {
                        device: b.clone(),
                        docs: vec![
                            staged(s, &area, &whole(&mut on_b)),
                            staged(s, &area, &whole(&mut r3)),
                        ],
                    },
                ];
                let fates = s.commit(&group).expect("commit");
                assert_eq!(
                    fates,
                    vec![vec![Fate::Kept, Fate::Kept], vec![Fate::Stale, Fate::Kept]],
                    "the second write of r-1 in one group merged against a copy that changed"
                );
                assert_eq!(
                    s.count_submitted(&area.id, None).expect("count"),
                    3,
                    "each response counted once"
                );
                let seqs: BTreeSet<i64> = ["r-1", "r-2", "r-3"]
                    .iter()
                    .map(|id| s.load(&key(&area, id)).expect("load").expect("stored").seq)
                    .collect();
                assert_eq!(
                    seqs.len(),
                    3,
                    "each written once, with its own sequence number"
                );
                // Merged again, the stale one is written: B now has r-1 acknowledged.
                assert!(matches!(
                    upload(s, &area, &b, &whole(&mut on_b)),
                    Merged::Write(_)
                ));
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 3);
                let pending = responses(&drain(s, &b, 0, 100).0);
                assert!(pending.is_empty(), "B has everything it sent: {pending:?}");
            }

            #[test]
            fn a_merge_staged_before_another_write_or_an_erasure_writes_nothing() {
                let s = $make;
                let s: &dyn Storage = &*s;
                let area = area_with_form(s, "hartlepool");
                let (a, b) = (enrol(s, &area, "a"), enrol(s, &area, "b"));
                let mut doc = draft(&area.name, "r-1");
                let base = upload_ok(s, &area, &a, &whole(&mut doc));
                let mut on_b = ResponseDoc::load(&doc.save(), "fw-2").expect("copy");
                answer(&mut doc, "safe_school", Answer::Scale(2), CAPTURED + 1);
                answer(&mut on_b, "safe_home", Answer::Scale(4), CAPTURED + 1);
                // A's edit is staged, then B's edit is written first.
                let late = staged(s, &area, &edit(&mut doc, &base));
                upload_ok(s, &area, &b, &edit(&mut on_b, &base));
                let before = s.load(&key(&area, "r-1")).expect("load");
                let fates = s
                    .commit(&[Upload {
                        device: a.clone(),
                        docs: vec![late],
                    }])
                    .expect("commit");
                assert_eq!(fates, vec![vec![Fate::Stale]]);
                assert_eq!(
                    s.load(&key(&area, "r-1")).expect("load"),
                    before,
                    "nothing written"
                );
                // Through the exchange's loop it is merged again: both kept.
                upload_ok(s, &area, &a, &edit(&mut doc, &base));
                let answers = stored_response(s, &area, "r-1").answers().expect("answers");
                assert_eq!(answers.get("safe_school"), Some(&Answer::Scale(2)));
                assert_eq!(answers.get("safe_home"), Some(&Answer::Scale(4)));
                // Staged, then erased: refused, and it stays erased.
                let mut r2 = submitted(&area.name, "r-2", 2);
                let late = staged(s, &area, &whole(&mut r2));
                assert_eq!(s.erase(&area.id, &["r-2".to_owned()]).expect("erase"), 0);
                let fates = s
                    .commit(&[Upload {
                        device: a.clone(),
                        docs: vec![late],
                    }])
                    .expect("commit");
                assert_eq!(fates, vec![vec![Fate::Erased]]);
                assert_eq!(s.load(&key(&area, "r-2")).expect("load"), None);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 0);
            }

            #[test]
            fn a_form_is_stored_once_per_id() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let (heads, bytes) = form_bytes(1);
                assert!(
                    s.put_form(&area.id, "f-1", "test-form", &heads, &bytes)
                        .expect("put")
                );
                let (other_heads, other_bytes) = form_bytes(2);
                assert!(
                    !s.put_form(&area.id, "f-1", "test-form", &other_heads, &other_bytes)
                        .expect("put again")
                );
                let stored = s.load("f-1").expect("load").expect("stored");
                assert_eq!(stored.kind, DocKind::Form);
                assert_eq!(stored.area_id, area.id);
                assert_eq!(stored.bytes, bytes, "the first version stays");
                assert_eq!(stored.n_changes, 0);
                // In an area of its own (the documents above are not real
                // forms).
                let other = s.create_area("middlesbrough").expect("area");
                let builtin = hark_core::form::builtin_forms().expect("forms").len();
                assert_eq!(
                    admin::install_builtin_forms(&*s, &other).expect("install"),
                    builtin
                );
                assert_eq!(
                    admin::install_builtin_forms(&*s, &other).expect("install again"),
                    0,
                    "idempotent"
                );
            }

            #[test]
            fn doc_ids_page_by_kind_in_id_order() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let device = enrol(&*s, &area, "tablet");
                for n in [3, 1, 5, 2, 4] {
                    let mut doc = submitted(&area.name, &format!("r-{n}"), n);
                    upload_ok(&*s, &area, &device, &whole(&mut doc));
                }
                assert!(put_test_form(&*s, &area, "f-1"));
                let page = |after: &str| s.doc_ids(DocKind::Response, after, 2).expect("ids");
                let keys = |ids: &[&str]| ids.iter().map(|id| key(&area, id)).collect::<Vec<_>>();
                assert_eq!(page(""), keys(&["r-1", "r-2"]));
                assert_eq!(page(&key(&area, "r-2")), keys(&["r-3", "r-4"]));
                assert_eq!(page(&key(&area, "r-4")), keys(&["r-5"]));
                assert!(page(&key(&area, "r-5")).is_empty());
                let installed = format!("form:{}:{FORM}", area.id);
                assert_eq!(
                    s.doc_ids(DocKind::Form, "", 10).expect("ids"),
                    vec!["f-1".to_owned(), installed.clone()]
                );
                assert!(
                    s.doc_ids(DocKind::Form, &installed, 10)
                        .expect("ids")
                        .is_empty()
                );
            }

            #[test]
            fn projections_can_be_removed_and_rebuilt() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let device = enrol(&*s, &area, "tablet");
                let mut r1 = submitted(&area.name, "r-1", 11);
                let mut r2 = submitted(&area.name, "r-2", 12);
                upload_ok(&*s, &area, &device, &whole(&mut r1));
                upload_ok(&*s, &area, &device, &whole(&mut r2));
                let all = expected_answers(&[&r1, &r2]);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 2);
                assert_eq!(s.answers(&area.id, FORM).expect("answers"), all);

                s.put_projection(&key(&area, "r-1"), &area.id, None)
                    .expect("remove");
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);
                assert_eq!(
                    s.answers(&area.id, FORM).expect("answers"),
                    expected_answers(&[&r2])
                );
                s.put_projection(&key(&area, "r-2"), &area.id, None)
                    .expect("remove");
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 0);
                assert!(s.answers(&area.id, FORM).expect("answers").is_empty());
                assert!(
                    s.load(&key(&area, "r-1")).expect("load").is_some(),
                    "the documents stay"
                );

                assert_eq!(admin::rebuild(&*s).expect("rebuild"), 2);
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 2);
                assert_eq!(s.answers(&area.id, FORM).expect("answers"), all);
                assert_eq!(
                    admin::count(&*s, "hartlepool", Some(FORM)).expect("count"),
                    2
                );

                // Replacing a projection replaces its answers.
                let mut p = project(&r1);
                p.answers.truncate(1);
                s.put_projection(&key(&area, "r-1"), &area.id, Some(&p))
                    .expect("put");
                assert_eq!(
                    s.answers(&area.id, FORM)
                        .expect("answers")
                        .iter()
                        .filter(|a| a.0 == "r-1")
                        .count(),
                    1
                );
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 2);
            }

            #[test]
            fn migrating_again_changes_nothing() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = submitted(&area.name, "r-1", 5);
                upload_ok(&*s, &area, &device, &whole(&mut doc));
                let (before, _, cursor) = drain(&*s, &device, 0, 1000);

                s.migrate().expect("migrate");
                s.migrate().expect("migrate again");

                assert_eq!(s.areas().expect("areas"), vec![area.clone()]);
                assert_eq!(s.device(&device.id).expect("device"), Some(device.clone()));
                assert_eq!(s.count_submitted(&area.id, None).expect("count"), 1);
                assert_eq!(drain(&*s, &device, 0, 1000).0, before);
                assert_eq!(
                    admin::install_builtin_forms(&*s, &area).expect("install"),
                    0
                );
                assert!(put_test_form(&*s, &area, "new"));
                let batch = s.pending(&device, cursor, 10).expect("pending");
                assert_eq!(
                    ids(&batch.docs),
                    vec!["new".to_owned()],
                    "the sequence carries on"
                );
            }
        }
    };
}

documents_conformance!(sqlite_documents, SqliteGuard::new());
documents_conformance!(postgres_documents, PgGuard::new());

/// What reports and exports read ([`Reads`]), always equal to a recount.
macro_rules! reads_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn tallies_always_equal_a_recount_of_the_projections() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                let form = builtin_form("service-satisfaction").expect("form");
                let mut next = hark_core::form::seeded(9);
                let settings = ["clinic", "home", "school"];
                let mut make = |i: usize, status: &str| Projection {
                    form_id: form.id.clone(),
                    form_version: form.version.to_string(),
                    status: Status::parse(status).expect("a status"),
                    counted: status == "submitted",
                    setting: Some(settings[i % 3].into()),
                    age_phase: (i % 2 == 0).then(|| "primary".to_owned()),
                    month: format!("2026-0{}", 1 + i % 3),
                    answers: plausible_answers(&form, &mut next)
                        .into_iter()
                        .map(|(q, a)| answer_row(q, a))
                        .collect(),
                    ..Projection::default()
                };
                let batch: Vec<(String, String, Projection)> = (0..60)
                    .map(|i| {
                        (
                            format!("r{i}"),
                            area.id.clone(),
                            make(i, if i % 7 == 0 { "draft" } else { "submitted" }),
                        )
                    })
                    .collect();
                s.put_projections(&batch).expect("write");
                // Changes, reopenings and erasures, one at a time.
                for i in (0..60).step_by(5) {
                    s.put_projection(&format!("r{i}"), &area.id, Some(&make(i + 1, "submitted")))
                        .expect("change");
                }
                for i in (2..60).step_by(9) {
                    s.put_projection(&format!("r{i}"), &area.id, Some(&make(i, "draft")))
                        .expect("reopen");
                }
                for i in (3..60).step_by(11) {
                    s.put_projection(&format!("r{i}"), &area.id, None)
                        .expect("erase");
                }
                // Recount "fft" by setting from the stored answers.
                let mut recount: BTreeMap<(String, String), i64> = BTreeMap::new();
                for (_, q, text, _) in s.answers(&area.id, &form.id).expect("answers") {
                    if q != "fft" {
                        continue;
                    }
                    // A "don't know" or "don't want to say" has no text.
                    let Some(value) = text else { continue };
                    *recount.entry((String::new(), value)).or_default() += 1;
                }
                let rows = s
                    .live_tallies(&TallyQuery {
                        area_id: area.id.clone(),
                        question: "fft".into(),
                        versions: vec![(form.id.clone(), form.version.to_string())],
                        dims: vec![],
                        months: None,
                    })
                    .expect("tallies");
                let mut tallied: BTreeMap<(String, String), i64> = BTreeMap::new();
                for r in &rows {
                    if !r.value.is_empty() && !r.value.starts_with('~') {
                        *tallied.entry((String::new(), r.value.clone())).or_default() += r.n;
                    }
                }
                assert_eq!(tallied, recount);
                // And split by setting, the groups add up to the whole.
                let by_setting = s
                    .live_tallies(&TallyQuery {
                        area_id: area.id.clone(),
                        question: "fft".into(),
                        versions: vec![(form.id.clone(), form.version.to_string())],
                        dims: vec![Dim::Setting],
                        months: None,
                    })
                    .expect("tallies");
                let total = |rows: &[TallyRow]| {
                    rows.iter()
                        .filter(|r| r.value.is_empty())
                        .map(|r| r.n)
                        .sum::<i64>()
                };
                assert_eq!(total(&by_setting), total(&rows));
                assert_eq!(
                    total(&rows),
                    s.count_submitted(&area.id, Some(&form.id)).expect("count"),
                    "every submitted response answered fft (it is required) once"
                );
            }

            #[test]
            fn a_published_month_holds_every_rollup_of_the_live_counts() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                let form = builtin_form("service-satisfaction").expect("form");
                let mut next = hark_core::form::seeded(3);
                let pick = |i: usize, of: &[&str]| of[i % of.len()].to_owned();
                let mut make = |i: usize| Projection {
                    form_id: form.id.clone(),
                    form_version: form.version.to_string(),
                    status: Status::Submitted,
                    counted: true,
                    setting: Some(pick(i, &["clinic", "home", "school"])),
                    age_phase: (i % 4 != 0).then(|| pick(i / 3, &["primary", "secondary"])),
                    need: Some(pick(i / 2, &["autism", "sld", "*"])),
                    pathway: (i % 5 != 0).then(|| pick(i / 5, &["ehcp", "sen-support"])),
                    month: pick(i / 7, &["2026-01", "2026-02"]),
                    answers: plausible_answers(&form, &mut next)
                        .into_iter()
                        .map(|(q, a)| answer_row(q, a))
                        .collect(),
                    ..Projection::default()
                };
                let batch: Vec<(String, String, Projection)> = (0..80)
                    .map(|i| (format!("r{i}"), area.id.clone(), make(i)))
                    .collect();
                s.put_projections(&batch).expect("write");
                // Some live counts go back to 0 before publication.
                for i in (0..80).step_by(6) {
                    s.put_projection(&format!("r{i}"), &area.id, None)
                        .expect("erase");
                }
                s.publish(&area.id, "2026-02", 1).expect("publish");
                for question in ["", "fft"] {
                    for dims in crate::tally::ROLLUPS {
                        let query = TallyQuery {
                            area_id: area.id.clone(),
                            question: question.into(),
                            versions: vec![(form.id.clone(), form.version.to_string())],
                            dims: dims.to_vec(),
                            months: None,
                        };
                        let read = |rows: Vec<crate::tally::TallyRow>| -> BTreeMap<_, i64> {
                            rows.into_iter()
                                .map(|r| ((r.form_id, r.month, r.dims, r.value), r.n))
                                .collect()
                        };
                        let live = read(s.live_tallies(&query).expect("live"));
                        assert!(!live.is_empty());
                        assert!(live.values().all(|n| *n > 0), "no zero rows");
                        assert_eq!(
                            read(s.tallies(&query).expect("published")),
                            live,
                            "{question:?} by {dims:?}"
                        );
                    }
                }
            }

            #[test]
            fn the_export_streams_each_submitted_response_once() {
                let s = $make;
                let area = admin::create_area(&*s, "hartlepool").expect("create");
                let other = admin::create_area(&*s, "middlesbrough").expect("create");
                let p = |status: &str, text: &str| Projection {
                    form_id: "f".into(),
                    form_version: "1.0.0".into(),
                    status: Status::parse(status).expect("a status"),
                    counted: status == "submitted",
                    month: "2026-01".into(),
                    answers: vec![
                        AnswerRow {
                            question: "a".into(),
                            kind: "scale".into(),
                            value_text: None,
                            value_num: Some(3),
                        },
                        AnswerRow {
                            question: "b".into(),
                            kind: "text".into(),
                            value_text: Some(text.into()),
                            value_num: None,
                        },
                        AnswerRow {
                            question: "c".into(),
                            kind: "dont_know".into(),
                            value_text: None,
                            value_num: None,
                        },
                    ],
                    ..Projection::default()
                };
                let mut batch: Vec<(String, String, Projection)> = (0..2500)
                    .map(|i| (format!("r{i:05}"), area.id.clone(), p("submitted", "words")))
                    .collect();
                batch.push(("draft".into(), area.id.clone(), p("draft", "x")));
                batch.push(("theirs".into(), other.id.clone(), p("submitted", "x")));
                s.put_projections(&batch).expect("write");
                let mut seen = Vec::new();
                s.export_responses(&area.id, &["f".to_owned()], false, &mut |r| {
                    seen.push(r);
                    Ok(())
                })
                .expect("export");
                assert_eq!(seen.len(), 2500);
                assert!(
                    seen.iter().all(|r| r.answers
                        == vec![
                            ("a".to_owned(), None, Some(3)),
                            ("c".to_owned(), Some("~dont_know".to_owned()), None),
                        ]),
                    "no free text unless asked for"
                );
                let mut with_text = 0;
                s.export_responses(&area.id, &["f".to_owned()], true, &mut |r| {
                    with_text +=
                        usize::from(r.answers.iter().any(|a| a.1.as_deref() == Some("words")));
                    Ok(())
                })
                .expect("export");
                assert_eq!(with_text, 2500);
                // A consumer that stops (the client went away) stops it.
                let mut n = 0;
                let err = s.export_responses(&area.id, &["f".to_owned()], false, &mut |_| {
                    n += 1;
                    if n == 10 { Err(Error::Join) } else { Ok(()) }
                });
                assert!(err.is_err());
                assert_eq!(n, 10);
            }

            #[test]
            fn a_published_month_never_changes_and_a_late_response_counts_when_it_arrives() {
                let s = $make;
                let area = admin::create_area(&*s, "stockton").expect("create");
                let form = builtin_form("service-satisfaction").expect("form");
                let answer = |option: &str| AnswerRow {
                    question: "fft".into(),
                    kind: "choice".into(),
                    value_text: Some(option.into()),
                    value_num: None,
                };
                let response = |captured: &str, arrived: &str, option: &str| Projection {
                    form_id: form.id.clone(),
                    form_version: form.version.to_string(),
                    status: Status::Submitted,
                    counted: true,
                    setting: Some("clinic".into()),
                    month: captured.into(),
                    arrived_month: arrived.into(),
                    answers: vec![answer(option)],
                    ..Projection::default()
                };
                let key = |i: usize| response_key(&area.id, &format!("r{i}"));
                let batch: Vec<(String, String, Projection)> = (0..6)
                    .map(|i| {
                        (
                            key(i),
                            area.id.clone(),
                            response("2026-01", "2026-01", "good"),
                        )
                    })
                    .collect();
                s.put_projections(&batch).expect("write");
                let query = |months: Option<(String, String)>| TallyQuery {
                    area_id: area.id.clone(),
                    question: "fft".into(),
                    versions: vec![(form.id.clone(), form.version.to_string())],
                    dims: vec![Dim::Setting],
                    months,
                };
                let read = |rows: Vec<crate::tally::TallyRow>| -> BTreeMap<(String, String), i64> {
                    rows.into_iter()
                        .filter(|r| !r.value.is_empty())
                        .map(|r| ((r.month, r.value), r.n))
                        .collect()
                };
                let published = || read(s.tallies(&query(None)).expect("published"));
                let live = || read(s.live_tallies(&query(None)).expect("live"));
                assert!(published().is_empty(), "nothing is published yet");
                assert_eq!(
                    s.publish(&area.id, "2026-01", 1)
                        .expect("publish")
                        .as_deref(),
                    Some("2026-01")
                );
                let january = published();
                assert_eq!(
                    january,
                    BTreeMap::from([(("2026-01".into(), "good".into()), 6)])
                );
                // A response captured in January arriving in March counts
                // in March; an edit and an erasure of January's responses
                // change the live tallies only.
                s.put_projection(
                    &key(6),
                    &area.id,
                    Some(&response("2026-01", "2026-03", "poor")),
                )
                .expect("late");
                s.put_projection(
                    &key(0),
                    &area.id,
                    Some(&response("2026-01", "2026-03", "poor")),
                )
                .expect("edit");
                s.erase(&area.id, &["r1".to_owned()]).expect("erase");
                assert_eq!(published(), january, "January as published");
                assert_eq!(
                    live(),
                    BTreeMap::from([
                        (("2026-01".into(), "good".into()), 4),
                        (("2026-01".into(), "poor".into()), 1),
                        (("2026-03".into(), "poor".into()), 1),
                    ]),
                    "the edit stays in January, the late response is March's"
                );
                // A rebuild recounts the live tallies, never the published.
                s.rebuild_tallies().expect("rebuild");
                assert_eq!(published(), january);
                // Publishing March adds February and March, nothing else;
                // publishing an earlier month changes nothing.
                assert_eq!(
                    s.publish(&area.id, "2026-03", 2)
                        .expect("publish")
                        .as_deref(),
                    Some("2026-03")
                );
                assert_eq!(
                    s.publish(&area.id, "2026-02", 3)
                        .expect("publish")
                        .as_deref(),
                    Some("2026-03")
                );
                let mut want = january.clone();
                want.insert(("2026-03".into(), "poor".into()), 1);
                assert_eq!(published(), want);
                // Once March is published, another late January response
                // counts in the month after.
                s.put_projection(
                    &key(7),
                    &area.id,
                    Some(&response("2026-01", "2026-03", "good")),
                )
                .expect("later still");
                assert_eq!(published(), want);
                assert_eq!(
                    read(
                        s.live_tallies(&query(Some(("2026-04".into(), "2026-04".into()))))
                            .expect("live")
                    ),
                    BTreeMap::from([(("2026-04".into(), "good".into()), 1)])
                );
                // Reopened as a draft after January is published, then
                // submitted again in April: it counts in January again,
                // once, never in April as well.
                let draft = Projection {
                    status: Status::Draft,
                    counted: false,
                    ..response("2026-01", "2026-04", "good")
                };
                s.put_projection(&key(2), &area.id, Some(&draft))
                    .expect("reopen");
                s.put_projection(
                    &key(2),
                    &area.id,
                    Some(&response("2026-01", "2026-04", "good")),
                )
                .expect("again");
                assert_eq!(
                    read(s.live_tallies(&query(None)).expect("live")),
                    BTreeMap::from([
                        (("2026-01".into(), "good".into()), 4),
                        (("2026-01".into(), "poor".into()), 1),
                        (("2026-03".into(), "poor".into()), 1),
                        (("2026-04".into(), "good".into()), 1),
                    ]),
                );
                s.rebuild_tallies().expect("rebuild");
                assert_eq!(
                    read(s.live_tallies(&query(None)).expect("live"))
                        .values()
                        .sum::<i64>(),
                    7
                );
                // Each area publishes on its own.
                let other = admin::create_area(&*s, "redcar").expect("create");
                assert_eq!(
                    s.publish(&other.id, "2026-01", 4)
                        .expect("publish")
                        .as_deref(),
                    Some("2026-01")
                );
                assert_eq!(published(), want);
            }

            #[test]
            fn published_quotes_never_change_but_an_erasure_removes_them() {
                let s = $make;
                let area = admin::create_area(&*s, "darlington").expect("create");
                let form = builtin_form("service-satisfaction").expect("form");
                let response = |month: &str, why: &str| Projection {
                    form_id: form.id.clone(),
                    form_version: form.version.to_string(),
                    status: Status::Submitted,
                    counted: true,
                    setting: Some("clinic".into()),
                    month: month.into(),
                    arrived_month: month.into(),
                    answers: vec![AnswerRow {
                        question: "fft_why".into(),
                        kind: "text".into(),
                        value_text: Some(why.into()),
                        value_num: None,
                    }],
                    ..Projection::default()
                };
                let key = |i: usize| response_key(&area.id, &format!("q{i}"));
                for (i, why) in ["kind staff", "long wait", "clear letters"]
                    .iter()
                    .enumerate()
                {
                    s.put_projection(&key(i), &area.id, Some(&response("2026-02", why)))
                        .expect("write");
                }
                let query = TallyQuery {
                    area_id: area.id.clone(),
                    question: "fft_why".into(),
                    versions: vec![(form.id.clone(), form.version.to_string())],
                    dims: vec![Dim::Setting],
                    months: Some(("2026-01".into(), "2026-03".into())),
                };
                let quotes = || {
                    s.free_text(&query)
                        .expect("quotes")
                        .into_iter()
                        .filter(|q| q.dims[0] == "clinic")
                        .filter_map(|q| q.text)
                        .collect::<Vec<_>>()
                };
                assert!(quotes().is_empty(), "nothing published yet");
                s.publish(&area.id, "2026-03", 1).expect("publish");
                assert_eq!(quotes(), ["clear letters", "kind staff", "long wait"]);
                // An edit after publication, and a response that arrives
                // late: the published quotes stay as they were.
                s.put_projection(&key(0), &area.id, Some(&response("2026-02", "rude staff")))
                    .expect("edit");
                s.put_projection(&key(3), &area.id, Some(&response("2026-02", "late")))
                    .expect("late");
                assert_eq!(quotes(), ["clear letters", "kind staff", "long wait"]);
                // An erasure takes the family's words out.
                s.erase(&area.id, &["q1".to_owned()]).expect("erase");
                assert_eq!(quotes(), ["clear letters", "kind staff"]);
                // Its writer's groups stay (so the sets of quotes served do
                // not change), without the words.
                let all = s.free_text(&query).expect("quotes");
                assert_eq!(all.len(), 3);
                assert_eq!(all.iter().filter(|q| q.text.is_none()).count(), 1);
            }
        }
    };
}

reads_conformance!(sqlite_reads, SqliteGuard::new());
reads_conformance!(postgres_reads, PgGuard::new());

/// Dashboard users and sessions ([`Accounts`]).
macro_rules! accounts_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn users_and_sessions() {
                let s = $make;
                let h = admin::create_area(&*s, "hartlepool").expect("create");
                let m = admin::create_area(&*s, "middlesbrough").expect("create");
                let user = User {
                    id: "u1".into(),
                    area_id: h.id.clone(),
                    username: "priya".into(),
                    password_hash: "$argon2id$x".into(),
                    role: Role::Leader,
                    free_text: false,
                };
                s.create_user(&user).expect("create user");
                let clash = User {
                    id: "u2".into(),
                    area_id: m.id.clone(),
                    ..user.clone()
                };
                assert!(
                    matches!(s.create_user(&clash), Err(Error::Exists(_))),
                    "names are unique across areas"
                );
                assert_eq!(
                    s.user_by_name("priya").expect("by name"),
                    Some(user.clone())
                );
                assert_eq!(s.users(&h.id).expect("users"), vec![user.clone()]);
                assert_eq!(s.users(&m.id).expect("users"), vec![]);

                let now = 1_800_000_000_000;
                s.create_session(b"token-hash", "u1", now + 1000)
                    .expect("session");
                assert_eq!(
                    s.session_user(b"token-hash", now).expect("lookup"),
                    Some(user.clone())
                );
                assert_eq!(
                    s.session_user(b"token-hash", now + 1000).expect("lookup"),
                    None,
                    "expired"
                );
                assert_eq!(s.session_user(b"other", now).expect("lookup"), None);
                assert!(s.set_password("priya", "$argon2id$y").expect("password"));
                assert_eq!(
                    s.session_user(b"token-hash", now).expect("lookup"),
                    None,
                    "a new password ends sessions"
                );
                assert!(!s.set_password("nobody", "x").expect("password"));
                s.create_session(b"second", "u1", now + 1000)
                    .expect("session");
                s.delete_session(b"second").expect("sign out");
                assert_eq!(s.session_user(b"second", now).expect("lookup"), None);
            }
        }
    };
}

accounts_conformance!(sqlite_accounts, SqliteGuard::new());
accounts_conformance!(postgres_accounts, PgGuard::new());

/// "You said, we did" notes ([`Notes`]).
macro_rules! notes_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn notes_belong_to_their_area() {
                let s = $make;
                let h = admin::create_area(&*s, "hartlepool").expect("create");
                let m = admin::create_area(&*s, "middlesbrough").expect("create");
                let note = Note {
                    id: "n1".into(),
                    area_id: h.id.clone(),
                    theme: "diagnosis".into(),
                    you_said: "too long".into(),
                    we_did: "two clinics".into(),
                    author: "priya".into(),
                    updated_at: 1,
                };
                s.put_note(&note).expect("put");
                let edited = Note {
                    we_did: "three clinics".into(),
                    updated_at: 2,
                    ..note.clone()
                };
                s.put_note(&edited).expect("edit");
                let hijack = Note {
                    area_id: m.id.clone(),
                    we_did: "nothing".into(),
                    ..note.clone()
                };
                s.put_note(&hijack).expect("no error, no change");
                assert_eq!(s.notes(&h.id).expect("notes"), vec![edited.clone()]);
                assert_eq!(s.notes(&m.id).expect("notes"), vec![]);
                assert!(
                    !s.delete_note(&m.id, "n1").expect("delete"),
                    "not another area's"
                );
                assert!(s.delete_note(&h.id, "n1").expect("delete"));
                assert_eq!(s.notes(&h.id).expect("notes"), vec![]);
            }
        }
    };
}

notes_conformance!(sqlite_notes, SqliteGuard::new());
notes_conformance!(postgres_notes, PgGuard::new());

/// Survey links ([`Links`]): a link belongs to its area, is found by its
/// token's hash only, and takes no more uses than its cap, before it
/// closes and until it is revoked, however many claim at once.
macro_rules! links_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            use crate::model::SurveyLink;

            fn link(
                area_id: &str,
                id: &str,
                cap: Option<i64>,
                closes_at: Option<i64>,
            ) -> SurveyLink {
                SurveyLink {
                    id: id.into(),
                    area_id: area_id.into(),
                    form_id: "local-offer".into(),
                    single_use: cap == Some(1),
                    closes_at,
                    cap,
                    used: 0,
                    created_at: 10,
                    created_by: "sam".into(),
                    revoked: false,
                }
            }

            #[test]
            fn links_take_uses_up_to_their_cap_until_they_close_or_are_revoked() {
                let s = $make;
                let h = admin::create_area(&*s, "hartlepool").expect("create");
                let m = admin::create_area(&*s, "middlesbrough").expect("create");
                s.create_link(&link(&h.id, "l1", Some(2), Some(1_000)), b"token-1")
                    .expect("create");
                s.create_link(&link(&h.id, "l2", None, None), b"token-2")
                    .expect("create");
                assert!(
                    s.create_link(&link(&h.id, "l3", None, None), b"token-1")
                        .is_err(),
                    "tokens are unique"
                );
                let found = s.link_by_token(b"token-1").expect("read").expect("found");
                assert_eq!(found, link(&h.id, "l1", Some(2), Some(1_000)));
                assert_eq!(s.link_by_token(b"token-9").expect("read"), None);
                assert_eq!(s.links(&m.id).expect("links"), vec![]);
                assert_eq!(s.links(&h.id).expect("links").len(), 2);

                // The cap holds; a released use can be taken again.
                assert!(s.claim_link("l1", 5).expect("claim"));
                assert!(s.claim_link("l1", 5).expect("claim"));
                assert!(!s.claim_link("l1", 5).expect("claim"), "over the cap");
                s.release_link("l1").expect("release");
                assert!(s.claim_link("l1", 5).expect("claim"));
                assert_eq!(
                    s.link_by_token(b"token-1")
                        .expect("read")
                        .expect("found")
                        .used,
                    2
                );
                // Closed at its closing time.
                s.release_link("l1").expect("release");
                assert!(!s.claim_link("l1", 1_000).expect("claim"), "closed");
                // Revoked only in its own area.
                assert!(
                    !s.revoke_link(&m.id, "l2").expect("revoke"),
                    "not another area's"
                );
                assert!(s.claim_link("l2", 5).expect("claim"));
                assert!(s.revoke_link(&h.id, "l2").expect("revoke"));
                assert!(!s.claim_link("l2", 5).expect("claim"), "revoked");
                assert!(
                    s.link_by_token(b"token-2")
                        .expect("read")
                        .expect("found")
                        .revoked
                );
            }

            #[test]
            fn concurrent_claims_never_pass_the_cap() {
                let s = std::sync::Arc::new($make);
                let h = admin::create_area(&**s, "hartlepool").expect("create");
                s.create_link(&link(&h.id, "l1", Some(5), None), b"token-1")
                    .expect("create");
                let taken: usize = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..4)
                        .map(|_| {
                            let s = s.clone();
                            scope.spawn(move || {
                                (0..5)
                                    .filter(|_| s.claim_link("l1", 5).expect("claim"))
                                    .count()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().expect("thread")).sum()
                });
                assert_eq!(taken, 5);
            }
        }
    };
}

links_conformance!(sqlite_links, SqliteGuard::new());
links_conformance!(postgres_links, PgGuard::new());

/// The audit log ([`AuditLog`]).
macro_rules! audit_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn the_audit_log_is_per_area_newest_first_and_paged() {
                let s = $make;
                let h = admin::create_area(&*s, "hartlepool").expect("create");
                let m = admin::create_area(&*s, "middlesbrough").expect("create");
                let now = 1_800_000_000_000;
                for (area, action) in [
                    (&h, "report.read"),
                    (&m, "report.read"),
                    (&h, "report.export"),
                ] {
                    s.audit(&AuditEntry {
                        seq: 0,
                        at: now,
                        area_id: area.id.clone(),
                        actor: "priya".into(),
                        action: action.into(),
                        detail: "form=x".into(),
                    })
                    .expect("audit");
                }
                let log = s.audit_log(&h.id, i64::MAX, 10).expect("log");
                let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
                assert_eq!(
                    actions,
                    vec!["report.export", "report.read"],
                    "newest first, this area only"
                );
                let older = s.audit_log(&h.id, log[0].seq, 10).expect("log");
                assert_eq!(older.len(), 1, "paged by seq");
            }
        }
    };
}

audit_conformance!(sqlite_audit, SqliteGuard::new());
audit_conformance!(postgres_audit, PgGuard::new());

// ---------------------------------------------------------------------------
// PostgreSQL only: several server processes on one database.

mod postgres_only {
    use super::*;

    #[test]
    fn servers_starting_at_once_migrate_once() {
        let guard = PgGuard::empty();
        let url = guard.url();
        let barrier = Barrier::new(4);
        let storages: Vec<PostgresStorage> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (barrier, url) = (&barrier, &url);
                    scope.spawn(move || {
                        barrier.wait();
                        PostgresStorage::connect(url).expect("connect and migrate")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
        let versions: Vec<i64> = client
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .expect("versions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let all: Vec<i64> = (1..=i64::try_from(<PostgresStorage as Backend>::MIGRATIONS.len())
            .expect("few"))
            .collect();
        assert_eq!(versions, all, "each migration once");
        drop(client);
        // Every process sees the same data.
        let area = storages[0].create_area("hartlepool").expect("create");
        for s in &storages {
            assert_eq!(
                s.area_by_name("hartlepool").expect("by name"),
                Some(area.clone())
            );
        }
        assert!(format!("{:?}", storages[0]).starts_with("PostgresStorage"));
        assert!(
            !format!("{:?}", storages[0]).contains("127.0.0.1"),
            "no connection details in Debug"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let guard = PgGuard::new();
        let mut client =
            ::postgres::Client::connect(&guard.url(), ::postgres::NoTls).expect("connect");
        client
            .batch_execute("INSERT INTO schema_migrations (version) VALUES (999)")
            .expect("insert");
        drop(client);
        assert!(matches!(
            PostgresStorage::connect(&guard.url()),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn two_servers_merging_one_document_keep_both_edits() {
        // Two pools on one database stand for two server processes.
        let guard = PgGuard::new();
        let other = PostgresStorage::connect(&guard.url()).expect("second server");
        let servers: [&dyn Storage; 2] = [&*guard, &other];
        let area = area_with_form(servers[0], "hartlepool");
        let a = enrol(servers[0], &area, "a");
        let b = enrol(servers[1], &area, "b");
        let mut base = submitted(&area.name, "r-1", 9);
        upload_ok(servers[0], &area, &a, &whole(&mut base));
        upload_ok(servers[1], &area, &b, &whole(&mut base));
        let form = form();
        for round in 0..6u8 {
            // Each device reopens the response, changes one answer and
            // submits again; the two uploads reach different servers at once.
            let value = round % 5 + 1;
            let mut on_a = stored_response(servers[0], &area, "r-1");
            let mut on_b = stored_response(servers[1], &area, "r-1");
            let (old_a, old_b) = (on_a.heads(), on_b.heads());
            for (doc, question) in [(&mut on_a, "safe_home"), (&mut on_b, "safe_travel")] {
                doc.reopen(CAPTURED + 10).expect("reopen");
                answer(doc, question, Answer::Scale(value), CAPTURED + 11);
                doc.submit(&form, CAPTURED + 12).expect("submit");
            }
            let (data_a, data_b) = (edit(&mut on_a, &old_a), edit(&mut on_b, &old_b));
            let barrier = Barrier::new(2);
            std::thread::scope(|scope| {
                for (s, device, data) in [(servers[0], &a, &data_a), (servers[1], &b, &data_b)] {
                    let (barrier, area) = (&barrier, &area);
                    scope.spawn(move || {
                        barrier.wait();
                        upload_ok(s, area, device, data);
                    });
                }
            });
            let mut merged = stored_response(servers[0], &area, "r-1");
            let answers = merged.answers().expect("answers");
            assert_eq!(
                answers.get("safe_home"),
                Some(&Answer::Scale(value)),
                "round {round}: A's edit kept"
            );
            assert_eq!(
                answers.get("safe_travel"),
                Some(&Answer::Scale(value)),
                "round {round}: B's edit kept"
            );
            // The projection was made from the merge of both, not from a
            // stale copy.
            assert_eq!(
                servers[1].answers(&area.id, FORM).expect("answers"),
                expected_answers(&[&merged]),
                "round {round}"
            );
            assert_eq!(
                servers[1].count_submitted(&area.id, None).expect("count"),
                1
            );
            // The device whose upload merged first lacks the other's edit
            // and is sent it; the second already has both.
            let heads = sorted(merged.heads());
            let sent: Vec<Pending> = [&a, &b]
                .iter()
                .flat_map(|d| drain(servers[0], d, 0, 100).0)
                .collect();
            assert_eq!(responses(&sent), vec!["r-1".to_owned()], "round {round}");
            let sent: Vec<&Pending> = sent
                .iter()
                .filter(|d| d.kind == DocKind::Response)
                .collect();
            assert!(sent[0].device_heads.as_ref().is_some_and(|h| *h != heads));
            upload_ok(servers[0], &area, &a, &whole(&mut merged));
            upload_ok(servers[1], &area, &b, &whole(&mut merged));
        }
    }
}

// ---------------------------------------------------------------------------
// Schema: numbered migrations, "upgraded equals fresh" for both backends.

/// A database made by an earlier version of hark, to upgrade.
trait OldDatabase: Sized {
    /// The backend's migrations.
    const MIGRATIONS: &'static [&'static str];
    /// A database with the first `version` migrations applied and
    /// recorded, then `sql` run on it; not opened by hark yet.
    fn at_version(version: usize, sql: &str) -> Self;
    /// Opens it with this hark (migrating it).
    fn open(&mut self) -> Box<dyn Storage>;
    /// Its tables, columns, indexes and constraints, comparably.
    fn schema(&self) -> Vec<String>;
}

struct OldSqlite(tempfile::TempDir);

impl OldSqlite {
    fn path(&self) -> std::path::PathBuf {
        self.0.path().join("hark.db")
    }
}

impl OldDatabase for OldSqlite {
    const MIGRATIONS: &'static [&'static str] = <SqliteStorage as Backend>::MIGRATIONS;

    fn at_version(version: usize, sql: &str) -> Self {
        let db = Self(tempfile::tempdir().expect("dir"));
        let conn = rusqlite::Connection::open(db.path()).expect("open");
        for m in &Self::MIGRATIONS[..version] {
            conn.execute_batch(m).expect("old migration");
        }
        conn.pragma_update(None, "user_version", i64::try_from(version).expect("small"))
            .expect("version");
        conn.execute_batch(sql).expect("old data");
        db
    }

    fn open(&mut self) -> Box<dyn Storage> {
        Box::new(SqliteStorage::open(&self.path()).expect("upgrade"))
    }

    fn schema(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.path()).expect("open");
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }
}

struct OldPostgres(PgGuard);

impl OldDatabase for OldPostgres {
    const MIGRATIONS: &'static [&'static str] = <PostgresStorage as Backend>::MIGRATIONS;

    fn at_version(version: usize, sql: &str) -> Self {
        let guard = PgGuard::empty();
        let mut client =
            ::postgres::Client::connect(&guard.url(), ::postgres::NoTls).expect("connect");
        client
            .batch_execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY)")
            .expect("versions table");
        for (v, m) in (1i64..).zip(&Self::MIGRATIONS[..version]) {
            client.batch_execute(m).expect("old migration");
            client
                .execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])
                .expect("version");
        }
        client.batch_execute(sql).expect("old data");
        Self(guard)
    }

    fn open(&mut self) -> Box<dyn Storage> {
        Box::new(PostgresStorage::connect(&self.0.url()).expect("upgrade"))
    }

    fn schema(&self) -> Vec<String> {
        let mut client =
            ::postgres::Client::connect(&self.0.url(), ::postgres::NoTls).expect("connect");
        let mut out: Vec<String> = client
            .query(
                "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
                     || ' ' || coalesce(column_default, '') || ' ' || coalesce(collation_name, '')
                 FROM information_schema.columns WHERE table_schema = 'public'
                 ORDER BY table_name, ordinal_position",
                &[],
            )
            .expect("columns")
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.extend(
            client
                .query(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
                    &[],
                )
                .expect("indexes")
                .iter()
                .map(|r| r.get::<_, String>(0)),
        );
        out.extend(
            client
                .query(
                    "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
                     WHERE connamespace = 'public'::regnamespace ORDER BY 1",
                    &[],
                )
                .expect("constraints")
                .iter()
                .map(|r| r.get::<_, String>(0)),
        );
        out
    }
}

/// The schema of each backend ([`OldDatabase`]).
macro_rules! schema_conformance {
    ($name:ident, $old:ty) => {
        mod $name {
            use super::*;

            /// A database made by every earlier version, upgraded, has
            /// exactly the schema of a fresh one.
            #[test]
            fn upgraded_equals_fresh() {
                let last = <$old as OldDatabase>::MIGRATIONS.len();
                let mut fresh = <$old>::at_version(0, "");
                drop(fresh.open());
                for version in 1..last {
                    let mut old = <$old>::at_version(version, "");
                    drop(old.open());
                    assert_eq!(old.schema(), fresh.schema(), "from version {version}");
                }
            }

            /// Live tallies kept as rollups (before migration 6) are
            /// recounted on upgrade, each count once with every dimension:
            /// what a report adds up is the responses, not the rollups.
            #[test]
            fn an_upgrade_recounts_live_tallies_kept_as_rollups() {
                let mut old = <$old>::at_version(
                    5,
                    "INSERT INTO areas (id, name, created_at) VALUES ('a1', 'hartlepool', 0);
                     INSERT INTO responses (id, area_id, form_id, form_version, status, setting, kiosk,
                         captured_at, month, flags, counted, counted_in)
                     VALUES ('r1', 'a1', 'f', '1.0.0', 'submitted', 'home', FALSE, 0, '2026-01', 0, TRUE, '2026-01');
                     INSERT INTO answers VALUES ('r1', 'q', 'choice', 'yes', NULL);
                     INSERT INTO tallies VALUES
                         ('a1', 'f', 'q', '2026-01', '1.0.0', '*', '*', '*', '*', 'yes', 1),
                         ('a1', 'f', 'q', '2026-01', '1.0.0', 'home', '*', '*', '*', 'yes', 1);",
                );
                let s = old.open();
                let read = |dims: Vec<Dim>| -> Vec<(Vec<String>, String, i64)> {
                    let mut rows: Vec<_> = s
                        .live_tallies(&TallyQuery {
                            area_id: "a1".into(),
                            question: "q".into(),
                            versions: vec![("f".into(), "1.0.0".into())],
                            dims,
                            months: None,
                        })
                        .expect("tallies")
                        .into_iter()
                        .map(|r| (r.dims, r.value, r.n))
                        .collect();
                    rows.sort();
                    rows
                };
                assert_eq!(
                    read(vec![]),
                    vec![(vec![], String::new(), 1), (vec![], "yes".to_owned(), 1)]
                );
                assert_eq!(
                    read(vec![Dim::Setting, Dim::Need]),
                    vec![
                        (vec!["home".to_owned(), String::new()], String::new(), 1),
                        (vec!["home".to_owned(), String::new()], "yes".to_owned(), 1)
                    ]
                );
            }

            /// Responses stored before the tallies existed are counted on
            /// upgrade, and their answers packed for exports.
            #[test]
            fn an_upgrade_counts_existing_responses_into_the_tallies() {
                let mut old = <$old>::at_version(
                    1,
                    "INSERT INTO areas VALUES ('a1', 'hartlepool', 0);
                     INSERT INTO responses VALUES ('r1', 'a1', 'f', '1.0.0', 'submitted', 'home', NULL, NULL, NULL, FALSE, 0, 0, '2026-01', 0);
                     INSERT INTO answers VALUES ('r1', 'q', 'choice', 'yes', NULL);
                     INSERT INTO responses VALUES ('r2', 'a1', 'f', '1.0.0', 'draft', 'home', NULL, NULL, NULL, FALSE, 0, 0, '2026-01', 0);
                     INSERT INTO answers VALUES ('r2', 'q', 'choice', 'no', NULL);",
                );
                let s = old.open();
                let rows = s
                    .live_tallies(&TallyQuery {
                        area_id: "a1".into(),
                        question: "q".into(),
                        versions: vec![("f".into(), "1.0.0".into())],
                        dims: vec![Dim::Setting],
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
                let mut exported = Vec::new();
                s.export_responses("a1", &["f".to_owned()], false, &mut |r| {
                    exported.push(r.answers);
                    Ok(())
                })
                .expect("export");
                assert_eq!(
                    exported,
                    vec![vec![("q".to_owned(), Some("yes".to_owned()), None)]],
                    "answers packed on upgrade"
                );
            }
        }
    };
}

schema_conformance!(sqlite_schema, OldSqlite);
schema_conformance!(postgres_schema, OldPostgres);

/// A submitted response whose answers raise the "unsafe at home" flag.
fn flagged(area_name: &str, id: &str) -> ResponseDoc {
    let form = form();
    let mut doc = draft(area_name, id);
    for (q, a) in plausible_answers(&form, rng(3)) {
        if q != "safe_home" {
            doc.answer(&form, &q, a, CAPTURED + 1).expect("answer");
        }
    }
    doc.answer(&form, "safe_home", Answer::Scale(1), CAPTURED + 1)
        .expect("answer");
    doc.submit(&form, CAPTURED + 2).expect("submit");
    doc
}

/// The safeguarding list ([`SafeguardingList`]).
macro_rules! safeguarding_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn flagged_responses_are_listed_with_their_follow_up_per_area() {
                let s = $make;
                let area = area_with_form(&*s, "hartlepool");
                let other = area_with_form(&*s, "darlington");
                let device = enrol(&*s, &area, "tablet");
                let mut doc = flagged(&area.name, "r-1");
                upload_ok(&*s, &area, &device, &whole(&mut doc));
                let mut plain = submitted(&area.name, "r-2", 8);
                upload_ok(&*s, &area, &device, &whole(&mut plain));

                let flags = s.flags(&area.id, None, i64::MAX, 10).expect("flags");
                let unsafe_home: Vec<&Flag> = flags
                    .iter()
                    .filter(|f| f.trigger == "unsafe_home")
                    .collect();
                assert_eq!(unsafe_home.len(), 1, "{flags:?}");
                let flag = unsafe_home[0].clone();
                assert_eq!(flag.status, FlagStatus::New);
                assert_eq!(flag.level, "urgent");
                assert_eq!(flag.response_key, key(&area, "r-1"));
                assert_eq!(flag.raised_at, CAPTURED + 2, "when the device raised it");
                assert!(
                    s.flags(&other.id, None, i64::MAX, 10)
                        .expect("flags")
                        .is_empty()
                );
                let new = s.count_flags(&area.id, FlagStatus::New).expect("count");
                assert_eq!(new as usize, flags.len());

                // Another area can neither read nor change it.
                assert_eq!(s.flag(&other.id, flag.id).expect("flag"), None);
                assert!(
                    !s.set_flag_status(&other.id, flag.id, FlagStatus::Seen, "x", 1, None)
                        .expect("status")
                );
                assert!(
                    s.set_flag_status(
                        &area.id,
                        flag.id,
                        FlagStatus::FollowedUp,
                        "sam",
                        5,
                        Some("Called")
                    )
                    .expect("status")
                );
                let done = s.flag(&area.id, flag.id).expect("flag").expect("exists");
                assert_eq!(
                    (
                        done.status,
                        done.status_by.as_deref(),
                        done.status_at,
                        done.note.as_deref()
                    ),
                    (FlagStatus::FollowedUp, Some("sam"), Some(5), Some("Called"))
                );

                // Syncing the response again keeps the follow-up.
                upload_ok(&*s, &area, &device, &whole(&mut doc));
                let again = s.flag(&area.id, flag.id).expect("flag").expect("exists");
                assert_eq!(again.status, FlagStatus::FollowedUp);
                assert_eq!(
                    s.flags_after(&area.id, 0, 10).expect("feed").len(),
                    flags.len(),
                    "no second flag"
                );
                assert!(
                    s.flags_after(&area.id, flag.id, 10)
                        .expect("feed")
                        .iter()
                        .all(|f| f.id > flag.id)
                );

                // Erasing the response removes its flags.
                s.erase(&area.id, &["r-1".to_owned()]).expect("erase");
                assert_eq!(s.flag(&area.id, flag.id).expect("flag"), None);
            }
        }
    };
}

safeguarding_conformance!(sqlite_safeguarding, SqliteGuard::new());
safeguarding_conformance!(postgres_safeguarding, PgGuard::new());
