//! The dashboard in a real browser: headless Chromium (Debian's), driven by
//! playwright-core (`tests/browser/dashboard.cjs`). `scripts/test-tools`
//! installs both (it runs by itself when they are missing); this test
//! fails, and does not skip, when they cannot be had.

use std::process::Command;

use hark_server::model::Role;
use hark_tests::{TestDevice, TestServer, test_tool, workspace_root};

use crate::leaders::{PASSWORD, seed, user};

#[test]
fn a_leader_uses_the_dashboard_in_a_browser() {
    let root = workspace_root();
    let chromium = test_tool("HARK_TEST_CHROMIUM", "/usr/bin/chromium");
    let modules = test_tool(
        "HARK_TEST_NODE_MODULES",
        "target/tools/browser/node_modules",
    );
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
    d.sync().expect("sync");
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots dir");
    for old in [
        "1-signed-in.png",
        "2-split-by-setting.png",
        "3-primary-only.png",
        "4-note.png",
    ] {
        let _ = std::fs::remove_file(shots.join(old));
    }
    let out = Command::new("node")
        .arg(root.join("tests/browser/dashboard.cjs"))
        .env("NODE_PATH", &modules)
        .env("HARK_URL", &server.url)
        .env("HARK_USER", "priya")
        .env("HARK_PASSWORD", PASSWORD)
        .env("HARK_CHROMIUM", &chromium)
        .env("HARK_SHOTS", &shots)
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    for shot in [
        "1-signed-in.png",
        "2-split-by-setting.png",
        "3-primary-only.png",
        "4-note.png",
    ] {
        let meta = std::fs::metadata(shots.join(shot)).expect("screenshot saved");
        assert!(meta.len() > 10_000, "{shot} is a real picture");
    }
    // The note the leader published is what the tablets get.
    let notes = hark_core::sync::http::fetch_notes(&d.store).expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n.we_did == "We have added two clinics")
    );
}
