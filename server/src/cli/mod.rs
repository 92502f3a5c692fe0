//! The `hark` command line, one file per command: `serve` (the server),
//! `admin` (areas, codes, devices, users, audit, counts, rebuilds),
//! `device` (a terminal device built on hark-core exactly as a mobile app
//! uses it), `hub` (an event hub for phones) and `simulate` (many devices syncing at once).

mod admin;
mod device;
mod hub;
mod serve;
mod simulate;

pub use admin::{AdminArgs, AdminCommand, AreaCommand, FormCommand, UserCommand};
pub use clap::Parser;
use clap::Subcommand;
pub use device::{DeviceArgs, DeviceCommand, open_device_store};
pub use hub::HubArgs;
pub use serve::ServeArgs;
pub use simulate::SimulateArgs;

use crate::error::Result;

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
    /// An event hub: phones on the local network answer the area's forms.
    Hub(HubArgs),
    /// Many simulated devices syncing at once; prints throughput.
    Simulate(SimulateArgs),
}

/// Installs the process's log subscriber for `cli` (stderr, filtered by
/// `RUST_LOG`): `info` for `serve`, `warn` for the other commands.
/// Automerge instruments its loading with INFO spans that format their
/// arguments; recorded, they cost the server about a tenth of its CPU per
/// response, so they are off unless `RUST_LOG` asks for them. Call once,
/// before [`run`]; a second call (a subscriber already installed) does
/// nothing.
pub fn init_logging(cli: &Cli) {
    let default = if matches!(cli.command, Command::Serve(_)) {
        "info,automerge=warn"
    } else {
        "warn"
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Device(args) => device::run(args),
        Command::Hub(args) => hub::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}
