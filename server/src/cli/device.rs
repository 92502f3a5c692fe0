//! `hark device`: a terminal device built on hark-core exactly as the
//! mobile apps use it: enrol, list forms, fill (interactively, from JSON or
//! at random), edit, sync, status and bundles. Every rule — skip logic,
//! answer checks, consent — is the core's.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use hark_core::answer::Answer;
use hark_core::form::{Form, QuestionKind, Text, plausible_answers, seeded};
use hark_core::response::{Consent, ResponseContext, Status};
use hark_core::store::{ResponseFilter, Store, StoreKey};
use hark_core::sync::bundle;
use hark_core::sync::client::SyncReport;
use hark_core::sync::http::{self, SERVER_PEER};

use crate::admin;
use crate::error::{Error, Result};

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
    /// The area's reporting lists from the last sync: list, value, label.
    Lists,
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
    /// Sync with the server (or, with --hub, with an event hub).
    Sync {
        /// An event hub's address (`hark hub`) to sync with instead.
        #[arg(long, requires = "event_code")]
        hub: Option<String>,
        /// The hub's event code.
        #[arg(long, requires = "hub")]
        event_code: Option<String>,
    },
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
    for n in &r.notices {
        println!("note from the server: {} ({})", n.id, n.reason);
    }
}

pub(super) fn run(args: DeviceArgs) -> Result<()> {
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
        DeviceCommand::Lists => match hark_core::sync::area_lists(&store)? {
            Some(lists) => {
                for dim in hark_core::lists::ListDim::ALL {
                    for item in lists.list(dim) {
                        println!("{}\t{}\t{}", dim.as_str(), item.id, item.label);
                    }
                }
            }
            None => println!("no lists yet: sync first"),
        },
        DeviceCommand::Forms => {
            for f in store.forms()? {
                let retired = store.is_retired(&f.id)?;
                println!(
                    "{}\t{}\t{}\t{}{}",
                    f.id,
                    f.version,
                    f.audience.as_str(),
                    f.title.get("en", f.default_language()),
                    if retired { "\t(retired)" } else { "" }
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
            let consent = Consent::given_for(f.audience);
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
        DeviceCommand::Sync { hub, event_code } => {
            let progress = |done: usize, total: usize| {
                if total > 0 {
                    eprint!("\rsending {done}/{total}");
                }
            };
            let report = match (hub, event_code) {
                (Some(hub), Some(code)) => hark_core::sync::sync(
                    &store,
                    &format!("hub:{}", hub.trim_end_matches('/')),
                    &http::HttpTransport::new(&hub, &code),
                    &progress,
                )?,
                _ => http::sync_with_server(&store, &progress)?,
            };
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
            let waiting = hark_core::sync::client::waiting(&store, SERVER_PEER)?;
            println!("waiting to sync: {waiting}");
            match http::last_sync(&store)? {
                Some(t) => println!("last synced: {}", hark_hub::when(t)),
                None => println!("last synced: never"),
            }
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

/// Reads `{"question": value}` answers from a file (see
/// [`Form::answers_from_json`]), before anything is stored.
fn read_json_answers(form: &Form, file: &Path) -> Result<Vec<(String, Option<Answer>)>> {
    let text = std::fs::read_to_string(file)?;
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
    Ok(form
        .answers_from_json(&map)
        .map_err(hark_core::Error::from)?)
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
    let mut section = None;
    for q in &form.questions {
        // The questions skip logic asks, given the answers that count (the
        // same walk the apps make).
        let given = store.response(id)?.answers;
        if !form.walk(&given).is_asked(&q.id) {
            continue;
        }
        // A new section: its title, once.
        if q.section != section {
            if let Some(s) = form.section_of(q) {
                println!("\n== {} ==", t(&s.title));
            }
            section.clone_from(&q.section);
        }
        if !q.kind.takes_answer() {
            // A note: its text, and on to the next question.
            println!("\n{}", t(&q.label));
            if let Some(hint) = &q.hint {
                println!("  {}", t(hint));
            }
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
                if let (true, Some(m)) = (q.required, &q.required_message) {
                    println!("  {}", t(m));
                }
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
                (QuestionKind::Decimal { .. }, s) => Some(Answer::Decimal(s.to_owned())),
                (QuestionKind::Date { .. }, s) => Some(Answer::Date(s.to_owned())),
                (QuestionKind::FreeText { .. }, s) => Some(Answer::Text(s.to_owned())),
                (QuestionKind::Note, _) => None,
            };
            match answer.map(|a| store.answer(id, &q.id, a)) {
                Some(Ok(_)) => break,
                Some(Err(hark_core::Error::Answer(e))) => {
                    println!("  {}", e.explain(&lang, &lang));
                }
                Some(Err(e)) => println!("  {e}"),
                None => println!("  please pick one of the numbers shown"),
            }
        }
    }
    Ok(())
}
