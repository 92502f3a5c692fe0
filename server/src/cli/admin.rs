//! `hark admin`: areas, enrolment codes, devices, dashboard users, the
//! audit log, counts and rebuilds, straight on the database.

use clap::{Args, Subcommand};
use hark_core::doc::now_ms;

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
            let role = Role::parse(&role)
                .ok_or_else(|| Error::Invalid("role is administrator or leader".into()))?;
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
