//! Several devices offline, then syncing in every order.

use hark_core::{Answer, ResponseFilter};
use hark_tests::{TestDevice, TestServer};

const FORM: &str = "being-heard";

/// Scenario 3: one response edited offline on two devices; every sync order
/// converges to the same document, counted once, with the conflict visible.
#[test]
fn offline_edits_on_two_devices_converge_in_every_order() {
    let orders: [&[usize]; 6] = [
        &[0, 1, 2],
        &[0, 2, 1],
        &[1, 0, 2],
        &[1, 2, 0],
        &[2, 0, 1],
        &[2, 1, 0],
    ];
    for order in orders {
        let server = TestServer::sqlite();
        server.area("hartlepool");
        let devices: Vec<TestDevice> = (0..3)
            .map(|_| TestDevice::enrol(&server, "hartlepool"))
            .collect();
        // Device 0 starts the response with the young person and syncs.
        let id = devices[0].capture(FORM, 1, 3).remove(0);
        devices[0].sync().expect("sync");
        // Device 1 picks it up (the practitioner's second tablet).
        let fetched = hark_core::sync::SyncRequest {
            want: vec![id.clone()],
            ..Default::default()
        };
        let response = hark_core::sync::client::Transport::exchange(
            &devices[1].transport(&server.url),
            &fetched,
        )
        .expect("fetch");
        devices[1]
            .store
            .apply_from_server(&hark_core::sync::incoming(&response.docs).expect("hashes"))
            .expect("apply");
        // Offline: device 0 corrects the setting; device 1 reopens and edits
        // an answer and the message; device 2 captures two of its own.
        let mut ctx = devices[0].store.response(&id).expect("view").header.context;
        ctx.setting = Some("school".into());
        devices[0].store.set_context(&id, &ctx).expect("context");
        devices[0].store.reopen(&id).expect("reopen");
        devices[0]
            .store
            .answer(&id, "asked_views", Answer::Scale(2))
            .expect("answer");
        devices[0].store.submit(&id).expect("submit");
        devices[1].store.reopen(&id).expect("reopen");
        devices[1]
            .store
            .answer(&id, "asked_views", Answer::Scale(4))
            .expect("answer");
        devices[1]
            .store
            .answer(&id, "message", Answer::Text("Listen to me first.".into()))
            .expect("answer");
        devices[1].store.submit(&id).expect("submit");
        let own = devices[2].capture(FORM, 2, 9);
        for &d in order {
            devices[d].sync().expect("sync");
        }
        for &d in order {
            devices[d].sync().expect("second round");
        }
        assert_eq!(server.count("hartlepool", Some(FORM)), 3, "order {order:?}");
        let v0 = devices[0].store.response(&id).expect("view");
        let v1 = devices[1].store.response(&id).expect("view");
        assert_eq!(v0.answers, v1.answers, "order {order:?}: devices disagree");
        assert_eq!(v0.header.context.setting.as_deref(), Some("school"));
        assert_eq!(
            v0.answers["message"],
            Answer::Text("Listen to me first.".into())
        );
        assert_eq!(
            v0.conflicts.len(),
            1,
            "the concurrent answer is visible as a conflict"
        );
        assert_eq!(v0.conflicts[0].question, "asked_views");
        assert_eq!(v0.conflicts, v1.conflicts);
        // Device 2 never held the shared response; device 0 never got 2's own.
        assert!(devices[2].store.response(&id).is_err());
        assert!(devices[0].store.response(&own[0]).is_err());
        // The server's projection has the merged answers.
        let area = server
            .storage
            .area_by_name("hartlepool")
            .expect("area")
            .expect("exists");
        let rows = server.storage.answers(&area.id, FORM).expect("answers");
        assert!(rows.iter().any(|(r, q, t, _)| r == &id
            && q == "message"
            && t.as_deref() == Some("Listen to me first.")));
    }
}

/// Scenario 4: a tablet restored from backup and the old tablet both keep
/// capturing and syncing; nothing lost, nothing doubled.
#[test]
fn a_restored_backup_and_the_original_both_sync_exactly() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let old = TestDevice::enrol(&server, "hartlepool");
    let before = old.capture("local-offer", 5, 1);
    old.sync().expect("sync");
    let drafts = old.capture("local-offer", 3, 2); // captured, not yet synced
    // Restore: copy the store (and its key) onto a new tablet.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(old.dir.path().join("hark.db"), dir.path().join("hark.db")).expect("copy");
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::copy(
            old.dir.path().join(format!("hark.db{ext}")),
            dir.path().join(format!("hark.db{ext}")),
        );
    }
    let restored = hark_core::Store::open(
        &dir.path().join("hark.db"),
        &hark_core::StoreKey::from_bytes(old.key),
    )
    .expect("restored");
    // Both go on working.
    let from_old = old.capture("local-offer", 2, 3);
    let from_new = {
        let d = TestDevice {
            store: restored,
            token: old.token.clone(),
            area: old.area.clone(),
            dir,
            key: old.key,
        };
        let ids = d.capture("local-offer", 4, 4);
        d.sync().expect("restored syncs");
        (d, ids)
    };
    old.sync().expect("old syncs");
    from_new.0.sync().expect("restored again");
    old.sync().expect("old again");
    let total = before.len() + drafts.len() + from_old.len() + from_new.1.len();
    assert_eq!(
        server.count("hartlepool", Some("local-offer")),
        total as i64
    );
    let held = old
        .store
        .list(&ResponseFilter::default())
        .expect("list")
        .len();
    assert_eq!(
        held,
        before.len() + drafts.len() + from_old.len(),
        "old tablet holds its own"
    );
}

/// An up-to-date device holding many documents costs one small round trip.
#[test]
fn a_no_op_resync_is_one_round_trip() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    d.capture("service-satisfaction", 30, 5);
    let first = d.sync().expect("sync");
    assert_eq!(first.sent, 30);
    let again = d.sync().expect("sync");
    assert_eq!((again.sent, again.received, again.round_trips), (0, 0, 1));
}

/// Scenario 2 and 7: a hub tablet gathers an event's responses from the
/// others over a local connection (or a bundle), several tablets then sync
/// the same responses to the server, which counts each family once; a
/// family withdrawing consent is erased everywhere and the count moves.
#[test]
fn an_event_without_wifi_counts_every_family_once() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let tablets: Vec<TestDevice> = (0..4)
        .map(|_| TestDevice::enrol(&server, "hartlepool"))
        .collect();
    let mut all = Vec::new();
    for (i, t) in tablets.iter().enumerate() {
        all.extend(t.capture("service-satisfaction", 15, i as u64 + 10));
    }
    // The organiser's tablet (0) collects from 1 and 2 directly, from 3 by bundle.
    for t in &tablets[1..3] {
        hark_core::sync::sync(
            &t.store,
            "hub",
            &hark_core::sync::hub::LocalPeer(&tablets[0].store),
            &|_: usize, _: usize| {},
        )
        .expect("local");
    }
    let bundle = hark_core::sync::bundle::export_bundle(&tablets[3].store).expect("bundle");
    hark_core::sync::bundle::import_bundle(&tablets[0].store, &bundle).expect("import");
    // Next morning everyone syncs, in some order.
    for i in [2, 0, 3, 1] {
        tablets[i].sync().expect("sync");
    }
    assert_eq!(
        server.count("hartlepool", Some("service-satisfaction")),
        60,
        "60 families, not 120 or 59"
    );
    // A family withdraws consent: erased on the tablet, then everywhere.
    assert!(tablets[1].store.erase_response(&all[20]).expect("erase"));
    tablets[1].sync().expect("sync");
    assert_eq!(server.count("hartlepool", Some("service-satisfaction")), 59);
    tablets[0].sync().expect("sync");
    assert!(
        tablets[0].store.response(&all[20]).is_err(),
        "the hub's copy is erased too"
    );
    // Syncing the hub's older copies again does not bring it back.
    for t in &tablets {
        t.sync().expect("sync");
    }
    assert_eq!(server.count("hartlepool", Some("service-satisfaction")), 59);
}
