//! The `hark device` commands, driven as a user would type them.

use hark_tests::{TestServer, hark};

#[test]
fn a_terminal_device_enrols_fills_and_syncs() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("tablet");
    let store = store.to_str().expect("utf-8");
    hark(&[
        "device",
        "--store",
        store,
        "enrol",
        "--server",
        &server.url,
        "--code",
        &server.code("hartlepool"),
    ])
    .expect("enrol");
    let answers = dir.path().join("a.json");
    // An unknown question is refused before anything is stored.
    std::fs::write(&answers, r#"{"heard_local_offer": "yes", "nope": 1}"#).expect("write");
    let err = hark(&[
        "device",
        "--store",
        store,
        "fill",
        "local-offer",
        "--answers",
        answers.to_str().expect("utf-8"),
    ])
    .expect_err("unknown question");
    assert!(err.contains("question 'nope' is not in this form"), "{err}");
    std::fs::write(
        &answers,
        r#"{"heard_local_offer": "yes", "know_who_to_ask": "no", "used_local_offer": "yes"}"#,
    )
    .expect("write");
    hark(&[
        "device",
        "--store",
        store,
        "fill",
        "local-offer",
        "--answers",
        answers.to_str().expect("utf-8"),
    ])
    .expect("fill");
    hark(&[
        "device",
        "--store",
        store,
        "fill",
        "service-satisfaction",
        "--random",
        "4",
        "--seed",
        "9",
    ])
    .expect("random");
    hark(&["device", "--store", store, "sync"]).expect("sync");
    assert_eq!(server.count("hartlepool", Some("local-offer")), 1);
    assert_eq!(server.count("hartlepool", None), 5);
    let bundle = dir.path().join("out.hark");
    hark(&[
        "device",
        "--store",
        store,
        "export-bundle",
        bundle.to_str().expect("utf-8"),
    ])
    .expect("export");
    let other = dir.path().join("hub");
    hark(&[
        "device",
        "--store",
        other.to_str().expect("utf-8"),
        "import-bundle",
        bundle.to_str().expect("utf-8"),
    ])
    .expect_err("a hub without the forms cannot hold the responses");
}
