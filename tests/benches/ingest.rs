//! Ingest at the limit, as a table (see `hark_tests::ingest_bench`):
//! `cargo bench -p hark-tests --bench ingest` (20,000 responses per row;
//! `HARK_BENCH_RESPONSES=N` for another size). PostgreSQL must be running
//! at 127.0.0.1:5432.

fn main() {
    // The servers it measures are this binary again, as `hark serve`.
    if hark_tests::is_child_server() {
        hark_tests::child_server_main();
        return;
    }
    let sizes = hark_tests::ingest_bench::Sizes::full();
    let (rows, refs) = hark_tests::ingest_bench::run(&sizes);
    println!("{}", hark_tests::ingest_bench::table(&rows, &refs));
}
