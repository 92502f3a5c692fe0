//! The invariants of ARCHITECTURE.md that a reading of the source can
//! check, stated as absences: each test names what must never appear where.
//! The module graph is read from `use` paths and inline `crate::` /
//! `super::` paths (test code left out), the way a reviewer would follow
//! the imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_owned()
}

/// Every `.rs` file under `dir`, with its text minus test code.
fn sources(dir: &str) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join(dir), &mut files);
    files
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name != "tests.rs" && name != "test_support.rs"
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            // Test modules sit at the end of a file.
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            (p, strip_comments(&code))
        })
        .collect()
}

/// The text without `//` comments (doc comments name modules freely).
fn strip_comments(code: &str) -> String {
    code.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A file's module path within its crate (`[]` for the crate root).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every path a file names that starts at `crate::` or `super::`, as
/// module-relative segments (`super` resolved), group imports expanded.
fn paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let start = if !boundary {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            // In `x/mod.rs` and in `x.rs` alike, `super` is the parent of
            // module x.
            let mut base = module.to_vec();
            base.pop();
            Some((base, "super::".len()))
        } else {
            None
        };
        let Some((mut base, skip)) = start else {
            i += 1;
            continue;
        };
        let mut j = i + skip;
        while code[j..].starts_with("super::") {
            base.pop();
            j += "super::".len();
        }
        let (expanded, end) = expand(code, j);
        for p in expanded {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Reads `a::b::{c, d::e}` at `at`: the paths it names and where it ends.
fn expand(code: &str, at: usize) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut prefix: Vec<String> = Vec::new();
    let mut i = at;
    loop {
        let s = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i > s {
            prefix.push(code[s..i].to_owned());
        }
        if code[i..].starts_with("::{") {
            i += 3;
            let mut out = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\n' || bytes[i] == b',')
                {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return (out, i + 1);
                }
                let (inner, end) = expand(code, i);
                for p in inner {
                    let mut full = prefix.clone();
                    full.extend(p);
                    out.push(full);
                }
                i = end;
                // Skip `as name` and anything up to the next separator.
                while i < bytes.len() && bytes[i] != b',' && bytes[i] != b'}' {
                    i += 1;
                }
            }
        } else if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// The module graph of a crate: module -> modules it imports.
fn graph(src_dir: &str) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = root().join(src_dir);
    let files = sources(src_dir);
    let modules: BTreeSet<Vec<String>> = files.keys().map(|f| module_of(&src, f)).collect();
    let mut g: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (file, code) in &files {
        let m = module_of(&src, file);
        let entry = g.entry(m.clone()).or_default();
        for p in paths(&m, code) {
            // The longest prefix that is a module.
            let target = (0..=p.len())
                .rev()
                .map(|n| p[..n].to_vec())
                .find(|prefix| modules.contains(prefix));
            if let Some(t) = target
                && t != m
            {
                entry.insert(t);
            }
        }
    }
    g
}

/// The cycles of a graph, as the modules on each (empty: none).
fn cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    let mut found = Vec::new();
    for start in g.keys() {
        // Depth-first from `start`: a path back to it is a cycle.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in g.get(&at).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                    found.push(format!("{} -> {}", names.join(" -> "), start.join("::")));
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for src in ["core/src", "hub/src", "server/src", "bindings/src"] {
        let g = graph(src);
        assert!(g.len() > 3, "{src}: the graph was read");
        let found = cycles(&g);
        assert!(
            found.is_empty(),
            "{src} has import cycles:\n{}",
            found.join("\n")
        );
    }
}

/// Files under `dir` (relative to the workspace) whose code (comments and
/// tests left out) contains any of `words`, as "file: word".
fn mentions(dir: &str, only: &[&str], words: &[&str]) -> Vec<String> {
    let src = root().join(dir);
    sources(dir)
        .into_iter()
        .filter(|(f, _)| {
            let rel = f
                .strip_prefix(&src)
                .expect("under")
                .to_string_lossy()
                .into_owned();
            only.is_empty()
                || only
                    .iter()
                    .any(|o| rel == *o || rel.starts_with(&format!("{o}/")))
        })
        .flat_map(|(f, code)| {
            words
                .iter()
                .filter(|w| code.contains(*w))
                .map(|w| format!("{}: {w}", f.display()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn domain_modules_do_no_io_and_reports_and_ingest_never_import_storage() {
    const IO: &[&str] = &[
        "rusqlite",
        "postgres::",
        "std::fs",
        "std::net",
        "tokio",
        "axum",
        "ureq",
        "crate::storage",
        "crate::store",
    ];
    let server = mentions(
        "server/src",
        &[
            "report",
            "ingest.rs",
            "projection.rs",
            "publication.rs",
            "tally.rs",
            "model.rs",
        ],
        IO,
    );
    assert!(server.is_empty(), "{server:#?}");
    let hub = mentions("hub/src", &["context.rs"], IO);
    assert!(hub.is_empty(), "{hub:#?}");
    let core = mentions(
        "core/src",
        &["form", "answer.rs", "response.rs", "sync/plan.rs"],
        &[
            "rusqlite",
            "std::fs",
            "std::net",
            "ureq",
            "crate::store::Store",
            "crate::sync::",
        ],
    );
    assert!(core.is_empty(), "{core:#?}");
}

#[test]
fn the_core_store_knows_nothing_of_the_wire() {
    let found = mentions(
        "core/src",
        &["store"],
        &["crate::sync", "DocData", "SyncRequest"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_backend_file_holds_sql_and_no_algorithm() {
    // The algorithms are storage/documents.rs and storage/migrate.rs's; a
    // backend never adds up tallies, merges or pages.
    let found = mentions(
        "server/src",
        &["storage/sqlite.rs", "storage/postgres.rs"],
        &[
            "Deltas",
            "MergeFn",
            "merge_upload",
            "documents::",
            "Merged",
            "for id in",
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn skip_logic_is_only_the_cores() {
    // Relevance and safeguarding triggers are decided by hark-core's form
    // walk alone (`Form::walk`, `Form::raised`): the FFI, the CLI, the
    // server and the rest of the core never evaluate a condition.
    const RELEVANCE: &[&str] = &[
        ".relevant.as_ref()",
        "relevant.is_none_or",
        "relevant.is_some_and",
        ".holds(",
    ];
    let ffi = mentions("bindings/src", &[], RELEVANCE);
    assert!(ffi.is_empty(), "{ffi:#?}");
    let server = mentions("server/src", &[], RELEVANCE);
    assert!(server.is_empty(), "{server:#?}");
    let hub = mentions("hub/src", &[], RELEVANCE);
    assert!(hub.is_empty(), "{hub:#?}");
    let core = mentions(
        "core/src",
        &[
            "response.rs",
            "store",
            "kiosk.rs",
            "sync",
            "form/sample.rs",
            "form/json.rs",
            "form/check.rs",
        ],
        RELEVANCE,
    );
    assert!(core.is_empty(), "{core:#?}");
}

#[test]
fn routes_are_listed_once_and_clocks_and_formats_have_one_home() {
    let routes = mentions("server/src", &[], &[".route("]);
    assert_eq!(
        routes,
        vec![format!(
            "{}: .route(",
            root().join("server/src/app.rs").display()
        )],
        "only the route table in app.rs routes"
    );
    let hub_routes = mentions("hub/src", &[], &[".route("]);
    assert_eq!(
        hub_routes,
        vec![format!(
            "{}: .route(",
            root().join("hub/src/serve.rs").display()
        )],
        "only the hub's route tables in serve.rs route"
    );
    let clocks = mentions("core/src", &[], &["SystemTime::now"]);
    assert_eq!(
        clocks,
        vec![format!(
            "{}: SystemTime::now",
            root().join("core/src/doc.rs").display()
        )]
    );
    for dir in ["server/src", "hub/src"] {
        let clock = mentions(dir, &[], &["SystemTime::now", "fn now("]);
        assert!(clock.is_empty(), "{clock:#?}");
    }
    let formats = mentions(
        "server/src",
        &[],
        &[
            "hark_core::store::form",
            "hark_core::store::wire",
            "hark_core::store::now",
        ],
    );
    assert!(formats.is_empty(), "{formats:#?}");
}
