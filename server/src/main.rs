//! The `hark` binary: see `hark --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = hark_server::cli::Cli::parse();
    hark_server::cli::init_logging(&cli);
    match hark_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hark: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
