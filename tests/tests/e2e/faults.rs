//! Sync messages dropped, duplicated, reordered: nothing lost, nothing
//! double-counted, nothing corrupted. (Truncated bodies: see `auth.rs`.)

use hark_core::ResponseFilter;
use hark_tests::{Fault, Faulty, TestDevice, TestServer};

fn run(fault: impl Fn(usize) -> Fault) {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    // 1,200 responses: three batches of 500, so faults hit mid-session.
    let ids = d.capture_bulk("service-satisfaction", 1_200, 77);
    let http = d.transport(&server.url);
    let faulty = Faulty::new(&http, fault);
    // Keep syncing through the faults, as a tablet on a bad line would.
    let mut attempts = 0;
    while d.sync_via(&faulty).is_err() {
        attempts += 1;
        assert!(attempts < 20, "never completed");
    }
    // A clean sync afterwards has nothing left to send.
    let clean = d.sync().expect("clean sync");
    assert_eq!(clean.sent, 0, "something was left unacknowledged");
    assert_eq!(
        server.count("hartlepool", Some("service-satisfaction")),
        ids.len() as i64
    );
    // Every answer the device holds is on the server.
    let area = server
        .storage
        .area_by_name("hartlepool")
        .expect("area")
        .expect("exists");
    let rows = server
        .storage
        .answers(&area.id, "service-satisfaction")
        .expect("rows");
    let local: usize = d
        .store
        .list(&ResponseFilter::default())
        .expect("list")
        .iter()
        .map(|h| d.store.response(&h.id).expect("view").answers.len())
        .sum();
    assert_eq!(rows.len(), local, "answers lost or doubled");
}

#[test]
fn dropped_requests() {
    run(|n| {
        if n % 2 == 1 {
            Fault::DropRequest
        } else {
            Fault::None
        }
    });
}

#[test]
fn dropped_responses() {
    run(|n| {
        if n == 1 || n == 3 {
            Fault::DropResponse
        } else {
            Fault::None
        }
    });
}

#[test]
fn duplicated_messages() {
    run(|_| Fault::Duplicate);
}

#[test]
fn reordered_messages() {
    run(|n| {
        if n > 0 {
            Fault::ReplayEarlier
        } else {
            Fault::None
        }
    });
}
