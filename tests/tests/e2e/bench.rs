//! The ingest benchmark runs to completion (its timings are not checked:
//! `cargo bench -p hark-tests --bench ingest` measures).

use hark_tests::ingest_bench::{Backend, Sizes, run, table};

/// This test binary doubles as the benchmark's servers.
#[test]
fn ingest_benchmark_completes_on_both_backends() {
    let sizes = Sizes::smoke();
    let (rows, refs) = run(&sizes);
    assert_eq!(rows.len(), 2 * sizes.devices.len());
    for row in &rows {
        let r = &row.report;
        assert_eq!(r.responses, sizes.responses, "{row:?}");
        assert!(
            r.bytes_up > 0 && r.bytes_down > 0 && r.json_gzip > 0,
            "{row:?}"
        );
        assert!(
            r.server_cpu.is_some_and(|s| s > 0.0),
            "server CPU read from its metrics: {row:?}"
        );
        assert_eq!(
            row.merged,
            Some(sizes.responses as f64),
            "metrics count merges: {row:?}"
        );
        assert!(row.peak_rss.is_some_and(|b| b > 0), "{row:?}");
        assert_eq!(
            r.noop.round_trips, 1,
            "a no-op re-sync is one round trip: {row:?}"
        );
    }
    assert!(refs.iter().all(|b| b.per_second > 0.0));
    let text = table(&rows, &refs);
    for backend in [Backend::Sqlite, Backend::Postgres] {
        assert!(text.contains(backend.name()), "{text}");
    }
    println!("{text}");
}
