//! An event at its busiest, as a table: phones on a hub's hotspot all
//! press "send" at once, and each waits for the hub's "stored" (durable in
//! the hub's encrypted store). `cargo bench -p hark-tests --bench hub`
//! (3 rounds per row; `HARK_BENCH_ROUNDS=N` for another number).
//!
//! The hub, the server it enrolled with and the phones' HTTP clients all
//! run in this one process, so the memory column is an upper bound on the
//! hub's own.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hark_core::Form;
use hark_tests::TestServer;
use hark_tests::hub::{CODE, Phone, TestHub, submission};

/// This process's resident memory now and at its peak, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// One round: `phones` joined phones submit at once; each one's latency.
fn round(forms: &[Arc<Form>], phones: &[Phone], round: usize) -> Vec<Duration> {
    let barrier = Arc::new(Barrier::new(phones.len()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = phones
            .iter()
            .enumerate()
            .map(|(i, phone)| {
                let form = forms[i % forms.len()].clone();
                let barrier = barrier.clone();
                let key = format!("bench-{round:04}-{i:06}-0123456789abcdef");
                scope.spawn(move || {
                    let body = submission(&form, &key, (round * 10_000 + i) as u64);
                    barrier.wait();
                    let started = Instant::now();
                    let (status, reply) = phone.submit(&body);
                    let took = started.elapsed();
                    assert_eq!(status, 200, "{reply}");
                    took
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("phone"))
            .collect()
    })
}

fn main() {
    let rounds: usize = std::env::var("HARK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let server = TestServer::sqlite();
    server.area("hartlepool");
    let hub = TestHub::start(&server, "hartlepool");
    let forms: Vec<Arc<Form>> = ["service-satisfaction", "local-offer", "feeling-safe-child"]
        .iter()
        .map(|id| {
            hub.hub
                .store()
                .latest_form(id)
                .expect("forms")
                .expect("installed")
        })
        .collect();
    let (before, _) = memory();
    println!(
        "| phones at once | rounds | submissions | submissions/s | p50 ms | p99 ms | max ms | RSS MiB | peak RSS MiB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut stored = 0;
    for n in [10, 60, 120] {
        let phones: Vec<Phone> = (0..n)
            .map(|_| {
                let mut p = Phone::new(&hub.url);
                p.join(CODE);
                assert!(p.joined(), "the phone joins");
                p
            })
            .collect();
        let started = Instant::now();
        let mut latencies: Vec<Duration> = (0..rounds)
            .flat_map(|r| round(&forms, &phones, stored + r))
            .collect();
        let wall = started.elapsed();
        stored += rounds * n;
        latencies.sort();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1000.0
        };
        let (rss, peak) = memory();
        println!(
            "| {n} | {rounds} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {rss:.0} | {peak:.0} |",
            latencies.len(),
            latencies.len() as f64 / wall.as_secs_f64(),
            at(0.5),
            at(0.99),
            at(1.0),
        );
    }
    let held = hub
        .hub
        .store()
        .list(&hark_core::ResponseFilter::default())
        .expect("list")
        .len();
    assert_eq!(held, stored, "every submission is stored once");
    println!(
        "\n{held} submissions stored; RSS before the phones: {before:.0} MiB (server, hub and phones in one process)"
    );
}
