//! A process killed (SIGKILL) at any moment while writing answers loses at
//! most the call in flight: every answer acknowledged before the kill is
//! there after reopening, and the store opens cleanly.
//!
//! The test binary runs itself as the writer child (`HARK_CRASH_CHILD`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use hark_core::{Answer, Consent, Form, ResponseContext, Store, StoreKey};

const KEY: [u8; 32] = [7; 32];

fn form() -> Form {
    let questions: Vec<String> = (0..20)
        .map(|i| format!(r#"{{"id": "n{i}", "type": "number", "min": 0, "max": 1000000000, "label": {{"en": "N{i}"}}}}"#))
        .collect();
    Form::from_json(&format!(
        r#"{{"id": "crash", "version": "1.0.0", "title": {{"en": "Crash"}}, "audience": "parent_carer",
            "theme": "other", "languages": ["en"], "questions": [{}]}}"#,
        questions.join(",")
    ))
    .expect("valid form")
}

/// The child: writes answers forever, printing one line per acknowledged
/// write, until it is killed.
#[test]
#[ignore = "entry point of the writer child process, started by the crash test"]
fn crash_child_writer() {
    let Ok(path) = std::env::var("HARK_CRASH_CHILD") else {
        return;
    };
    let start: u64 = std::env::var("HARK_CRASH_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let store = Store::open(path.as_ref(), &StoreKey::from_bytes(KEY)).expect("open");
    store.install_form(&form()).expect("install");
    let mut response = String::new();
    for i in start.. {
        if i % 20 == 0 || response.is_empty() {
            response = store
                .start_response(
                    "crash",
                    &ResponseContext {
                        area: "a".into(),
                        ..Default::default()
                    },
                    Consent::adult(),
                )
                .expect("start");
            println!("start {response}");
        }
        store
            .answer(&response, &format!("n{}", i % 20), Answer::Number(i as i64))
            .expect("answer");
        println!("ack {response} n{} {i}", i % 20);
    }
}

#[test]
fn killed_mid_write_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("crash.db");
    let mut acked: Vec<(String, String, i64)> = Vec::new();
    let mut next = 0u64;
    // Several rounds: each kills the writer at a different point, and the
    // next round carries on in the same store.
    for round in 0..4u64 {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "crash_child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("HARK_CRASH_CHILD", &path)
            .env("HARK_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let kill_after = 30 + round * 37;
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.first() == Some(&"ack") && parts.len() == 4 {
                let value: i64 = parts[3].parse().expect("number");
                acked.push((parts[1].to_owned(), parts[2].to_owned(), value));
                next = u64::try_from(value).expect("non-negative") + 1;
                seen += 1;
                if seen == kill_after {
                    child.kill().expect("SIGKILL");
                }
            }
        }
        child.wait().expect("reaped");
        assert!(
            seen >= kill_after,
            "round {round}: the writer died early after {seen} answers"
        );
    }
    let store = Store::open(&path, &StoreKey::from_bytes(KEY)).expect("reopens after kills");
    let mut checked = 0;
    for (response, question, value) in &acked {
        let view = store
            .response(response)
            .expect("acknowledged response present");
        // A later answer to the same question in the same response may have
        // overwritten this one; the last acknowledged value must be there.
        let last = acked
            .iter()
            .rev()
            .find(|(r, q, _)| r == response && q == question)
            .map(|(_, _, v)| *v);
        if last == Some(*value) {
            assert_eq!(
                view.answers.get(question),
                Some(&Answer::Number(*value)),
                "{response} {question}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} answers checked");
}
