//! `hark admin`: areas, form versions (XLSForm in and out), enrolment
//! codes, devices, dashboard users, the audit log, counts and rebuilds,
//! straight on the database.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use hark_core::doc::now_ms;
use hark_core::form::Form;
use hark_core::lists::{ListDim, ListItem, check_list};

use crate::admin;
use crate::config::{DEFAULT_DB, open_storage};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::users;

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
    /// An area's forms: import an XLSForm as a new version, export,
    /// show, list or retire one.
    Form {
        /// What to do with forms.
        #[command(subcommand)]
        command: FormCommand,
    },
    /// Survey links: families answer a form in the browser, no app needed.
    Link {
        /// What to do with links.
        #[command(subcommand)]
        command: LinkCommand,
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
    /// The area's reporting lists: settings, age phases, needs, pathways.
    Lists {
        /// What to do with the lists.
        #[command(subcommand)]
        command: ListsCommand,
    },
    /// Print the data problems found in merged responses, counted.
    Problems {
        /// Area name.
        #[arg(long)]
        area: String,
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

/// Survey link commands.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Make one open link to a form (optionally closing after a day, or
    /// after a number of answers), or --single-use N links to hand out one
    /// per family. Prints each link's address: it holds the link's secret
    /// and is shown only now.
    Create {
        /// Form id.
        form: String,
        /// Area name.
        #[arg(long)]
        area: String,
        /// Make this many single-use links instead of one open link.
        #[arg(long)]
        single_use: Option<u32>,
        /// The last day answers are taken (YYYY-MM-DD, UTC).
        #[arg(long)]
        closes: Option<String>,
        /// Most answers the open link takes.
        #[arg(long)]
        cap: Option<i64>,
        /// The server's address as families reach it.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// List an area's links: id, form, used/cap, closes, state.
    List {
        /// Area name.
        #[arg(long)]
        area: String,
    },
    /// Revoke a link: it takes no more answers.
    Revoke {
        /// Link id (from `list`).
        id: String,
        /// Area name.
        #[arg(long)]
        area: String,
    },
}

/// Form commands.
#[derive(Debug, Subcommand)]
pub enum FormCommand {
    /// Import an XLSForm (.xlsx or .ods) into an area as a form version;
    /// devices receive it at their next sync. Every problem is printed with
    /// its sheet, row and column. A version is never rewritten.
    Import {
        /// The XLSForm file.
        file: PathBuf,
        /// Area name.
        #[arg(long)]
        area: String,
        /// Check and summarise only; install nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a form of an area as an .xlsx XLSForm (the newest version
    /// unless --version is given).
    Export {
        /// Form id.
        form: String,
        /// Area name.
        #[arg(long)]
        area: String,
        /// Exact version.
        #[arg(long)]
        version: Option<semver::Version>,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Show one form version of an area: its summary, questions and
    /// safeguarding triggers (the newest version unless --version is given).
    Show {
        /// Form id.
        form: String,
        /// Area name.
        #[arg(long)]
        area: String,
        /// Exact version.
        #[arg(long)]
        version: Option<semver::Version>,
    },
    /// Retire a form (every version): devices stop offering it for new
    /// responses at their next sync; responses begun on it are still
    /// accepted and counted. Publishing a newer version offers it again.
    Retire {
        /// Form id.
        form: String,
        /// Area name.
        #[arg(long)]
        area: String,
    },
    /// List an area's form versions: id, version, questions, title, and
    /// "(retired)" for a retired one.
    List {
        /// Area name.
        #[arg(long)]
        area: String,
    },
}

/// List commands.
#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Print every list, one value a line: list, value, label.
    Show {
        /// Area name.
        #[arg(long)]
        area: String,
    },
    /// Replace one list; devices receive it at their next sync.
    Set {
        /// Area name.
        #[arg(long)]
        area: String,
        /// setting, age_phase, need or pathway.
        list: String,
        /// The values, each `value=Label` (e.g. `clinic=Clinic`).
        #[arg(required = true)]
        items: Vec<String>,
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
        /// administrator, leader or safeguarding.
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

pub(super) fn run(args: AdminArgs) -> Result<()> {
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
        AdminCommand::Form { command } => form_command(s, command)?,
        AdminCommand::Link { command } => link_command(s, command)?,
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
            let role = Role::parse(&role).ok_or_else(|| {
                Error::Invalid("role is administrator, leader or safeguarding".into())
            })?;
            let (password, generated) = match std::env::var("HARK_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (users::generate_password(), true),
            };
            let user = users::create_user(s, &area, &username, &password, role, free_text)?;
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
            let a = admin::area_named(s, &area)?;
            for u in s.users(&a.id)? {
                println!(
                    "{}\t{}\tfree text: {}",
                    u.username,
                    u.role.as_str(),
                    u.free_text
                );
            }
        }
        AdminCommand::Lists {
            command: ListsCommand::Show { area },
        } => {
            let lists = s.area_lists(&admin::area_named(s, &area)?.id)?;
            for dim in ListDim::ALL {
                for item in lists.list(dim) {
                    println!("{}\t{}\t{}", dim.as_str(), item.id, item.label);
                }
            }
        }
        AdminCommand::Lists {
            command: ListsCommand::Set { area, list, items },
        } => {
            let dim = ListDim::parse(&list).ok_or_else(|| {
                Error::Invalid("the lists are setting, age_phase, need and pathway".into())
            })?;
            let items = items
                .iter()
                .map(|i| {
                    let (id, label) = i
                        .split_once('=')
                        .ok_or_else(|| Error::Invalid(format!("'{i}' is not value=Label")))?;
                    Ok(ListItem {
                        id: id.trim().to_owned(),
                        label: label.trim().to_owned(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            check_list(&items).map_err(|e| Error::Invalid(e.to_string()))?;
            let lists = s.set_area_list(&admin::area_named(s, &area)?.id, dim, &items)?;
            println!(
                "{} now has {} values (lists version {})",
                dim.as_str(),
                items.len(),
                lists.version
            );
        }
        AdminCommand::Problems { area } => {
            for p in s.problems(&admin::area_named(s, &area)?.id)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.form,
                    p.version,
                    p.subject.unwrap_or_default(),
                    p.kind,
                    p.responses
                );
            }
        }
        AdminCommand::Audit { area, limit } => {
            let a = admin::area_named(s, &area)?;
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

fn link_command(s: &dyn crate::storage::Storage, command: LinkCommand) -> Result<()> {
    match command {
        LinkCommand::Create {
            form,
            area,
            single_use,
            closes,
            cap,
            server,
        } => {
            let area = admin::area_named(s, &area)?;
            let spec = crate::links::LinkSpec {
                single_use,
                closes_at: closes
                    .as_deref()
                    .map(crate::web::links::closes_after)
                    .transpose()?,
                cap,
            };
            let made = crate::links::create(
                s,
                &area,
                &form,
                &spec,
                "hark admin",
                hark_core::doc::now_ms(),
            )?;
            audit(
                s,
                &area,
                "link.create",
                format!("{} link(s) to {form}", made.len()),
            )?;
            for m in &made {
                println!("{}\t{}", m.link.id, m.url(&server));
            }
        }
        LinkCommand::List { area } => {
            let area = admin::area_named(s, &area)?;
            let now = hark_core::doc::now_ms();
            for l in s.links(&area.id)? {
                let closes = l.closes_at.map_or_else(
                    || "no closing date".to_owned(),
                    |c| {
                        time::OffsetDateTime::from_unix_timestamp(c / 1000 - 1)
                            .map(|t| format!("last day {}", t.date()))
                            .unwrap_or_default()
                    },
                );
                let cap = l
                    .cap
                    .map_or_else(|| "no cap".to_owned(), |c| format!("of {c}"));
                let state = if l.revoked {
                    "revoked"
                } else if l.open_at(now) {
                    "open"
                } else {
                    "closed"
                };
                println!(
                    "{}\t{}\t{} used {cap}\t{closes}\t{state}",
                    l.id, l.form_id, l.used
                );
            }
        }
        LinkCommand::Revoke { id, area } => {
            let area = admin::area_named(s, &area)?;
            if !s.revoke_link(&area.id, &id)? {
                return Err(Error::NotFound(format!(
                    "link {id} in area '{}'",
                    area.name
                )));
            }
            audit(s, &area, "link.revoke", id.clone())?;
            println!("revoked link {id}: it takes no more answers");
        }
    }
    Ok(())
}

/// Records a form change made from the command line in the area's audit
/// log, as the dashboard's are.
fn audit(
    s: &dyn crate::storage::Storage,
    area: &crate::model::Area,
    action: &str,
    detail: String,
) -> Result<()> {
    s.audit(&crate::model::AuditEntry {
        seq: 0,
        at: hark_core::doc::now_ms(),
        area_id: area.id.clone(),
        actor: "hark admin".into(),
        action: action.to_owned(),
        detail,
    })
}

/// What publishing did: the summary, what changed since the newest
/// version, warnings, and the outcome, as an author reads it.
fn describe(p: &admin::Publication, area: &str) -> String {
    use std::fmt::Write;
    let mut out = format!("{}\n", summary(&p.form));
    if let (Some(prev), Some(c)) = (&p.previous, &p.changes) {
        let _ = writeln!(out, "changes since {prev}:");
        for (what, ids) in [
            ("added", &c.added),
            ("removed", &c.removed),
            (
                "changed shape (reported apart from older versions)",
                &c.reshaped,
            ),
            ("reworded", &c.reworded),
            ("languages added", &c.languages_added),
            ("languages removed", &c.languages_removed),
        ] {
            if !ids.is_empty() {
                let _ = writeln!(out, "  {what}: {}", ids.join(", "));
            }
        }
        if c.triggers_changed {
            let _ = writeln!(out, "  safeguarding triggers changed");
        }
        if c.reordered {
            let _ = writeln!(out, "  questions reordered");
        }
        if c.about_changed {
            let _ = writeln!(out, "  title, introduction, audience or theme changed");
        }
    }
    for w in &p.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(
        out,
        "{}",
        match p.outcome {
            admin::Outcome::Published =>
                format!("published in '{area}': devices receive it at their next sync"),
            admin::Outcome::AlreadyPublished =>
                format!("'{area}' has this version already; nothing changed"),
            admin::Outcome::Checked => format!("dry run: nothing installed in '{area}'"),
        }
    );
    out
}

/// One line per fact a form author checks before publishing.
fn summary(form: &Form) -> String {
    let lang = form.default_language();
    format!(
        "form {} version {}: \"{}\"\n  audience {}, {} question(s), {} safeguarding trigger(s), languages {}",
        form.id,
        form.version,
        form.title.get(lang, lang),
        form.audience.as_str(),
        form.questions.len(),
        form.safeguarding.len(),
        form.languages.join(", "),
    )
}

fn form_command(s: &dyn crate::storage::Storage, command: FormCommand) -> Result<()> {
    match command {
        FormCommand::Import {
            file,
            area,
            dry_run,
        } => {
            let area = admin::area_named(s, &area)?;
            let bytes = std::fs::read(&file)
                .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", file.display())))?;
            let imported = hark_xlsform::import_file(&bytes).map_err(|e| {
                for w in &e.warnings {
                    eprintln!("warning: {w}");
                }
                Error::Invalid(e.to_string())
            })?;
            for w in &imported.warnings {
                println!("warning: {w}");
            }
            let publication = admin::publish(s, &area, imported.form, dry_run)?;
            if publication.outcome == admin::Outcome::Published {
                audit(
                    s,
                    &area,
                    "form.publish",
                    publication.form.form_ref().to_string(),
                )?;
            }
            print!("{}", describe(&publication, &area.name));
        }
        FormCommand::Retire { form, area } => {
            let area = admin::area_named(s, &area)?;
            let retired = admin::retire(s, &area, &form)?;
            if !retired.is_empty() {
                audit(s, &area, "form.retire", form.clone())?;
            }
            if retired.is_empty() {
                println!("'{form}' is retired in '{}' already", area.name);
            } else {
                let versions: Vec<String> = retired.iter().map(ToString::to_string).collect();
                println!(
                    "retired '{form}' in '{}' (version(s) {}): devices stop offering it at their next sync",
                    area.name,
                    versions.join(", ")
                );
            }
        }
        FormCommand::Show {
            form,
            area,
            version,
        } => {
            let area = admin::area_named(s, &area)?;
            let form = admin::area_form(s, &area, &form, version.as_ref())?;
            println!("{}", summary(&form));
            let lang = form.default_language();
            for q in &form.questions {
                println!(
                    "  {}\t{}{}\t{}",
                    q.id,
                    q.kind.name(),
                    if q.required { ", required" } else { "" },
                    q.label.get(lang, lang)
                );
            }
            for t in &form.safeguarding {
                println!("  trigger {} ({})", t.id, t.level.as_str());
            }
        }
        FormCommand::Export {
            form,
            area,
            version,
            output,
        } => {
            let area = admin::area_named(s, &area)?;
            let form = admin::area_form(s, &area, &form, version.as_ref())?;
            let bytes =
                hark_xlsform::export_file(&form).map_err(|e| Error::Invalid(e.to_string()))?;
            std::fs::write(&output, bytes)
                .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", output.display())))?;
            println!("wrote {}@{} to {}", form.id, form.version, output.display());
        }
        FormCommand::List { area } => {
            let area = admin::area_named(s, &area)?;
            for admin::Version { form: f, retired } in
                admin::area_versions(s, &area)?.into_values().flatten()
            {
                let lang = f.default_language();
                println!(
                    "{}\t{}\t{}\t{}{}",
                    f.id,
                    f.version,
                    f.questions.len(),
                    f.title.get(lang, lang),
                    if retired { "\t(retired)" } else { "" }
                );
            }
        }
    }
    Ok(())
}
