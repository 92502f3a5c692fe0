//! The committed fuzz corpus (`fuzz/corpus/`), replayed through the fuzz
//! targets' own bodies (`hark_tests::fuzz`) on every `cargo test`: what
//! the fuzzer once found stays fixed. `scripts/fuzz` grows the corpus.

use std::path::Path;

use hark_tests::{fuzz, workspace_root};

fn replay(target: &str, body: fn(&[u8])) {
    let dir = workspace_root().join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            panic!("fuzz input {} panicked", path.display());
        }
        n += 1;
    }
    assert!(n >= 3, "{}: only {n} inputs", dir.display());
}

#[test]
fn the_sync_codec_corpus_decodes_without_panic() {
    replay("sync_codec", fuzz::sync_codec);
}

#[test]
fn the_merge_corpus_merges_and_validates_without_panic() {
    replay("merge_validate", fuzz::merge_validate);
}

#[test]
fn the_form_corpus_parses_without_panic() {
    replay("form_json", fuzz::form_json);
}

#[test]
fn the_xlsform_corpus_imports_without_panic() {
    replay("xlsform_import", fuzz::xlsform_import);
}

/// Writes the seed inputs the corpus grew from (run once, with
/// `--ignored`): valid messages, forms and documents.
#[test]
#[ignore = "writes the fuzz seeds into fuzz/corpus; run by hand"]
fn write_fuzz_seeds() {
    use hark_core::doc::DocKind;
    use hark_core::sync::{DocData, SyncRequest, SyncResponse, encode};
    let root = workspace_root().join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(name), bytes).expect("write");
    };
    let doc = fuzz::stored_response();
    let request = SyncRequest {
        cursor: 7,
        docs: vec![DocData {
            id: "r-1".into(),
            kind: DocKind::Response,
            base: Vec::new(),
            bytes: doc.clone().into(),
            flagged: true,
        }],
        erased: vec!["r-0".into()],
        want: vec!["r-2".into()],
        lists_version: 2,
    };
    write("sync_codec", "seed-request", &encode(&request));
    write(
        "sync_codec",
        "seed-response",
        &encode(&SyncResponse::default()),
    );
    write("sync_codec", "seed-empty", &encode(&SyncRequest::default()));
    for (i, f) in hark_core::form::builtin_forms()
        .expect("forms")
        .iter()
        .enumerate()
    {
        write("form_json", &format!("seed-{i}"), f.to_json().as_bytes());
    }
    for f in hark_core::form::builtin_forms().expect("built in") {
        let bytes = hark_xlsform::export_file(&f).expect("exports");
        write("xlsform_import", &format!("seed-{}", f.id), &bytes);
    }
    for mode in 0u8..3 {
        let mut data = vec![mode];
        data.extend(&doc);
        write("merge_validate", &format!("seed-{mode}"), &data);
    }
    assert!(Path::new(&root).exists());
}
