//! Median time of one `answer` call made from Rust, on an encrypted file
//! store: the same loop as `bindings/tests/python/bench_answer.py` and
//! `benchAnswer()` in `bindings/tests/kotlin/VisitTest.kt`, so the three
//! figures differ only by the language boundary.
//!
//! ```sh
//! cargo run --release -p hark-ffi --example answer_bench
//! ```

use std::time::Instant;

use hark_ffi::HarkStore;
use hark_ffi::model::{Answer, ResponseContext, child_consent};

fn main() -> Result<(), hark_ffi::HarkError> {
    let dir = tempfile::tempdir().map_err(|e| hark_ffi::HarkError::Internal {
        detail: e.to_string(),
    })?;
    let path = dir.path().join("bench.db").to_string_lossy().into_owned();
    let store = HarkStore::open_with_key(path, (0u8..32).collect())?;
    store.install_builtin_forms()?;
    let scale = |point| Answer::Scale { point };
    let answers = [
        ("safe_school", scale(4)),
        ("safe_home", scale(3)),
        ("safe_travel", Answer::DontKnow),
        ("safe_community", scale(5)),
        ("safe_online", scale(2)),
        (
            "goes_clubs",
            Answer::Choice {
                option: "yes".into(),
            },
        ),
        ("safe_clubs", scale(5)),
        (
            "who_would_tell",
            Answer::Choices {
                options: vec!["friend".into()],
            },
        ),
        (
            "what_helps",
            Answer::Text {
                text: "Playing football at lunch.".into(),
            },
        ),
    ];
    let context = ResponseContext {
        area: "bench".into(),
        setting: Some("school".into()),
        ..ResponseContext::default()
    };
    let mut times = Vec::new();
    for _ in 0..56 {
        let id = store.start_response(
            "feeling-safe-child".into(),
            context.clone(),
            child_consent(),
        )?;
        for (q, a) in &answers {
            let t = Instant::now();
            store.answer(id.clone(), (*q).to_owned(), a.clone())?;
            times.push(t.elapsed());
        }
    }
    times.sort();
    println!(
        "answer from Rust: median {:.3} ms over {} calls",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times.len()
    );
    Ok(())
}
