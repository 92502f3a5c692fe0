//! Test harness: servers on port 0 (in-process or as child processes that
//! can be killed), enrolled devices with their own encrypted stores, faulty
//! transports, and throwaway PostgreSQL databases.

pub mod hub;
pub mod ingest_bench;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;

use hark_core::doc::{DocKind, now_ms};
use hark_core::form::{plausible_answers, seeded};
use hark_core::store::replica::Incoming;
use hark_core::sync::client::{SyncReport, Transport};
use hark_core::sync::http::{self, HttpTransport, SERVER_PEER};
use hark_core::sync::{SyncError, SyncRequest, SyncResponse};
use hark_core::{Consent, ResponseContext, Store, StoreKey};
use hark_server::AppState;
use hark_server::state::Clock;
use hark_server::storage::Storage;

/// Runs a `hark` command line in this process, as a user would type it;
/// the error (a usage error too) as the user would read it.
pub fn hark(args: &[&str]) -> Result<(), String> {
    use hark_server::cli::{Cli, Parser, run};
    let cli = Cli::try_parse_from(std::iter::once("hark").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    run(cli).map_err(|e| e.to_string())
}

/// What a server is told to stop with: the future its `serve` awaits.
pub type Shutdown = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A server on a free loopback port, served on its own runtime thread
/// (two workers) until dropped; dropping stops it and waits for it.
#[derive(Debug)]
pub struct Serving {
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Serving {
    /// A free loopback port, bound, and its base URL (for a server that
    /// must know its address before it starts).
    pub fn bind() -> (std::net::TcpListener, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        (listener, url)
    }

    /// Binds 127.0.0.1:0 and runs `serve(listener, shutdown)` on it.
    pub fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(tokio::net::TcpListener, Shutdown) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::io::Result<()>>,
    {
        let (listener, url) = Self::bind();
        Self::start_on(listener, url, serve)
    }

    /// Runs `serve(listener, shutdown)` on a listener from [`Serving::bind`].
    pub fn start_on<F, Fut>(listener: std::net::TcpListener, url: String, serve: F) -> Self
    where
        F: FnOnce(tokio::net::TcpListener, Shutdown) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::io::Result<()>>,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let shutdown: Shutdown = Box::pin(async {
                    let _ = rx.await;
                });
                serve(listener, shutdown).await.expect("serve");
            });
        });
        Self {
            url,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A server running in this process on a free port.
pub struct TestServer {
    /// Base URL.
    pub url: String,
    /// Its storage (shared with the test for admin calls).
    pub storage: Arc<dyn Storage>,
    /// Its clock: the time now until a test moves it (see
    /// [`TestServer::publish_this_month`]).
    pub clock: Clock,
    _serving: Serving,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server over `storage` on 127.0.0.1:0.
    pub fn start(storage: Arc<dyn Storage>) -> Self {
        let clock = Clock::manual(now_ms());
        let state = AppState::new(storage.clone()).with_clock(clock.clone());
        let serving =
            Serving::start(move |listener, shutdown| hark_server::serve(listener, state, shutdown));
        Self {
            url: serving.url.clone(),
            storage,
            clock,
            _serving: serving,
        }
    }

    /// Moves the server's clock to the day the month it reads now is
    /// published (see `hark_server::publication`): what was counted in it
    /// shows in reports from the next read, and what arrives from then on
    /// counts in the next month.
    pub fn publish_this_month(&self) {
        let month = hark_server::projection::month_of(self.clock.now_ms());
        let day = hark_server::publication::publication_day(&month).expect("a month");
        self.clock.set(at(&day));
    }

    /// A server on a fresh in-memory SQLite database.
    pub fn sqlite() -> Self {
        Self::start(Arc::new(
            hark_server::storage::sqlite::SqliteStorage::in_memory().expect("sqlite"),
        ))
    }

    /// Creates an area (with the built-in forms).
    pub fn area(&self, name: &str) {
        hark_server::admin::create_area(self.storage.as_ref(), name).expect("area");
    }

    /// A fresh enrolment code for an area.
    pub fn code(&self, area: &str) -> String {
        hark_server::admin::enrol_code(self.storage.as_ref(), area, now_ms()).expect("code")
    }

    /// Distinct submitted responses in an area.
    pub fn count(&self, area: &str, form: Option<&str>) -> i64 {
        hark_server::admin::count(self.storage.as_ref(), area, form).expect("count")
    }
}

/// Midnight UTC at the start of a day (`YYYY-MM-DD`), in ms since the
/// epoch.
pub fn at(day: &str) -> i64 {
    let d = time::Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .expect("a day");
    d.midnight().assume_utc().unix_timestamp() * 1000
}

/// A `hark serve` child process (killable with SIGKILL).
#[derive(Debug)]
pub struct ChildServer {
    /// Base URL.
    pub url: String,
    /// Its metrics URL, when started with metrics.
    pub metrics: Option<String>,
    child: Child,
}

impl ChildServer {
    /// Starts the test binary itself in server mode on `db` (see
    /// [`child_server_main`]), at `listen` (use `127.0.0.1:0` for any port).
    pub fn start(db: &str, listen: &str) -> Self {
        Self::spawn(db, listen, false)
    }

    /// As [`ChildServer::start`], serving metrics on a port of their own.
    pub fn with_metrics(db: &str, listen: &str) -> Self {
        Self::spawn(db, listen, true)
    }

    fn spawn(db: &str, listen: &str, metrics: bool) -> Self {
        let mut command = Command::new(std::env::current_exe().expect("exe"));
        command
            .args([
                "--exact",
                "child_server",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("HARK_CHILD_SERVER_DB", db)
            .env("HARK_CHILD_SERVER_LISTEN", listen)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if metrics {
            command.env("HARK_METRICS_LISTEN", "127.0.0.1:0");
        } else {
            command.env_remove("HARK_METRICS_LISTEN");
        }
        let mut child = command.spawn().expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut metrics_url = None;
        let url = loop {
            let line = lines
                .next()
                .expect("server printed its address")
                .expect("line");
            // The test harness may print "test child_server ... " first.
            if let Some(at) = line.find("metrics on ") {
                metrics_url = Some(line[at + "metrics on ".len()..].trim().to_owned());
            }
            if let Some(at) = line.find("hark listening on ") {
                break line[at + "hark listening on ".len()..].trim().to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            url,
            metrics: metrics_url,
            child,
        }
    }

    /// The server process's peak resident memory so far, in bytes (Linux).
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(kb * 1024)
    }

    /// SIGKILL, no goodbye.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this process was started as a [`ChildServer`].
pub fn is_child_server() -> bool {
    std::env::var_os("HARK_CHILD_SERVER_DB").is_some()
}

/// The body of the `child_server` test: runs `hark serve` when asked to
/// (with metrics when `HARK_METRICS_LISTEN` is set, as `hark serve` reads
/// it).
pub fn child_server_main() {
    let (Ok(db), Ok(listen)) = (
        std::env::var("HARK_CHILD_SERVER_DB"),
        std::env::var("HARK_CHILD_SERVER_LISTEN"),
    ) else {
        return;
    };
    let cli = <hark_server::cli::Cli as clap_parse::Parser>::parse_from([
        "hark", "serve", "--db", &db, "--listen", &listen,
    ]);
    // Logging as `hark serve` has it, so the benchmarks measure its cost.
    hark_server::cli::init_logging(&cli);
    hark_server::cli::run(cli).expect("serve");
}

mod clap_parse {
    pub use hark_server::cli::Parser;
}

/// An enrolled device with its own encrypted store.
#[derive(Debug)]
pub struct TestDevice {
    /// The store.
    pub store: Store,
    /// The device's token.
    pub token: String,
    /// The area it belongs to.
    pub area: String,
    /// Where its store lives.
    pub dir: tempfile::TempDir,
    /// Its key (to reopen or copy the store).
    pub key: [u8; 32],
}

impl TestDevice {
    /// Enrols a new device with `server` using a fresh code for `area`.
    pub fn enrol(server: &TestServer, area: &str) -> Self {
        Self::enrol_url(&server.url, &server.code(area))
    }

    /// Enrols with an explicit URL and code.
    pub fn enrol_url(url: &str, code: &str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let key = [7u8; 32];
        let store =
            Store::open(&dir.path().join("hark.db"), &StoreKey::from_bytes(key)).expect("store");
        let e = http::enrol(&store, url, code, "test").expect("enrol");
        http::sync_with_server(&store, &|_: usize, _: usize| {}).expect("first sync fetches forms");
        Self {
            store,
            token: e.token,
            area: e.area,
            dir,
            key,
        }
    }

    /// The installed form, a capture context in this device's area, and the
    /// consent its audience needs.
    fn setup(&self, form: &str) -> (Arc<hark_core::Form>, ResponseContext, Consent) {
        let f = self
            .store
            .latest_form(form)
            .expect("forms")
            .expect("form installed");
        let ctx = ResponseContext {
            area: self.area.clone(),
            setting: Some("clinic".into()),
            ..Default::default()
        };
        let consent = Consent::given_for(f.audience);
        (f, ctx, consent)
    }

    /// Captures `n` submitted responses to `form` with plausible answers.
    pub fn capture(&self, form: &str, n: usize, seed: u64) -> Vec<String> {
        let (f, ctx, consent) = self.setup(form);
        let mut next = seeded(seed);
        (0..n)
            .map(|_| {
                let id = self
                    .store
                    .start_response(&f.id, &ctx, consent)
                    .expect("start");
                for (q, a) in plausible_answers(&f, &mut next) {
                    self.store.answer(&id, &q, a).expect("answer");
                }
                self.store.submit(&id).expect("submit");
                id
            })
            .collect()
    }

    /// Captures `n` submitted responses in memory and stores them in
    /// batches (one transaction per 500): a day's backlog, quickly.
    pub fn capture_bulk(&self, form: &str, n: usize, seed: u64) -> Vec<String> {
        let (f, mut ctx, consent) = self.setup(form);
        ctx.device = self.store.device_id().to_owned();
        ctx.captured_at = now_ms();
        let mut next = seeded(seed);
        let mut ids = Vec::with_capacity(n);
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let mut doc =
                hark_core::ResponseDoc::start(&id, &f, &ctx, consent, "bulk").expect("start");
            for (q, a) in plausible_answers(&f, &mut next) {
                doc.answer(&f, &q, a, now_ms()).expect("answer");
            }
            doc.submit(&f, now_ms()).expect("submit");
            docs.push(Incoming {
                id: id.clone(),
                kind: DocKind::Response,
                base: Vec::new(),
                bytes: doc.save(),
            });
            ids.push(id);
        }
        for chunk in docs.chunks(500) {
            self.store.apply(chunk).expect("store");
        }
        ids
    }

    /// Syncs with the enrolled server.
    pub fn sync(&self) -> Result<SyncReport, SyncError> {
        http::sync_with_server(&self.store, &|_: usize, _: usize| {})
    }

    /// Syncs through a custom transport (faults).
    pub fn sync_via(&self, transport: &dyn Transport) -> Result<SyncReport, SyncError> {
        hark_core::sync::sync(
            &self.store,
            SERVER_PEER,
            transport,
            &|_: usize, _: usize| {},
        )
    }

    /// The HTTP transport this device would use, to `url`.
    pub fn transport(&self, url: &str) -> HttpTransport {
        HttpTransport::new(url, &self.token)
    }
}

/// A transport that misbehaves on purpose.
pub struct Faulty<'a> {
    /// The real transport.
    pub inner: &'a dyn Transport,
    /// Decides, per exchange number, what goes wrong.
    pub fault: Box<dyn Fn(usize) -> Fault + 'a>,
    /// Requests seen, for replays.
    pub seen: std::cell::RefCell<Vec<SyncRequest>>,
}

impl std::fmt::Debug for Faulty<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faulty")
    }
}

/// One kind of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Works.
    None,
    /// The request never arrives.
    DropRequest,
    /// The request arrives, the response is lost.
    DropResponse,
    /// The request arrives twice.
    Duplicate,
    /// An earlier request is replayed before this one (reordering).
    ReplayEarlier,
}

impl<'a> Faulty<'a> {
    /// Wraps `inner` with a fault schedule.
    pub fn new(inner: &'a dyn Transport, fault: impl Fn(usize) -> Fault + 'a) -> Self {
        Self {
            inner,
            fault: Box::new(fault),
            seen: std::cell::RefCell::new(Vec::new()),
        }
    }
}

impl Transport for Faulty<'_> {
    fn exchange(&self, request: &SyncRequest) -> Result<SyncResponse, SyncError> {
        let n = self.seen.borrow().len();
        self.seen.borrow_mut().push(request.clone());
        match (self.fault)(n) {
            Fault::None => self.inner.exchange(request),
            Fault::DropRequest => Err(SyncError::Network("dropped request".into())),
            Fault::DropResponse => {
                self.inner.exchange(request)?;
                Err(SyncError::Network("dropped response".into()))
            }
            Fault::Duplicate => {
                self.inner.exchange(request)?;
                self.inner.exchange(request)
            }
            Fault::ReplayEarlier => {
                let earlier = self.seen.borrow().first().cloned();
                if let Some(e) = earlier {
                    self.inner.exchange(&e)?;
                }
                self.inner.exchange(request)
            }
        }
    }
}

/// A throwaway PostgreSQL database, dropped with the guard.
#[derive(Debug)]
pub struct PgDb {
    /// Its URL.
    pub url: String,
    name: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl PgDb {
    /// Creates a uniquely named database.
    pub fn new() -> Self {
        let name = format!("hark_e2e_{}", uuid::Uuid::new_v4().simple());
        let mut c = postgres::Client::connect(PG_ADMIN, postgres::NoTls)
            .expect("PostgreSQL at 127.0.0.1:5432");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        }
    }
}

impl Default for PgDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(PG_ADMIN, postgres::NoTls) {
            let _ = c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            );
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name));
        }
    }
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_owned()
}

/// Runs `tests/browser/<script>` with Node against headless Chromium (both
/// found with [`test_tool`]), with `HARK_CHROMIUM`, `HARK_SHOTS`
/// (`target/screenshots`) and `env` set. The screenshots named are removed
/// first and checked afterwards to be real pictures (more than
/// `min_bytes`); panics with the script's output if it fails. The
/// screenshots' folder is returned.
pub fn run_browser_script(
    script: &str,
    env: &[(&str, &str)],
    shots: &[&str],
    min_bytes: u64,
) -> PathBuf {
    let root = workspace_root();
    let chromium = test_tool("HARK_TEST_CHROMIUM", "/usr/bin/chromium");
    let modules = test_tool(
        "HARK_TEST_NODE_MODULES",
        "target/tools/browser/node_modules",
    );
    let dir = root.join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    for old in shots {
        let _ = std::fs::remove_file(dir.join(old));
    }
    let out = std::process::Command::new("node")
        .arg(root.join("tests/browser").join(script))
        .env("NODE_PATH", &modules)
        .env("HARK_CHROMIUM", &chromium)
        .env("HARK_SHOTS", &dir)
        .envs(env.iter().copied())
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    for shot in shots {
        let meta = std::fs::metadata(dir.join(shot)).expect("screenshot saved");
        assert!(meta.len() > min_bytes, "{shot} is a real picture");
    }
    dir
}

/// A tool the browser or binding tests need: `$var` if set, else where
/// `scripts/test-tools` installs it (`default`, relative to the workspace
/// unless absolute). If it is missing, runs `scripts/test-tools` once (it
/// installs into `target/tools`, and Debian packages when root) and looks
/// again; panics, naming the script, if it is still missing.
pub fn test_tool(var: &str, default: &str) -> PathBuf {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let path = std::env::var_os(var).map_or_else(|| workspace_root().join(default), PathBuf::from);
    if path.exists() {
        return path;
    }
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !*installed {
        let status = std::process::Command::new(workspace_root().join("scripts/test-tools"))
            .current_dir(workspace_root())
            .status();
        *installed = true;
        assert!(
            status.is_ok_and(|s| s.success()),
            "scripts/test-tools failed installing what the tests need"
        );
    }
    assert!(
        path.exists(),
        "{} not found ({var}); scripts/test-tools installs it",
        path.display()
    );
    path
}

/// The bodies of the fuzz targets (`fuzz/`), here so that `cargo test`
/// replays the committed corpus through exactly the same code
/// (`e2e/fuzz_corpus.rs`). Each takes arbitrary bytes and must not panic;
/// where it can, it also checks what the code promises about its output.
pub mod fuzz {
    use std::collections::BTreeMap;

    use hark_core::doc::{DocKind, form_doc};
    use hark_core::form::{Form, builtin_forms};
    use hark_core::lists::AreaLists;
    use hark_core::response::ResponseDoc;
    use hark_core::sync::{DocData, SyncRequest, SyncResponse, codec, decode};
    use hark_server::ingest::{Ingest, Merged, StoredDoc, merge_upload};
    use hark_server::model::Area;
    use hark_server::validate::AreaForms;

    /// The clock the merge target checks capture times against.
    pub const NOW: i64 = 1_800_000_000_000;

    /// Decodes a sync request and a sync response; whatever decodes
    /// re-encodes to a message that decodes to the same value.
    pub fn sync_codec(data: &[u8]) {
        if let Ok(r) = decode::<SyncRequest>(data) {
            assert_eq!(decode::<SyncRequest>(&codec::encode(&r)).ok(), Some(r));
        }
        if let Ok(r) = decode::<SyncResponse>(data) {
            assert_eq!(decode::<SyncResponse>(&codec::encode(&r)).ok(), Some(r));
        }
    }

    /// Parses a form; a form that validates survives a JSON round trip and
    /// walks any answers it is given without panicking.
    pub fn form_json(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(form) = Form::from_json(text) {
            assert_eq!(Form::from_json(&form.to_json()).ok(), Some(form.clone()));
            let _ = form.walk(&BTreeMap::new());
        }
    }

    /// The XLSForm importer on arbitrary bytes: never a panic; a file that
    /// imports exports and imports back to the same form.
    pub fn xlsform_import(data: &[u8]) {
        if let Ok(imported) = hark_xlsform::import_file(data) {
            let form = imported.form;
            if let Ok(bytes) = hark_xlsform::export_file(&form) {
                let again = hark_xlsform::import_file(&bytes).map(|i| i.form);
                assert_eq!(again.ok(), Some(form));
            }
        }
    }

    fn area() -> Area {
        Area {
            id: "a1".into(),
            name: "hartlepool".into(),
        }
    }

    fn forms() -> &'static AreaForms {
        static FORMS: std::sync::OnceLock<AreaForms> = std::sync::OnceLock::new();
        FORMS.get_or_init(|| {
            let docs: Vec<Vec<u8>> = builtin_forms()
                .unwrap_or_default()
                .iter()
                .filter_map(|f| form_doc(f).ok().map(|(_, b)| b))
                .collect();
            AreaForms::from_docs(&docs)
        })
    }

    /// The stored copy the merge target merges into: a valid submitted
    /// response of the area.
    pub fn stored_response() -> Vec<u8> {
        let form = hark_core::form::builtin_form("service-satisfaction").expect("built in");
        let ctx = hark_core::response::ResponseContext {
            area: "hartlepool".into(),
            device: "tablet".into(),
            captured_at: NOW - 1000,
            ..Default::default()
        };
        let mut doc = ResponseDoc::start(
            "r-1",
            &form,
            &ctx,
            hark_core::response::Consent::adult(),
            "fw",
        )
        .expect("start");
        doc.answer(
            &form,
            "fft",
            hark_core::Answer::Choice("good".into()),
            NOW - 500,
        )
        .expect("answer");
        doc.submit(&form, NOW - 400).expect("submit");
        doc.save()
    }

    /// Merges and checks an upload the way the server does: the first
    /// byte chooses a new document, a whole copy of the stored one, or
    /// changes after the stored one's heads; the rest is the Automerge
    /// bytes. Whatever is written holds only answers the form has.
    pub fn merge_validate(data: &[u8]) {
        let Some((&mode, bytes)) = data.split_first() else {
            return;
        };
        // Built once: each run then spends its time on the input alone.
        static STORED: std::sync::OnceLock<(Vec<u8>, Vec<automerge::ChangeHash>)> =
            std::sync::OnceLock::new();
        let (stored_bytes, stored_heads) = STORED.get_or_init(|| {
            let bytes = stored_response();
            let heads = ResponseDoc::load(&bytes, "fuzz")
                .map(|mut d| d.heads())
                .unwrap_or_default();
            (bytes, heads)
        });
        let (stored, base) = match mode % 3 {
            0 => (None, Vec::new()),
            1 => (Some(stored_bytes.clone()), Vec::new()),
            _ => (Some(stored_bytes.clone()), stored_heads.clone()),
        };
        let area = area();
        let lists = AreaLists::defaults();
        let ctx = Ingest {
            area: &area,
            forms: forms(),
            lists: &lists,
            now_ms: NOW,
        };
        let upload = DocData {
            id: "r-1".into(),
            kind: DocKind::Response,
            base: hark_core::sync::wire_heads(&base),
            bytes: bytes.to_vec().into(),
            flagged: false,
        };
        let stored = stored.map(|bytes| StoredDoc {
            area_id: area.id.clone(),
            kind: DocKind::Response,
            n_changes: 0,
            seq: 1,
            bytes,
        });
        if let (Merged::Write(w), _) = merge_upload(&ctx, &upload, stored)
            && let Some(p) = &w.projection
        {
            static BUILTIN: std::sync::OnceLock<Vec<Form>> = std::sync::OnceLock::new();
            let form = BUILTIN
                .get_or_init(|| builtin_forms().unwrap_or_default())
                .iter()
                .find(|f| f.id == p.form_id && f.version.to_string() == p.form_version)
                .expect("a projected response's form is installed");
            for a in &p.answers {
                assert!(
                    form.question(&a.question).is_some(),
                    "a counted answer to '{}'",
                    a.question
                );
            }
        }
    }
}
