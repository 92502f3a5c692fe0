use super::*;
use crate::kiosk::{Kiosk, KioskReset};
use crate::test_support::sample_form;

fn ctx() -> ResponseContext {
    ResponseContext {
        area: "hartlepool".into(),
        setting: Some("home".into()),
        occasion: Some("visit-1".into()),
        practitioner: Some("fw-17".into()),
        ..ResponseContext::default()
    }
}

fn new_store(dir: &tempfile::TempDir, key: &StoreKey) -> Store {
    let store = Store::open(&dir.path().join("hark.db"), key).expect("open");
    store.install_form(&sample_form()).expect("install");
    store
}

fn file_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join(format!("hark.db{suffix}"))) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn answers_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let id = {
        let store = new_store(&dir, &key);
        let id = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        store
            .answer(&id, "school", Answer::Scale(4))
            .expect("answer");
        store
            .answer(&id, "tell", Answer::Choices(vec!["teacher".into()]))
            .expect("answer");
        id
    };
    let store = Store::open(&dir.path().join("hark.db"), &key).expect("reopen");
    let view = store.response(&id).expect("response");
    assert_eq!(view.answers["school"], Answer::Scale(4));
    assert_eq!(
        view.answers["tell"],
        Answer::Choices(vec!["teacher".into()])
    );
    assert_eq!(view.header.status, Status::Draft);
    assert_eq!(view.header.context.practitioner.as_deref(), Some("fw-17"));
    assert_eq!(view.header.context.device, store.device_id());
}

#[test]
fn nothing_readable_is_left_in_the_files() {
    let dir = tempfile::tempdir().expect("dir");
    let store = new_store(&dir, &StoreKey::generate());
    let id = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    store
        .answer(&id, "school", Answer::Scale(1))
        .expect("answer");
    store
        .answer(
            &id,
            "why_unsafe",
            Answer::Text("zebracrossing bully".into()),
        )
        .expect("answer");
    store
        .answer(&id, "club", Answer::Choice("yes".into()))
        .expect("answer");
    drop(store);
    let bytes = file_bytes(&dir);
    for secret in [&b"zebracrossing"[..], b"fw-17", b"hartlepool", b"visit-1"] {
        assert!(
            !contains(&bytes, secret),
            "{} stored in the clear",
            String::from_utf8_lossy(secret)
        );
    }
}

#[test]
fn a_wrong_key_is_refused_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let id = {
        let store = new_store(&dir, &key);
        let id = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        store
            .answer(&id, "school", Answer::Scale(4))
            .expect("answer");
        id
    };
    let before = std::fs::read(dir.path().join("hark.db")).expect("read");
    let err =
        Store::open(&dir.path().join("hark.db"), &StoreKey::generate()).expect_err("wrong key");
    assert!(matches!(err, Error::WrongKey), "{err}");
    assert_eq!(err.to_string(), "the key does not open this store");
    assert_eq!(
        std::fs::read(dir.path().join("hark.db")).expect("read"),
        before
    );
    let store = Store::open(&dir.path().join("hark.db"), &key).expect("right key still opens");
    assert_eq!(
        store.response(&id).expect("response").answers["school"],
        Answer::Scale(4)
    );
}

#[test]
fn tampered_blobs_are_detected_not_misread() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let (a, b) = {
        let store = new_store(&dir, &key);
        let a = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        store
            .answer(&a, "school", Answer::Scale(4))
            .expect("answer");
        let b = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        (a, b)
    };
    {
        let conn = Connection::open(dir.path().join("hark.db")).expect("raw");
        let data: Vec<u8> = conn
            .query_row("SELECT data FROM changes WHERE doc_id = ?1", [&a], |r| {
                r.get(0)
            })
            .expect("a change chunk");
        let mut bad = data.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x40;
        conn.execute(
            "UPDATE changes SET data = ?2 WHERE doc_id = ?1",
            params![a, bad],
        )
        .expect("tamper");
        // Swap b's snapshot for a's: each is valid, but not in that place.
        conn.execute(
            "UPDATE documents SET snapshot = (SELECT snapshot FROM documents WHERE id = ?1) WHERE id = ?2",
            params![a, b],
        )
        .expect("swap");
    }
    let store = Store::open(&dir.path().join("hark.db"), &key).expect("open");
    assert!(matches!(store.response(&a), Err(Error::Tampered)));
    assert!(matches!(store.response(&b), Err(Error::Tampered)));
}

#[test]
fn erasing_a_response_removes_its_bytes_for_real() {
    let dir = tempfile::tempdir().expect("dir");
    let store = new_store(&dir, &StoreKey::generate());
    let keep = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    let gone = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    store
        .answer(&gone, "school", Answer::Scale(2))
        .expect("answer");
    let sealed: Vec<Vec<u8>> = {
        let inner = store.lock();
        let mut stmt = inner
            .conn
            .prepare("SELECT snapshot FROM documents WHERE id = ?1 UNION ALL SELECT data FROM changes WHERE doc_id = ?1")
            .expect("prepare");
        stmt.query_map([&gone], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert!(store.erase_response(&gone).expect("erase"));
    assert!(matches!(store.response(&gone), Err(Error::NotFound(_))));
    assert!(store.response(&keep).is_ok());
    assert!(store.is_erased(&gone).expect("erased"));
    assert_eq!(
        store.erased_since(0).expect("erasures"),
        std::slice::from_ref(&gone)
    );
    let bytes = file_bytes(&dir);
    for blob in sealed {
        assert!(
            !contains(&bytes, &blob[1..40]),
            "erased bytes remain in the file"
        );
    }
    // An old copy arriving later (e.g. from another tablet) stays erased.
    assert!(!store.erase_response(&gone).expect("erase again"));
}

#[test]
fn the_change_cursor_lists_only_what_changed() {
    let dir = tempfile::tempdir().expect("dir");
    let store = new_store(&dir, &StoreKey::generate());
    let a = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    let b = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    let cursor = store.cursor().expect("cursor");
    assert!(store.changed_since(cursor).expect("changes").is_empty());
    store
        .answer(&a, "school", Answer::Scale(3))
        .expect("answer");
    let changed = store.changed_since(cursor).expect("changes");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].id, a);
    assert_eq!(
        Some(changed[0].heads.clone()),
        store.heads(&a).expect("heads")
    );
    let all = store.changed_since(0).expect("all");
    assert_eq!(all.iter().filter(|c| c.kind == DocKind::Form).count(), 1);
    assert!(all.iter().any(|c| c.id == b));
    // A refused answer changes nothing, the cursor included.
    let cursor = store.cursor().expect("cursor");
    assert!(store.answer(&b, "school", Answer::Scale(9)).is_err());
    assert_eq!(store.cursor().expect("cursor"), cursor);
}

#[test]
fn many_edits_compact_into_a_snapshot_that_loads() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let store = new_store(&dir, &key);
    let id = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    for i in 0..(DEVICE_CHUNKS_BEFORE_SNAPSHOT * 2 + 5) {
        store
            .answer(&id, "age", Answer::Number(4 + i % 20))
            .expect("answer");
    }
    let n: i64 = store
        .lock()
        .conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    assert!(
        n < DEVICE_CHUNKS_BEFORE_SNAPSHOT,
        "{n} chunks left uncompacted"
    );
    drop(store);
    let store = Store::open(&dir.path().join("hark.db"), &key).expect("open");
    assert_eq!(
        store.response(&id).expect("view").answers["age"],
        Answer::Number(4 + (DEVICE_CHUNKS_BEFORE_SNAPSHOT * 2 + 4) % 20)
    );
}

#[test]
fn forms_install_once_and_versions_cannot_be_rewritten() {
    let dir = tempfile::tempdir().expect("dir");
    let store = new_store(&dir, &StoreKey::generate());
    assert!(!store.install_form(&sample_form()).expect("again"));
    let mut changed = sample_form();
    changed.title = crate::form::Text::new("en", "Different");
    assert!(matches!(
        store.install_form(&changed),
        Err(Error::FormVersionClash(_))
    ));
    changed.version = semver::Version::new(1, 1, 0);
    assert!(store.install_form(&changed).expect("new version"));
    assert_eq!(store.forms().expect("forms").len(), 2);
    assert_eq!(
        store
            .latest_form("sample")
            .expect("latest")
            .expect("some")
            .version,
        changed.version
    );
    // New responses use the newest version; old ones keep theirs.
    let id = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    assert_eq!(
        store.response(&id).expect("view").header.form.version,
        changed.version
    );
    assert!(matches!(
        store.start_response("nope", &ctx(), Consent::child()),
        Err(Error::FormNotInstalled(_))
    ));
}

#[test]
fn a_retired_form_is_not_offered_but_its_drafts_are_finished() {
    use crate::doc::{DocKind, form_doc, retire_form_doc};
    use crate::store::replica::Incoming;
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let store = new_store(&dir, &key);
    let form = sample_form();
    let draft = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("a draft before retirement");
    assert_eq!(store.offered_forms().expect("offered").len(), 1);

    // The area retires the form: its document arrives with one more change.
    let (_, bytes) = form_doc(&form).expect("doc");
    let (_, retired) = retire_form_doc(&bytes, 1_700_000_000_000).expect("retire");
    let incoming = Incoming {
        id: form_doc_id(&form.form_ref()),
        kind: DocKind::Form,
        base: Vec::new(),
        bytes: retired.clone(),
    };
    // A peer (a tablet at a hub, a bundle) may not send forms at all.
    let err = store
        .apply(std::slice::from_ref(&incoming))
        .expect_err("forms come from the server only");
    assert!(err.to_string().contains("may not send forms"), "{err}");
    assert!(!store.is_retired("sample").expect("read"));
    // Nor may the server send other content under an installed version.
    let mut rewritten = form.clone();
    rewritten.title = crate::form::Text::new("en", "Rewritten");
    let (_, other) = form_doc(&rewritten).expect("doc");
    let (_, other) = retire_form_doc(&other, 1).expect("retire");
    let clash = Incoming {
        bytes: other,
        ..incoming.clone()
    };
    assert!(matches!(
        store.apply_from_server(std::slice::from_ref(&clash)),
        Err(Error::FormVersionClash(_))
    ));
    assert!(!store.is_retired("sample").expect("read"));
    assert_eq!(
        *store.latest_form("sample").expect("read").expect("form"),
        form
    );
    store
        .apply_from_server(std::slice::from_ref(&incoming))
        .expect("apply");
    assert!(store.is_retired("sample").expect("read"));
    assert!(store.offered_forms().expect("offered").is_empty());
    assert!(matches!(
        store.start_response("sample", &ctx(), Consent::child()),
        Err(Error::FormRetired(_))
    ));
    // The draft begun before is still finished.
    for (q, a) in crate::form::plausible_answers(&form, &mut crate::form::seeded(1)) {
        store.answer(&draft, &q, a).expect("answer");
    }
    store.submit(&draft).expect("submit");
    assert_eq!(
        store.forms().expect("forms").len(),
        1,
        "the version stays installed"
    );
    // It stays retired across a reopen, with the document as it came.
    drop(store);
    let store = Store::open(&dir.path().join("hark.db"), &key).expect("reopen");
    assert!(store.is_retired("sample").expect("read"));
    let passed_on = store
        .export_document(&form_doc_id(&form.form_ref()))
        .expect("the form document");
    assert!(
        crate::doc::form_doc_retired(&passed_on)
            .expect("reads")
            .is_some()
    );
    // Publishing a newer version offers the form again.
    let mut newer = form.clone();
    newer.version = semver::Version::new(1, 1, 0);
    store.install_form(&newer).expect("newer");
    assert!(!store.is_retired("sample").expect("read"));
    assert_eq!(
        store.offered_forms().expect("offered")[0].version,
        newer.version
    );
}

#[test]
fn list_filters_by_form_status_occasion_and_flags() {
    let dir = tempfile::tempdir().expect("dir");
    let store = new_store(&dir, &StoreKey::generate());
    let flagged = store
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    store
        .answer(&flagged, "school", Answer::Scale(1))
        .expect("answer");
    let flags = store.submit(&flagged).expect("submit");
    assert_eq!(flags[0].trigger, "unsafe_school");
    let mut other = ctx();
    other.occasion = Some("visit-2".into());
    let draft = store
        .start_response("sample", &other, Consent::child())
        .expect("start");
    let all = store.list(&ResponseFilter::default()).expect("list");
    assert_eq!(all.len(), 2);
    let f = |filter: ResponseFilter| -> Vec<String> {
        store
            .list(&filter)
            .expect("list")
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    assert_eq!(
        f(ResponseFilter {
            flagged_only: true,
            ..Default::default()
        }),
        std::slice::from_ref(&flagged)
    );
    assert_eq!(
        f(ResponseFilter {
            status: Some(Status::Draft),
            ..Default::default()
        }),
        std::slice::from_ref(&draft)
    );
    assert_eq!(
        f(ResponseFilter {
            occasion: Some("visit-2".into()),
            ..Default::default()
        }),
        [draft]
    );
    assert!(
        f(ResponseFilter {
            form_id: Some("other".into()),
            ..Default::default()
        })
        .is_empty()
    );
}

#[test]
fn a_restored_backup_and_the_original_both_keep_working_and_merge() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    let id = {
        let store = new_store(&dir, &key);
        let id = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        store
            .answer(&id, "school", Answer::Scale(4))
            .expect("answer");
        id
    };
    let copy_dir = tempfile::tempdir().expect("dir");
    std::fs::copy(dir.path().join("hark.db"), copy_dir.path().join("hark.db")).expect("copy");
    let old = Store::open(&dir.path().join("hark.db"), &key).expect("old");
    let restored = Store::open(&copy_dir.path().join("hark.db"), &key).expect("restored");
    old.answer(&id, "club", Answer::Choice("no".into()))
        .expect("answer");
    restored
        .answer(&id, "age", Answer::Number(9))
        .expect("answer");
    let fresh = restored
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    restored
        .answer(&fresh, "school", Answer::Scale(5))
        .expect("answer");
    // Exchange everything both ways, twice (idempotent).
    for _ in 0..2 {
        for c in restored
            .changed_since(0)
            .expect("changes")
            .iter()
            .filter(|c| c.kind == DocKind::Response)
        {
            old.import_response(&restored.export_document(&c.id).expect("export"))
                .expect("import");
        }
        for c in old
            .changed_since(0)
            .expect("changes")
            .iter()
            .filter(|c| c.kind == DocKind::Response)
        {
            restored
                .import_response(&old.export_document(&c.id).expect("export"))
                .expect("import");
        }
    }
    for s in [&old, &restored] {
        let view = s.response(&id).expect("view");
        assert_eq!(view.answers.len(), 3, "{:?}", view.answers);
        assert!(view.conflicts.is_empty());
        assert_eq!(s.list(&ResponseFilter::default()).expect("list").len(), 2);
    }
    assert_eq!(
        old.heads(&id).expect("heads"),
        restored.heads(&id).expect("heads")
    );
}

#[test]
fn kiosk_sessions_are_anonymous_and_reset_in_one_call() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(new_store(&dir, &StoreKey::generate()));
    store.set_user(Some("organiser-1".into()));
    let kiosk = Kiosk::new(
        store.clone(),
        "hartlepool",
        "forum-drop-in",
        Some("church hall".into()),
        vec!["sample".into()],
    );
    // Family 1 answers and finishes.
    let r1 = kiosk.begin("sample", Consent::child()).expect("begin");
    store
        .answer(&r1, "school", Answer::Scale(5))
        .expect("answer");
    store.submit(&r1).expect("submit");
    assert_eq!(
        kiosk.reset().expect("reset"),
        KioskReset {
            submitted: 1,
            discarded: 0
        }
    );
    // Family 2 walks away halfway.
    let r2 = kiosk.begin("sample", Consent::child()).expect("begin");
    store
        .answer(&r2, "school", Answer::Scale(3))
        .expect("answer");
    assert_eq!(
        kiosk.reset().expect("reset"),
        KioskReset {
            submitted: 0,
            discarded: 1
        }
    );
    assert!(matches!(store.response(&r2), Err(Error::NotFound(_))));
    assert!(matches!(
        kiosk.begin("other", Consent::child()),
        Err(Error::Kiosk(_))
    ));
    let view = store.response(&r1).expect("kept");
    assert!(view.header.context.kiosk);
    assert_eq!(view.header.context.practitioner, None);
    assert_eq!(
        view.header.context.occasion.as_deref(),
        Some("forum-drop-in")
    );
    let bytes = store.export_document(&r1).expect("export");
    assert!(
        !contains(&bytes, b"organiser-1"),
        "the device user is recorded on a kiosk response"
    );
}

#[test]
fn new_responses_share_the_session_actor_and_a_reopened_store_never_writes_as_it() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::generate();
    // The actor of each change of a response, oldest first.
    let actors = |store: &Store, id: &str| -> Vec<automerge::ActorId> {
        let mut doc =
            automerge::AutoCommit::load(&store.export_document(id).expect("export")).expect("load");
        doc.get_changes(&[])
            .iter()
            .map(|c| c.actor_id().clone())
            .collect()
    };
    let first_actor = |store: &Store, id: &str| actors(store, id)[0].clone();
    let (a, b, session) = {
        let store = new_store(&dir, &key);
        let a = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        let b = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        let session = first_actor(&store, &a);
        // One actor for the session's new responses: written once per
        // document, it compresses across a batch.
        assert_eq!(first_actor(&store, &b), session);
        (a, b, session)
    };
    // Reopened (or restored from a backup): a new session, a new actor,
    // and edits to earlier responses never continue as the old one.
    let copy_dir = tempfile::tempdir().expect("dir");
    std::fs::copy(dir.path().join("hark.db"), copy_dir.path().join("hark.db")).expect("copy");
    for path in [dir.path(), copy_dir.path()] {
        let store = Store::open(&path.join("hark.db"), &key).expect("reopen");
        let c = store
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        assert_ne!(first_actor(&store, &c), session);
        store
            .answer(&a, "school", Answer::Scale(3))
            .expect("answer");
        let last = actors(&store, &a).pop().expect("changes");
        assert_ne!(last, session);
        assert_eq!(store.response(&b).expect("b").header.id, b);
    }
}
