//! Real `hark serve` processes: killed with SIGKILL mid-sync and restarted;
//! two servers on one PostgreSQL.

use hark_tests::{ChildServer, PgDb, TestDevice};

/// The server is killed at several points while a device syncs a large
/// backlog; after a restart the device resumes, and counts are exact.
#[test]
fn server_killed_mid_sync_then_restarted_counts_exactly() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("hark.db").display());
    let storage = hark_server::config::open_storage(&db).expect("db");
    hark_server::admin::create_area(storage.as_ref(), "hartlepool").expect("area");
    let code =
        hark_server::admin::enrol_code(storage.as_ref(), "hartlepool", hark_core::doc::now_ms())
            .expect("code");
    drop(storage);
    let server = ChildServer::start(&db, "127.0.0.1:0");
    let listen = server.url.trim_start_matches("http://").to_owned();
    let d = TestDevice::enrol_url(&server.url, &code);
    let ids = d.capture_bulk("service-satisfaction", 2_000, 3);
    // Kill the server while the sync is in flight, three times.
    let mut server = Some(server);
    for delay_ms in [30u64, 120, 400] {
        let s = server.take().expect("running");
        std::thread::scope(|scope| {
            let syncing = scope.spawn(|| d.sync());
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            s.kill();
            let _ = syncing.join();
        });
        server = Some(ChildServer::start(&db, &listen));
    }
    let mut tries = 0;
    while d.sync().is_err() {
        tries += 1;
        assert!(tries < 5, "sync never completed after restart");
    }
    drop(server);
    let storage = hark_server::config::open_storage(&db).expect("db");
    assert_eq!(
        hark_server::admin::count(storage.as_ref(), "hartlepool", None).expect("count"),
        ids.len() as i64
    );
    // The projections match the documents exactly.
    let rebuilt = hark_server::admin::rebuild(storage.as_ref()).expect("rebuild");
    assert_eq!(rebuilt, ids.len());
    assert_eq!(
        hark_server::admin::count(storage.as_ref(), "hartlepool", None).expect("count"),
        ids.len() as i64
    );
}

/// Two `hark serve` processes on one PostgreSQL database; devices sync to
/// either, in any order: the same result as one server.
#[test]
fn two_servers_on_one_postgres_agree() {
    let pg = PgDb::new();
    let storage = hark_server::config::open_storage(&pg.url).expect("postgres");
    hark_server::admin::create_area(storage.as_ref(), "hartlepool").expect("area");
    let a = ChildServer::start(&pg.url, "127.0.0.1:0");
    let b = ChildServer::start(&pg.url, "127.0.0.1:0");
    let code = |s: &dyn hark_server::storage::Storage| {
        hark_server::admin::enrol_code(s, "hartlepool", hark_core::doc::now_ms()).expect("code")
    };
    let d1 = TestDevice::enrol_url(&a.url, &code(storage.as_ref()));
    let d2 = TestDevice::enrol_url(&b.url, &code(storage.as_ref()));
    let d3 = TestDevice::enrol_url(&a.url, &code(storage.as_ref()));
    let mut total = 0;
    for (i, d) in [&d1, &d2, &d3].iter().enumerate() {
        total += d.capture("local-offer", 40, i as u64).len();
    }
    // The same response synced through both servers concurrently.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            hark_core::sync::sync(
                &d1.store,
                "server",
                &d1.transport(&b.url),
                &|_: usize, _: usize| {},
            )
            .expect("d1 via b")
        });
        scope.spawn(|| d2.sync().expect("d2 via b"));
        scope.spawn(|| {
            hark_core::sync::sync(
                &d3.store,
                "server",
                &d3.transport(&b.url),
                &|_: usize, _: usize| {},
            )
            .expect("d3 via b")
        });
        scope.spawn(|| d1.sync().expect("d1 via a"));
    });
    d3.sync().expect("d3 via a");
    assert_eq!(
        hark_server::admin::count(storage.as_ref(), "hartlepool", None).expect("count"),
        total as i64
    );
    assert_eq!(
        hark_server::admin::rebuild(storage.as_ref()).expect("rebuild"),
        total
    );
}
