//! The `hark` binary: see `hark --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = hark_server::cli::Cli::parse();
    let default = if matches!(cli.command, hark_server::cli::Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
    match hark_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hark: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
