//! Who may sync: revoked tokens, other areas, bad input.

use hark_core::sync::SyncError;
use hark_core::sync::client::Transport;
use hark_tests::{TestDevice, TestServer};

#[test]
fn a_revoked_device_is_refused() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    d.capture("local-offer", 1, 1);
    let device_id = hark_core::sync::http::enrolment(&d.store)
        .expect("settings")
        .expect("enrolled")
        .1
        .device_id;
    assert!(server.storage.revoke_device(&device_id).expect("revoke"));
    let err = d.sync().expect_err("revoked");
    assert!(matches!(err, SyncError::Unauthorized), "{err}");
    assert_eq!(server.count("hartlepool", None), 0);
}

#[test]
fn a_wrong_token_and_a_used_code_are_refused() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    let forged = hark_core::sync::http::HttpTransport::new(&server.url, &format!("{}x", d.token));
    assert!(matches!(
        forged.exchange(&Default::default()),
        Err(SyncError::Unauthorized)
    ));
    let nobody = hark_core::sync::http::HttpTransport::new(&server.url, "hd1.nobody.secret");
    assert!(matches!(
        nobody.exchange(&Default::default()),
        Err(SyncError::Unauthorized)
    ));
    let code = server.code("hartlepool");
    let _first = TestDevice::enrol_url(&server.url, &code);
    let store = hark_core::Store::open_in_memory(&hark_core::StoreKey::generate()).expect("store");
    let err = hark_core::sync::http::enrol(&store, &server.url, &code, "again").expect_err("used");
    assert!(
        err.to_string().contains("unknown, used or expired"),
        "{err}"
    );
}

/// Scenario 6: no Hartlepool device can read or change a Middlesbrough
/// response, and the other way round.
#[test]
fn a_device_of_another_area_is_refused() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    server.area("middlesbrough");
    let h = TestDevice::enrol(&server, "hartlepool");
    let m = TestDevice::enrol(&server, "middlesbrough");
    let ids = m.capture("local-offer", 2, 1);
    m.sync().expect("sync");
    // Hartlepool asks for Middlesbrough's response by id: nothing comes back.
    let want = hark_core::sync::SyncRequest {
        want: ids.clone(),
        ..Default::default()
    };
    let resp = h.transport(&server.url).exchange(&want).expect("exchange");
    assert!(
        resp.docs.iter().all(|d| !ids.contains(&d.id)),
        "another area's response leaked"
    );
    // Hartlepool uploads a copy of it (e.g. a misconfigured tablet): refused.
    let data = hark_core::sync::DocData::whole(&m.store, &ids[0]).expect("data");
    let upload = hark_core::sync::SyncRequest {
        docs: vec![data],
        ..Default::default()
    };
    let resp = h
        .transport(&server.url)
        .exchange(&upload)
        .expect("exchange");
    assert_eq!(resp.rejected.len(), 1);
    assert!(resp.acks.is_empty());
    // Hartlepool erasing it changes nothing either.
    let erase = hark_core::sync::SyncRequest {
        erased: ids.clone(),
        ..Default::default()
    };
    h.transport(&server.url).exchange(&erase).expect("exchange");
    assert_eq!(server.count("middlesbrough", None), 2);
    assert_eq!(server.count("hartlepool", None), 0);
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let d = TestDevice::enrol(&server, "hartlepool");
    d.capture("local-offer", 3, 1);
    let staged = d.store.stage("server").expect("stage");
    let plan = hark_core::sync::plan::plan(&staged, 100);
    let docs = plan.batches[0]
        .iter()
        .map(|p| {
            let out = d.store.outgoing(&p.id, &p.base).expect("data");
            hark_core::sync::DocData::from_outgoing(&p.id, p.kind, out, p.flagged)
        })
        .collect();
    let body = hark_core::sync::encode(&hark_core::sync::SyncRequest {
        docs,
        ..Default::default()
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |bytes: &[u8], ctype: &str| {
        let mut r = agent
            .post(format!("{}/api/v1/sync", server.url))
            .header("authorization", format!("Bearer {}", d.token))
            .header("content-type", ctype)
            .send(bytes)
            .expect("http");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap_or_default())
    };
    let media = hark_core::sync::codec::MEDIA_TYPE;
    for cut in [1, body.len() / 3, body.len() - 1] {
        let (status, text) = post(&body[..cut], media);
        assert_eq!(status, 400, "truncated at {cut}");
        assert!(text.contains("corrupt or truncated"), "{text}");
    }
    let (status, text) = post(b"{\"hello\": 1}", "application/json");
    assert_eq!(status, 400);
    assert!(text.contains("expected content type"), "{text}");
    let big = vec![0u8; hark_server::state::MAX_SYNC_BODY + 1];
    assert_eq!(post(&big, media).0, 413);
    assert_eq!(
        server.count("hartlepool", None),
        0,
        "refused bodies stored something"
    );
    // The intact body still works afterwards.
    assert_eq!(post(&body, media).0, 200);
    assert_eq!(server.count("hartlepool", None), 3);
}
