//! `hark simulate`: many simulated devices enrol, capture offline, then
//! sync all at once (see [`crate::simulate`]); prints throughput, bytes per
//! response against gzip(JSON), the server's CPU per response (given its
//! metrics address) and the cost of a no-op re-sync.

use clap::Args;

use crate::config::{DEFAULT_DB, open_storage};
use crate::error::Result;
use crate::simulate::{Plan, run as simulate};

/// `hark simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Server URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The server's metrics URL (`hark serve --metrics-listen`), to report
    /// its CPU per response.
    #[arg(long)]
    pub metrics: Option<String>,
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
    /// Months before now the responses are captured over (one month's
    /// figures are published 7 days after it ends: see the README); 0
    /// captures them all now.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
}

pub(super) fn run(args: SimulateArgs) -> Result<()> {
    let storage = open_storage(&args.db)?;
    let plan = Plan {
        server: args.server,
        metrics: args.metrics,
        devices: args.devices,
        responses: args.responses,
        area: args.area,
        form: args.form,
        months: args.months,
    };
    let bar = indicatif::ProgressBar::new(plan.responses as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} {bar:40} {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("capturing");
    let syncing = std::sync::Once::new();
    let r = simulate(&plan, storage.as_ref(), &|| bar.inc(1), &|n| {
        syncing.call_once(|| {
            bar.reset();
            bar.set_message("syncing");
        });
        bar.inc(n as u64);
    })?;
    bar.finish_and_clear();
    println!("devices:                 {}", r.devices);
    println!("responses synced:        {}", r.responses);
    println!("time:                    {:.2} s", r.elapsed.as_secs_f64());
    println!("throughput:              {:.0} responses/s", r.throughput());
    if let Some(cpu) = r.server_cpu {
        println!(
            "server CPU per response: {:.0} µs ({cpu:.2} s in all)",
            r.per_response(cpu * 1e6)
        );
    }
    println!(
        "bytes up per response:   {:.0}",
        r.per_response(r.bytes_up as f64)
    );
    println!(
        "bytes down per response: {:.0}",
        r.per_response(r.bytes_down as f64)
    );
    println!(
        "gzip(JSON) per response: {:.0} (same answers, batches of 500)",
        r.per_response(r.json_gzip as f64)
    );
    println!(
        "no-op re-sync of a device holding {}: {:.1} ms, {} round trip(s), {} bytes up, {} bytes down",
        r.noop.held,
        r.noop.elapsed.as_secs_f64() * 1e3,
        r.noop.round_trips,
        r.noop.bytes_up,
        r.noop.bytes_down
    );
    Ok(())
}
