//! The `hark` command line: `serve`, `admin`, `device` (a terminal device
//! built on hark-core exactly as a mobile app uses it) and `simulate`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub use clap::Parser;
use clap::{Args, Subcommand};
use hark_core::form::{Form, QuestionKind, Text, plausible_answers, seeded};
use hark_core::store::now_ms;
use hark_core::sync::client::{SyncReport, Transport};
use hark_core::sync::http::{self, HttpTransport, SERVER_PEER};
use hark_core::sync::{SyncError, SyncRequest, SyncResponse, bundle};
use hark_core::{Answer, Consent, ResponseContext, ResponseFilter, Status, Store, StoreKey};

use crate::config::{DEFAULT_DB, open_storage};
use crate::error::{Error, Result};
use crate::{AppState, admin};

/// hark: hear children and families, offline first.
#[derive(Debug, Parser)]
#[command(name = "hark", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SQLite under ./hark-data by default).
    Serve(ServeArgs),
    /// Administer areas, enrolment codes and devices.
    Admin(AdminArgs),
    /// A terminal device: capture and sync exactly as the mobile apps do.
    Device(DeviceArgs),
    /// Many simulated devices syncing at once; prints throughput.
    Simulate(SimulateArgs),
}

/// `hark serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database: sqlite://PATH or postgres://…
    #[arg(long, env = "HARK_DB", default_value = DEFAULT_DB)]
    pub db: String,
    /// Address to listen on.
    #[arg(long, env = "HARK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Send session cookies without the Secure flag: only for a plain-HTTP
    /// office network you trust (browsers treat localhost as secure anyway).
    #[arg(long, env = "HARK_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
}

/// `hark admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Database: sqlite://PATH or postgres://…
    #[arg(long, env = "HARK_DB", default_value = DEFAULT_DB)]
    pub db: String,
    /// The admin command.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Admin commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Areas (tenants).
    Area {
        /// What to do with areas.
        #[command(subcommand)]
        command: AreaCommand,
    },
    /// Make a one-time enrolment code (printed as the last line).
    EnrolCode {
        /// The area the device will belong to.
        #[arg(long)]
        area: String,
        /// Server URL to put in the QR-ready string.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Revoke a device's token.
    Revoke {
        /// Device id.
        device: String,
    },
    /// Print the number of distinct submitted responses.
    Count {
        /// Area name.
        #[arg(long)]
        area: String,
        /// Only this form.
        #[arg(long)]
        form: Option<String>,
    },
    /// Rebuild the projections from the stored documents.
    Rebuild,
    /// Dashboard users.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print an area's audit log, newest first.
    Audit {
        /// Area name.
        #[arg(long)]
        area: String,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user. The password is read from HARK_PASSWORD, or
    /// generated and printed once.
    Create {
        /// The user's area.
        #[arg(long)]
        area: String,
        /// Sign-in name (lowercase).
        #[arg(long)]
        username: String,
        /// administrator or leader.
        #[arg(long, default_value = "leader")]
        role: String,
        /// May read free-text answers (administrators always may).
        #[arg(long)]
        free_text: bool,
    },
    /// List an area's users.
    List {
        /// Area name.
        #[arg(long)]
        area: String,
    },
}

/// Area commands.
#[derive(Debug, Subcommand)]
pub enum AreaCommand {
    /// Create an area with every built-in form.
    Create {
        /// Unique name, e.g. hartlepool.
        name: String,
    },
    /// List areas.
    List,
}

/// `hark device`.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The device's store directory (created if missing). Its key is read
    /// from HARK_STORE_KEY (64 hex digits) or DIR/device.key, standing in for
    /// the platform keystore.
    #[arg(long)]
    pub store: PathBuf,
    /// The device command.
    #[command(subcommand)]
    pub command: DeviceCommand,
}

/// Device commands.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Enrol with a one-time code, then fetch the area's forms.
    Enrol {
        /// Server URL.
        #[arg(long)]
        server: String,
        /// The code from `hark admin enrol-code`.
        #[arg(long)]
        code: String,
        /// A label for the device.
        #[arg(long, default_value = "terminal device")]
        label: String,
    },
    /// List installed forms, one a line, id first.
    Forms,
    /// Fill in a form: interactively, from a JSON file, or N random responses.
    Fill {
        /// Form id.
        form: String,
        /// Answers as JSON: {"question": value, …}.
        #[arg(long, conflicts_with = "random")]
        answers: Option<PathBuf>,
        /// Make N valid random submitted responses.
        #[arg(long)]
        random: Option<usize>,
        /// Seed for --random.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Setting recorded with the response.
        #[arg(long)]
        setting: Option<String>,
        /// Staff code of the practitioner (omit in kiosk mode).
        #[arg(long)]
        practitioner: Option<String>,
        /// Capture anonymously, as a kiosk.
        #[arg(long)]
        kiosk: bool,
        /// Leave as a draft instead of submitting.
        #[arg(long)]
        draft: bool,
    },
    /// Change answers of a response (reopens it and submits again).
    Edit {
        /// Response id.
        response: String,
        /// Answers as JSON: {"question": value, …}; null clears.
        #[arg(long)]
        answers: PathBuf,
        /// Leave as a draft.
        #[arg(long)]
        draft: bool,
    },
    /// Sync with the server.
    Sync,
    /// Show enrolment, responses and what is waiting to sync.
    Status,
    /// Write every response held to a bundle file.
    ExportBundle {
        /// Output file.
        file: PathBuf,
    },
    /// Import a bundle file from another device.
    ImportBundle {
        /// Input file.
        file: PathBuf,
    },
}

/// `hark simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Number of devices.
    #[arg(long, default_value_t = 10)]
    pub devices: usize,
    /// Total responses (spread over the devices).
    #[arg(long, default_value_t = 1000)]
    pub responses: usize,
    /// The server's database, to mint enrolment codes.
    #[arg(long, env = "HARK_DB", default_value = DEFAULT_DB)]
    pub db: String,
    /// Area the devices enrol in.
    #[arg(long, default_value = "demo")]
    pub area: String,
    /// Form to fill.
    #[arg(long, default_value = "service-satisfaction")]
    pub form: String,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Admin(args) => run_admin(args),
        Command::Device(args) => run_device(args),
        Command::Simulate(args) => simulate(args),
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    if storage.areas()?.is_empty() {
        let area = admin::create_area(storage.as_ref(), "demo")?;
        let code = admin::enrol_code(storage.as_ref(), &area.name, now_ms())?;
        let server = format!("http://{}", args.listen);
        println!("First start: created area 'demo' with every built-in form.");
        println!(
            "Enrol a device with:  hark device --store ./my-tablet enrol --server {server} --code {code}"
        );
        println!("QR-ready:             {}", admin::enrol_uri(&server, &code));
        let password = crate::users::generate_password();
        crate::users::create_user(
            storage.as_ref(),
            &area.name,
            "admin",
            &password,
            crate::storage::Role::Administrator,
            true,
        )?;
        println!("Dashboard:            {server}/  user 'admin', password {password} (shown once)");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        println!("hark listening on http://{}", listener.local_addr()?);
        let state = AppState::new(storage).with_secure_cookies(!args.insecure_cookies);
        crate::serve(listener, state, shutdown_signal()).await?;
        Ok::<(), Error>(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

fn run_admin(args: AdminArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    let s = storage.as_ref();
    match args.command {
        AdminCommand::Area {
            command: AreaCommand::Create { name },
        } => {
            let area = admin::create_area(s, &name)?;
            println!("created area '{}' ({})", area.name, area.id);
        }
        AdminCommand::Area {
            command: AreaCommand::List,
        } => {
            for a in s.areas()? {
                println!("{}\t{}", a.name, a.id);
            }
        }
        AdminCommand::EnrolCode { area, server } => {
            let code = admin::enrol_code(s, &area, now_ms())?;
            println!("QR-ready: {}", admin::enrol_uri(&server, &code));
            println!("valid for 7 days, once. Code:");
            println!("{code}");
        }
        AdminCommand::User {
            command:
                UserCommand::Create {
                    area,
                    username,
                    role,
                    free_text,
                },
        } => {
            let role = crate::storage::Role::parse(&role)
                .ok_or_else(|| Error::Invalid("role is administrator or leader".into()))?;
            let (password, generated) = match std::env::var("HARK_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (crate::users::generate_password(), true),
            };
            let user = crate::users::create_user(s, &area, &username, &password, role, free_text)?;
            println!(
                "created {} '{}' in '{area}'",
                user.role.as_str(),
                user.username
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        AdminCommand::User {
            command: UserCommand::List { area },
        } => {
            let a = s
                .area_by_name(&area)?
                .ok_or_else(|| Error::NotFound(format!("area '{area}'")))?;
            for u in s.users(&a.id)? {
                println!(
                    "{}\t{}\tfree text: {}",
                    u.username,
                    u.role.as_str(),
                    u.free_text
                );
            }
        }
        AdminCommand::Audit { area, limit } => {
            let a = s
                .area_by_name(&area)?
                .ok_or_else(|| Error::NotFound(format!("area '{area}'")))?;
            for e in s.audit_log(&a.id, i64::MAX, limit)? {
                println!("{}\t{}\t{}\t{}", e.at, e.actor, e.action, e.detail);
            }
        }
        AdminCommand::Revoke { device } => {
            if s.revoke_device(&device)? {
                println!("revoked {device}");
            } else {
                return Err(Error::NotFound(format!("device '{device}'")));
            }
        }
        AdminCommand::Count { area, form } => {
            println!("{}", admin::count(s, &area, form.as_deref())?)
        }
        AdminCommand::Rebuild => println!("rebuilt {} responses", admin::rebuild(s)?),
    }
    Ok(())
}

/// Opens a device store, creating its key file on first use.
pub fn open_device_store(dir: &Path) -> Result<Store> {
    std::fs::create_dir_all(dir)?;
    let key = match std::env::var("HARK_STORE_KEY") {
        Ok(hex_key) => hex::decode(hex_key.trim())
            .ok()
            .and_then(|b| StoreKey::from_slice(&b)),
        Err(_) => {
            let path = dir.join("device.key");
            if path.exists() {
                hex::decode(std::fs::read_to_string(&path)?.trim())
                    .ok()
                    .and_then(|b| StoreKey::from_slice(&b))
            } else {
                let raw: [u8; 32] = admin::random_bytes();
                write_private(&path, hex::encode(raw).as_bytes())?;
                Some(StoreKey::from_bytes(raw))
            }
        }
    }
    .ok_or_else(|| Error::Config("the store key must be 32 bytes as 64 hex digits".into()))?;
    Ok(Store::open(&dir.join("hark.db"), &key)?)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(bytes)?;
    Ok(())
}

fn print_report(r: &SyncReport) {
    println!(
        "synced: {} sent, {} received, {} erased here, {} conflicts, {} round trips",
        r.sent, r.received, r.erased_here, r.conflicts, r.round_trips
    );
    for rej in &r.rejected {
        println!("refused by the server: {} ({})", rej.id, rej.reason);
    }
}

fn run_device(args: DeviceArgs) -> Result<()> {
    let store = open_device_store(&args.store)?;
    let area = || -> Result<String> {
        Ok(http::enrolment(&store)?
            .map(|(_, e)| e.area)
            .unwrap_or_default())
    };
    match args.command {
        DeviceCommand::Enrol {
            server,
            code,
            label,
        } => {
            let e = http::enrol(&store, &server, &code, &label)?;
            println!("enrolled as {} in area '{}'", e.device_id, e.area);
            let report = http::sync_with_server(&store, &|_: usize, _: usize| {})?;
            print_report(&report);
        }
        DeviceCommand::Forms => {
            for f in store.forms()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    f.id,
                    f.version,
                    f.audience.as_str(),
                    f.title.get("en", f.default_language())
                );
            }
        }
        DeviceCommand::Fill {
            form,
            answers,
            random,
            seed,
            setting,
            practitioner,
            kiosk,
            draft,
        } => {
            let f = store.latest_form(&form)?.ok_or_else(|| {
                Error::NotFound(format!("form '{form}' (run `hark device … forms`)"))
            })?;
            let context = ResponseContext {
                area: area()?,
                setting,
                practitioner,
                kiosk,
                ..ResponseContext::default()
            };
            let consent = if f.audience.is_child() {
                Consent::child()
            } else {
                Consent::adult()
            };
            if let Some(n) = random {
                let mut next = seeded(seed);
                for _ in 0..n {
                    let id = store.start_response(&f.id, &context, consent)?;
                    for (q, a) in plausible_answers(&f, &mut next) {
                        store.answer(&id, &q, a)?;
                    }
                    if !draft {
                        store.submit(&id)?;
                    }
                    println!("{id}");
                }
                return Ok(());
            }
            let given = answers
                .map(|file| read_json_answers(&f, &file))
                .transpose()?;
            let id = store.start_response(&f.id, &context, consent)?;
            match given {
                Some(given) => {
                    if let Err(e) = apply_answers(&store, &id, given) {
                        // A refused answer leaves no half-filled response behind.
                        store.erase_response(&id)?;
                        return Err(e);
                    }
                }
                None => interactive(&store, &f, &id)?,
            }
            finish(&store, &id, draft)?;
            println!("{id}");
        }
        DeviceCommand::Edit {
            response,
            answers,
            draft,
        } => {
            let view = store.response(&response)?;
            let f = store.form(&view.header.form)?;
            let given = read_json_answers(&f, &answers)?;
            if view.header.status == Status::Submitted {
                store.reopen(&response)?;
            }
            apply_answers(&store, &response, given)?;
            finish(&store, &response, draft)?;
            println!("{response}");
        }
        DeviceCommand::Sync => {
            let report = http::sync_with_server(&store, &|done: usize, total: usize| {
                if total > 0 {
                    eprint!("\rsending {done}/{total}");
                }
            })?;
            eprintln!();
            print_report(&report);
        }
        DeviceCommand::Status => {
            match http::enrolment(&store)? {
                Some((server, e)) => println!(
                    "enrolled: device {} in area '{}' at {server}",
                    e.device_id, e.area
                ),
                None => println!("not enrolled"),
            }
            let all = store.list(&ResponseFilter::default())?;
            let submitted = all.iter().filter(|h| h.status == Status::Submitted).count();
            let flagged = all.iter().filter(|h| !h.flags.is_empty()).count();
            println!(
                "responses: {} ({submitted} submitted, {} drafts, {flagged} flagged)",
                all.len(),
                all.len() - submitted
            );
            let staged = store.stage(SERVER_PEER)?;
            let waiting = hark_core::sync::plan::plan(&staged, usize::MAX)
                .batches
                .iter()
                .map(Vec::len)
                .sum::<usize>();
            println!("waiting to sync: {waiting}");
        }
        DeviceCommand::ExportBundle { file } => {
            let bytes = bundle::export_bundle(&store)?;
            std::fs::write(&file, &bytes)?;
            println!("wrote {} bytes to {}", bytes.len(), file.display());
        }
        DeviceCommand::ImportBundle { file } => {
            let bytes = std::fs::read(&file)?;
            let applied = bundle::import_bundle(&store, &bytes)?;
            println!(
                "imported {} documents ({} conflicts)",
                applied.applied,
                applied.conflicts.len()
            );
        }
    }
    Ok(())
}

fn finish(store: &Store, id: &str, draft: bool) -> Result<()> {
    if draft {
        return Ok(());
    }
    for flag in store.submit(id)? {
        println!(
            "SAFEGUARDING ({}): {}",
            flag.level.as_str(),
            flag.guidance.get("en", "en")
        );
    }
    Ok(())
}

/// Converts a JSON value to an answer for a question of the given kind.
pub fn answer_from_json(kind: &QuestionKind, value: &serde_json::Value) -> Option<Answer> {
    use serde_json::Value;
    match value {
        Value::String(s) if s == hark_core::form::DONT_KNOW => Some(Answer::DontKnow),
        Value::String(s) if s == hark_core::form::PREFER_NOT_TO_SAY => Some(Answer::PreferNotToSay),
        Value::Number(n) => match kind {
            QuestionKind::FaceScale { .. } => n
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .map(Answer::Scale),
            _ => n.as_i64().map(Answer::Number),
        },
        Value::String(s) => Some(match kind {
            QuestionKind::FreeText { .. } => Answer::Text(s.clone()),
            QuestionKind::Date { .. } => Answer::Date(s.clone()),
            QuestionKind::MultipleChoice { .. } => Answer::Choices(vec![s.clone()]),
            _ => Answer::Choice(s.clone()),
        }),
        Value::Array(items) => Some(Answer::Choices(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )),
        _ => None,
    }
}

/// Reads `{"question": value}` answers and checks every question exists
/// and every value fits its kind, before anything is stored.
fn read_json_answers(form: &Form, file: &Path) -> Result<Vec<(String, Option<Answer>)>> {
    let text = std::fs::read_to_string(file)?;
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
    if let Some(unknown) = map.keys().find(|k| form.question(k).is_none()) {
        return Err(
            hark_core::Error::from(hark_core::AnswerError::UnknownQuestion {
                question: unknown.clone(),
            })
            .into(),
        );
    }
    // In form order, so skip logic sees earlier answers first.
    form.questions
        .iter()
        .filter_map(|q| map.get(&q.id).map(|v| (q, v)))
        .map(|(q, value)| {
            if value.is_null() {
                return Ok((q.id.clone(), None));
            }
            let answer = answer_from_json(&q.kind, value).ok_or_else(|| {
                Error::Config(format!("answer to '{}' is not a valid value", q.id))
            })?;
            Ok((q.id.clone(), Some(answer)))
        })
        .collect()
}

fn apply_answers(store: &Store, id: &str, answers: Vec<(String, Option<Answer>)>) -> Result<()> {
    for (q, a) in answers {
        match a {
            Some(a) => store.answer(id, &q, a)?,
            None => store.clear_answer(id, &q)?,
        };
    }
    Ok(())
}

fn interactive(store: &Store, form: &Form, id: &str) -> Result<()> {
    let lang = form.default_language().to_owned();
    let t = |t: &Text| t.get(&lang, &lang).to_owned();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    println!("{} — press Enter to skip a question.", t(&form.title));
    for q in &form.questions {
        let given = store.response(id)?.answers;
        if q.relevant.as_ref().is_some_and(|c| !c.holds(&given)) {
            continue;
        }
        loop {
            println!("\n{}{}", t(&q.label), if q.required { " *" } else { "" });
            let options: Vec<String> = match &q.kind {
                QuestionKind::FaceScale { labels, .. } => labels
                    .iter()
                    .map(|o| format!("{} {}", o.symbol.clone().unwrap_or_default(), t(&o.label)))
                    .collect(),
                QuestionKind::SingleChoice { options }
                | QuestionKind::MultipleChoice { options, .. } => options
                    .iter()
                    .map(|o| format!("{} {}", o.symbol.clone().unwrap_or_default(), t(&o.label)))
                    .collect(),
                QuestionKind::YesNo => vec!["yes".into(), "no".into(), "not sure".into()],
                _ => Vec::new(),
            };
            for (i, o) in options.iter().enumerate() {
                println!("  {}. {}", i + 1, o.trim());
            }
            if q.allow_dont_know {
                println!("  d. don't know");
            }
            if q.allow_prefer_not_to_say {
                println!("  p. don't want to say");
            }
            print!("> ");
            std::io::stdout().flush()?;
            let Some(line) = lines.next() else {
                return Ok(());
            };
            let line = line?.trim().to_owned();
            if line.is_empty() {
                break;
            }
            let ids = q.kind.option_ids();
            let pick = |s: &str| {
                s.parse::<usize>()
                    .ok()
                    .and_then(|n| ids.get(n.wrapping_sub(1)).map(|s| (*s).to_owned()))
            };
            let answer = match (&q.kind, line.as_str()) {
                (_, "d") if q.allow_dont_know => Some(Answer::DontKnow),
                (_, "p") if q.allow_prefer_not_to_say => Some(Answer::PreferNotToSay),
                (QuestionKind::FaceScale { .. }, s) => s.parse().ok().map(Answer::Scale),
                (QuestionKind::SingleChoice { .. } | QuestionKind::YesNo, s) => {
                    pick(s).map(Answer::Choice)
                }
                (QuestionKind::MultipleChoice { .. }, s) => Some(Answer::Choices(
                    s.split([',', ' ']).filter_map(pick).collect(),
                )),
                (QuestionKind::Number { .. }, s) => s.parse().ok().map(Answer::Number),
                (QuestionKind::Date { .. }, s) => Some(Answer::Date(s.to_owned())),
                (QuestionKind::FreeText { .. }, s) => Some(Answer::Text(s.to_owned())),
            };
            match answer.map(|a| store.answer(id, &q.id, a)) {
                Some(Ok(_)) => break,
                Some(Err(e)) => println!("  {e}"),
                None => println!("  please pick one of the numbers shown"),
            }
        }
    }
    Ok(())
}

/// Counts the bytes a transport moves.
struct Counting {
    inner: HttpTransport,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
}

impl Transport for Counting {
    fn exchange(&self, request: &SyncRequest) -> std::result::Result<SyncResponse, SyncError> {
        let response = self.inner.exchange(request)?;
        self.sent.fetch_add(
            hark_core::sync::encode(request).len() as u64,
            Ordering::Relaxed,
        );
        self.received.fetch_add(
            hark_core::sync::encode(&response).len() as u64,
            Ordering::Relaxed,
        );
        Ok(response)
    }
}

fn simulate(args: SimulateArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    let dir = tempfile_dir()?;
    let per_device = args.responses.div_ceil(args.devices.max(1));
    let bar = indicatif::ProgressBar::new(args.responses as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} {bar:40} {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("capturing");
    let mut stores = Vec::new();
    let mut made = 0;
    let mut json_lines = Vec::new();
    for d in 0..args.devices {
        let store = Store::open(&dir.join(format!("device-{d}.db")), &StoreKey::generate())?;
        let code = admin::enrol_code(storage.as_ref(), &args.area, now_ms())?;
        let e = http::enrol(&store, &args.server, &code, &format!("simulated {d}"))?;
        http::sync_with_server(&store, &|_: usize, _: usize| {})?;
        let form = store
            .latest_form(&args.form)?
            .ok_or_else(|| Error::NotFound(format!("form '{}'", args.form)))?;
        let mut next = seeded(d as u64 + 1);
        let n = per_device.min(args.responses - made);
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let ctx = ResponseContext {
                area: e.area.clone(),
                device: store.device_id().to_owned(),
                captured_at: now_ms(),
                ..Default::default()
            };
            let consent = if form.audience.is_child() {
                Consent::child()
            } else {
                Consent::adult()
            };
            let mut doc = hark_core::ResponseDoc::start(&id, &form, &ctx, consent, "simulated")?;
            for (q, a) in plausible_answers(&form, &mut next) {
                doc.answer(&form, &q, a, now_ms())?;
            }
            doc.submit(&form, now_ms())?;
            json_lines.push(serde_json::json!({
                "id": id, "form": form.id, "version": form.version.to_string(),
                "context": doc.context(), "consent": doc.consent(), "status": "submitted",
                "answers": doc.answers()?,
            }));
            docs.push(hark_core::sync::DocData {
                id,
                kind: hark_core::sync::DocKind::Response,
                base: Vec::new(),
                bytes: serde_bytes::ByteBuf::from(doc.save()),
                flagged: false,
            });
            bar.inc(1);
        }
        // Captured offline in bulk, as a day of visits would be.
        for chunk in docs.chunks(500) {
            store.apply_incoming(chunk)?;
        }
        made += n;
        stores.push((store, e));
    }
    bar.finish_and_clear();
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let bar = indicatif::ProgressBar::new(made as u64);
    bar.set_message("syncing");
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for (store, e) in &stores {
            let transport = Counting {
                inner: HttpTransport::new(&args.server, &e.token),
                sent: sent.clone(),
                received: received.clone(),
            };
            let bar = bar.clone();
            handles.push(scope.spawn(move || {
                let last = std::cell::Cell::new(0usize);
                hark_core::sync::sync(
                    store,
                    SERVER_PEER,
                    &transport,
                    &|done: usize, _total: usize| {
                        bar.inc((done - last.get()) as u64);
                        last.set(done);
                    },
                )
            }));
        }
        for h in handles {
            h.join().map_err(|_| Error::Join)??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    let up = sent.load(Ordering::Relaxed);
    // The same answers as JSON, gzipped in batches of 500 as a JSON API would.
    let json_gz: usize = json_lines
        .chunks(500)
        .map(|c| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = serde_json::to_writer(&mut gz, c);
            gz.finish().map_or(0, |b| b.len())
        })
        .sum();
    // A no-op re-sync of the first device.
    let (store0, e0) = &stores[0];
    let noop = Counting {
        inner: HttpTransport::new(&args.server, &e0.token),
        sent: Arc::new(AtomicU64::new(0)),
        received: Arc::new(AtomicU64::new(0)),
    };
    let held = store0.list(&ResponseFilter::default())?.len();
    let t = Instant::now();
    let report = hark_core::sync::sync(store0, SERVER_PEER, &noop, &|_: usize, _: usize| {})?;
    let noop_time = t.elapsed();
    println!("devices:                 {}", args.devices);
    println!("responses synced:        {made}");
    println!("time:                    {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput:              {:.0} responses/s",
        made as f64 / elapsed.as_secs_f64()
    );
    println!(
        "bytes up per response:   {:.0}",
        up as f64 / made.max(1) as f64
    );
    println!(
        "bytes down per response: {:.0}",
        received.load(Ordering::Relaxed) as f64 / made.max(1) as f64
    );
    println!(
        "gzip(JSON) per response: {:.0} (same answers, batches of 500)",
        json_gz as f64 / made.max(1) as f64
    );
    println!(
        "no-op re-sync of a device holding {held}: {:.1} ms, {} round trip(s), {} bytes up, {} bytes down",
        noop_time.as_secs_f64() * 1e3,
        report.round_trips,
        noop.sent.load(Ordering::Relaxed),
        noop.received.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("hark-simulate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
