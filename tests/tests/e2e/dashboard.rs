//! The dashboard in a real browser: headless Chromium (Debian's), driven by
//! playwright-core (`tests/browser/dashboard.cjs`). `scripts/test-tools`
//! installs both (it runs by itself when they are missing); this test
//! fails, and does not skip, when they cannot be had.

use hark_server::model::Role;
use hark_tests::{TestDevice, TestServer, run_browser_script};

use crate::leaders::{PASSWORD, seed, user};

#[test]
fn a_leader_uses_the_dashboard_in_a_browser() {
    let server = TestServer::sqlite();
    server.area("hartlepool");
    user(&server, "hartlepool", "priya", Role::Leader);
    let d = TestDevice::enrol(&server, "hartlepool");
    seed(&d);
    // Enough answers that monthly shares by setting are shown.
    let answers = ["very_good", "good", "very_good", "good", "neither", "poor"];
    for (i, month) in ["2026-01", "2026-02", "2026-03", "2026-04"]
        .iter()
        .enumerate()
    {
        for setting in ["clinic", "home"] {
            for k in 0..60 {
                let phase = ["primary", "secondary"][k % 2];
                let answer = answers[(k / 2 + i) % answers.len()];
                crate::leaders::satisfaction(&d, month, setting, phase, answer);
            }
        }
    }
    // Seven families at the resource base in March, every one "very
    // good": listed (5 or more), its breakdown never shown (fewer than 10).
    for k in 0..7 {
        let phase = ["primary", "secondary"][k % 2];
        crate::leaders::satisfaction(&d, "2026-03", "resource_base", phase, "very_good");
    }
    d.sync().expect("sync");
    run_browser_script(
        "dashboard.cjs",
        &[
            ("HARK_URL", &server.url),
            ("HARK_USER", "priya"),
            ("HARK_PASSWORD", PASSWORD),
        ],
        &[
            "1-signed-in.png",
            "2-split-by-setting.png",
            "3-primary-only.png",
            "4-note.png",
        ],
        10_000,
    );
    // The note the leader published is what the tablets get.
    let notes = hark_core::sync::http::fetch_notes(&d.store).expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.we_did == "We have added two clinics")
    );
}
