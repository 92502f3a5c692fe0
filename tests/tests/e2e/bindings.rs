//! The mobile bindings, driven from their own languages against the real
//! `libhark_ffi`: builds the library (`cargo build -p hark-ffi`, a no-op when
//! up to date), generates the bindings with the workspace's `uniffi-bindgen`,
//! then runs the Python suite (pytest) and the Kotlin visit (kotlinc, JVM)
//! against a server started here, and checks that the checked-in Swift
//! bindings are what the generator makes today.
//!
//! The foreign tools are found by `hark_tests::test_tool` (HARK_TEST_PYTHON,
//! HARK_TEST_KOTLIN_HOME, HARK_TEST_JNA, or where `scripts/test-tools`
//! installs them, running it when they are missing); a test whose tool
//! cannot be had fails and says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use hark_tests::{TestServer, test_tool};

const FORM: &str = "feeling-safe-child";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds tests/")
        .to_owned()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// `cargo` in the workspace, without the variables cargo set for this test
/// process (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`...): build scripts track some
/// of them, and inheriting them would rebuild half the dependency tree.
fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref())
        {
            c.env_remove(name.as_ref());
        }
    }
    c
}

/// Runs a command; panics with its output if it fails.
fn run(what: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// The debug `libhark_ffi`, built once per test process.
fn library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        run(
            "cargo build -p hark-ffi",
            cargo().args(["build", "--quiet", "-p", "hark-ffi"]),
        );
        let lib = target_dir().join("debug").join(format!(
            "{}hark_ffi{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        assert!(lib.exists(), "{} was not built", lib.display());
        lib
    })
}

/// Generates the bindings for `language` from the built library into `out`.
fn generate(language: &str, out: &Path) {
    let lib = library();
    run(
        &format!("uniffi-bindgen generate --language {language}"),
        cargo()
            .args(["run", "--quiet", "-p", "uniffi-bindgen", "--"])
            .args(["generate", "--no-format", "--library"])
            .arg(lib)
            .args(["--language", language, "--out-dir"])
            .arg(out),
    );
}

/// A server with an area and fresh enrolment codes for a foreign suite.
fn server(area: &str, codes: usize) -> (TestServer, String) {
    let server = TestServer::sqlite();
    server.area(area);
    let codes: Vec<String> = (0..codes).map(|_| server.code(area)).collect();
    (server, codes.join(","))
}

fn print_output(out: &Output) {
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn python_bindings_pass_their_suite() {
    let python = test_tool("HARK_TEST_PYTHON", "target/tools/venv/bin/python");
    let dir = tempfile::tempdir().expect("dir");
    generate("python", dir.path());
    // The Python module loads the library from its own directory.
    let lib = library();
    std::fs::copy(lib, dir.path().join(lib.file_name().expect("name"))).expect("copy library");
    let area = "python-suite";
    let (server, codes) = server(area, 3);
    // A leader's "you said, we did" note, which a sync brings to the tablet.
    let area_id = server
        .storage
        .area_by_name(area)
        .expect("area")
        .expect("exists")
        .id;
    server
        .storage
        .put_note(&hark_server::model::Note {
            id: "n1".into(),
            area_id,
            theme: "diagnosis".into(),
            you_said: "The wait was too long".into(),
            we_did: "We added two clinics".into(),
            author: "priya".into(),
            updated_at: 1,
        })
        .expect("note");
    let out = run(
        "pytest bindings/tests/python",
        Command::new(&python)
            .current_dir(root())
            .args(["-m", "pytest", "bindings/tests/python", "-q"])
            .args(["-p", "no:cacheprovider"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("HARK_FFI_PYTHON_DIR", dir.path())
            .env("HARK_TEST_SERVER", &server.url)
            .env("HARK_TEST_AREA", area)
            .env("HARK_TEST_CODES", codes),
    );
    print_output(&out);
    // test_sync.py sent two submitted responses (and a draft).
    assert_eq!(server.count(area, Some(FORM)), 2, "the server counts them");
}

#[test]
fn kotlin_bindings_run_a_visit_on_the_jvm() {
    let home = test_tool(
        "HARK_TEST_KOTLIN_HOME",
        "target/tools/kotlin/node_modules/kotlin-compiler",
    );
    let jna = test_tool("HARK_TEST_JNA", "/usr/share/java/jna.jar");
    let kotlinc = home.join("bin").join("kotlinc");
    let coroutines = home.join("lib").join("kotlinx-coroutines-core-jvm.jar");
    let stdlib = home.join("lib").join("kotlin-stdlib.jar");
    for jar in [&kotlinc, &coroutines, &stdlib] {
        assert!(
            jar.exists(),
            "{} is missing: scripts/test-tools installs kotlinc 2.x with coroutines",
            jar.display()
        );
    }
    let dir = tempfile::tempdir().expect("dir");
    let gen_dir = dir.path().join("kotlin");
    generate("kotlin", &gen_dir);
    let generated = gen_dir.join("uniffi").join("hark_ffi").join("hark_ffi.kt");
    assert!(generated.exists(), "{} not generated", generated.display());
    let jar = dir.path().join("visit.jar");
    let sep = if cfg!(windows) { ";" } else { ":" };
    let compile_cp = format!("{}{sep}{}", jna.display(), coroutines.display());
    run(
        "kotlinc",
        Command::new(&kotlinc)
            .current_dir(root())
            .arg("-nowarn")
            .args(["-cp", &compile_cp])
            .arg(&generated)
            .arg("bindings/tests/kotlin/VisitTest.kt")
            .arg("-d")
            .arg(&jar),
    );
    let area = "kotlin-suite";
    let (server, codes) = server(area, 2);
    let lib_dir = library().parent().expect("library directory");
    let out = run(
        "the Kotlin visit",
        Command::new("java")
            .current_dir(root())
            .arg(format!("-Djna.library.path={}", lib_dir.display()))
            .args([
                "-cp",
                &format!(
                    "{compile_cp}{sep}{}{sep}{}",
                    stdlib.display(),
                    jar.display()
                ),
            ])
            .arg("VisitTestKt")
            .env("HARK_TEST_SERVER", &server.url)
            .env("HARK_TEST_AREA", area)
            .env("HARK_TEST_CODES", codes)
            .env("HARK_TEST_STORE_DIR", dir.path()),
    );
    print_output(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("kotlin visit: ok"),
        "the Kotlin visit did not finish"
    );
    // VisitTest.kt synced one flagged visit.
    assert_eq!(server.count(area, Some(FORM)), 1, "the server counts it");
}

/// The Swift bindings cannot be compiled here, so they are checked in
/// (`bindings/swift/`) and must be exactly what the generator makes from
/// the same library the Kotlin and Python suites test.
#[test]
fn checked_in_swift_bindings_are_up_to_date() {
    let dir = tempfile::tempdir().expect("dir");
    generate("swift", dir.path());
    let checked_in = root().join("bindings").join("swift");
    let mut stale = Vec::new();
    for name in ["hark_ffi.swift", "hark_ffiFFI.h", "hark_ffiFFI.modulemap"] {
        let fresh = std::fs::read(dir.path().join(name)).expect("generated file");
        if std::fs::read(checked_in.join(name)).ok().as_deref() != Some(&fresh[..]) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "bindings/swift/{stale:?} are stale; regenerate them with\n  cargo build -p hark-ffi && \
         cargo run -p uniffi-bindgen -- generate --no-format --library \
         target/debug/libhark_ffi.so --language swift --out-dir bindings/swift"
    );
}
