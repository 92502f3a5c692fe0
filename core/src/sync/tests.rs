use super::hub::LocalPeer;
use super::*;
use crate::store::{ResponseFilter, Store, StoreKey};
use crate::test_support::sample_form;
use crate::{Answer, Consent, ResponseContext};
use proptest::prelude::*;

fn store() -> Store {
    let s = Store::open_in_memory(&StoreKey::generate()).expect("open");
    s.install_form(&sample_form()).expect("install");
    s
}

fn ctx() -> ResponseContext {
    ResponseContext {
        area: "hartlepool".into(),
        ..ResponseContext::default()
    }
}

fn no_progress(_: usize, _: usize) {}

fn count(s: &Store) -> usize {
    s.list(&ResponseFilter::default()).expect("list").len()
}

#[test]
fn device_to_hub_then_a_no_op_resync_is_one_small_round_trip() {
    let (device, hub) = (store(), store());
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let id = device
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        device
            .answer(&id, "school", Answer::Scale(1 + i % 5))
            .expect("answer");
        ids.push(id);
    }
    let report = sync(&device, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
    assert_eq!(report.sent, 5);
    assert_eq!(report.round_trips, 1);
    assert_eq!(count(&hub), 5);
    let again = sync(&device, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
    assert_eq!((again.sent, again.round_trips), (0, 1));
    // One more answer: only that document travels, as changes.
    device
        .answer(&ids[2], "age", Answer::Number(9))
        .expect("answer");
    let staged = device.stage("hub").expect("stage");
    let planned = plan::plan(&staged, 100);
    assert_eq!(planned.batches.iter().flatten().count(), 1);
    let first = &planned.batches[0][0];
    let data = device.outgoing(&first.id, &first.base).expect("data");
    assert!(
        !data.base.is_empty(),
        "sent as changes after the acknowledged heads"
    );
    let whole = device.export_document(&ids[2]).expect("whole");
    assert!(
        data.bytes.len() < whole.len() / 2,
        "{} vs {}",
        data.bytes.len(),
        whole.len()
    );
    sync(&device, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
    assert_eq!(
        hub.response(&ids[2]).expect("view").answers["age"],
        Answer::Number(9)
    );
    assert_eq!(count(&hub), 5);
}

#[test]
fn a_hub_that_lost_a_document_gets_it_whole() {
    let device = store();
    let id = device
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    device
        .answer(&id, "school", Answer::Scale(4))
        .expect("answer");
    let hub1 = store();
    sync(&device, "hub", &LocalPeer(&hub1), &no_progress).expect("sync");
    device
        .answer(&id, "age", Answer::Number(8))
        .expect("answer");
    // Same peer name, but a fresh store: the acknowledged base is unknown.
    let hub2 = store();
    let report = sync(&device, "hub", &LocalPeer(&hub2), &no_progress).expect("sync");
    assert_eq!(report.round_trips, 2, "one exchange, one resend whole");
    let view = hub2.response(&id).expect("present");
    assert_eq!(view.answers.len(), 2);
}

#[test]
fn flagged_responses_travel_first() {
    let device = store();
    let plain = device
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    device
        .answer(&plain, "school", Answer::Scale(5))
        .expect("answer");
    device.submit(&plain).expect("submit");
    let flagged = device
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    device
        .answer(&flagged, "school", Answer::Scale(1))
        .expect("answer");
    assert!(!device.submit(&flagged).expect("submit").is_empty());
    let plan = plan::plan(&device.stage("server").expect("stage"), 100);
    assert_eq!(plan.batches[0][0].id, flagged);
    assert!(plan.batches[0][0].flagged);
}

#[test]
fn bundles_count_once_and_corrupt_ones_change_nothing() {
    let (a, hub) = (store(), store());
    for _ in 0..3 {
        let id = a
            .start_response("sample", &ctx(), Consent::child())
            .expect("start");
        a.answer(&id, "school", Answer::Scale(3)).expect("answer");
        a.submit(&id).expect("submit");
    }
    let bundle = bundle::export_bundle(&a).expect("export");
    for cut in [bundle.len() / 2, bundle.len() - 1, 10] {
        let err = bundle::import_bundle(&hub, &bundle[..cut]).expect_err("truncated");
        assert!(matches!(err, SyncError::Corrupt(_)), "{err}");
    }
    assert_eq!(count(&hub), 0, "a refused bundle wrote something");
    for _ in 0..3 {
        bundle::import_bundle(&hub, &bundle).expect("import");
    }
    assert_eq!(count(&hub), 3);
}

#[test]
fn erasures_travel_and_stay_erased() {
    let (device, hub) = (store(), store());
    let id = device
        .start_response("sample", &ctx(), Consent::child())
        .expect("start");
    let bundle_before = {
        device
            .answer(&id, "school", Answer::Scale(2))
            .expect("answer");
        bundle::export_bundle(&device).expect("export")
    };
    sync(&device, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
    assert_eq!(count(&hub), 1);
    device.erase_response(&id).expect("erase");
    sync(&device, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
    assert_eq!(count(&hub), 0);
    // An old bundle carrying the response does not bring it back.
    bundle::import_bundle(&hub, &bundle_before).expect("import");
    assert_eq!(count(&hub), 0);
}

// ----- property: devices, a restored backup and a hub, any sync order --

#[derive(Clone, Debug)]
enum Step {
    /// Device starts a response and answers `school`.
    New { device: usize, n: u8 },
    /// Device answers a question in one of the responses it holds.
    Edit { device: usize, pick: usize, n: u8 },
    /// Device syncs with the hub.
    Sync { device: usize },
    /// Device 0's store is copied onto a new device (restored backup).
    Restore,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => (0..3usize, any::<u8>()).prop_map(|(device, n)| Step::New { device, n }),
        3 => (0..4usize, any::<usize>(), any::<u8>()).prop_map(|(device, pick, n)| Step::Edit { device, pick, n }),
        3 => (0..4usize).prop_map(|device| Step::Sync { device }),
        1 => Just(Step::Restore),
    ];
    proptest::collection::vec(step, 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the order of captures, edits, restores and syncs, after
    /// everyone syncs twice the hub holds every response exactly once, with
    /// every answer given on any device that did not conflict.
    #[test]
    fn hub_holds_every_response_once(steps in steps()) {
        let dir = tempfile::tempdir().expect("dir");
        let key = StoreKey::generate();
        let path = |i: usize| dir.path().join(format!("d{i}.db"));
        let mut devices: Vec<Store> = (0..3)
            .map(|i| {
                let s = Store::open(&path(i), &key).expect("open");
                s.install_form(&sample_form()).expect("install");
                s
            })
            .collect();
        let hub = store();
        let mut created = std::collections::BTreeSet::new();
        for step in steps {
            match step {
                Step::New { device, n } => {
                    let d = &devices[device % devices.len()];
                    let id = d.start_response("sample", &ctx(), Consent::child()).expect("start");
                    d.answer(&id, "school", Answer::Scale(1 + n % 5)).expect("answer");
                    created.insert(id);
                }
                Step::Edit { device, pick, n } => {
                    let d = &devices[device % devices.len()];
                    let held = d.list(&ResponseFilter::default()).expect("list");
                    if !held.is_empty() {
                        let id = &held[pick % held.len()].id;
                        d.answer(id, "age", Answer::Number(4 + i64::from(n % 20))).expect("answer");
                    }
                }
                Step::Sync { device } => {
                    let d = &devices[device % devices.len()];
                    sync(d, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
                }
                Step::Restore => {
                    if devices.len() < 4 {
                        // Copy device 0's files as a backup would (checkpointed).
                        let copy = path(devices.len());
                        let bytes = devices[0].export_backup_for_tests();
                        std::fs::write(&copy, bytes).expect("write");
                        devices.push(Store::open(&copy, &key).expect("restored"));
                    }
                }
            }
        }
        for _ in 0..2 {
            for d in &devices {
                sync(d, "hub", &LocalPeer(&hub), &no_progress).expect("sync");
            }
        }
        let on_hub: Vec<String> = hub.list(&ResponseFilter::default()).expect("list").into_iter().map(|h| h.id).collect();
        let unique: std::collections::BTreeSet<String> = on_hub.iter().cloned().collect();
        prop_assert_eq!(unique.len(), on_hub.len(), "a response is counted twice");
        prop_assert_eq!(&unique, &created, "a response is lost or invented");
        // Every device's copy has merged into the hub's: the hub's heads
        // include everything each device holds.
        for d in &devices {
            for h in d.list(&ResponseFilter::default()).expect("list") {
                let mine = d.response(&h.id).expect("mine");
                let hubs = hub.response(&h.id).expect("hub's");
                for (q, _) in mine.answers.iter().filter(|(q, _)| !hubs.conflicts.iter().any(|c| &c.question == *q)) {
                    prop_assert!(hubs.answers.contains_key(q), "answer {} lost", q);
                }
            }
        }
    }
}
