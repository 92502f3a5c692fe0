//! Prometheus metrics: what operators watch and what `hark simulate` reads
//! to report the server's CPU per response. Served on a listener of its
//! own (`hark serve --metrics-listen`), off by default, so they never sit on
//! the public port. Process figures (CPU seconds to the clock tick,
//! resident and peak resident memory) are read from `/proc` (procfs) at
//! each scrape: the prometheus crate's own process collector counts CPU in
//! whole seconds, too coarse to divide by responses.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, Registry, TextEncoder,
};

/// The server's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Sync exchanges handled.
    pub exchanges: IntCounter,
    /// Documents merged and stored.
    pub docs_merged: IntCounter,
    /// Documents refused.
    pub docs_refused: IntCounter,
    /// Documents per ingest transaction.
    pub group_size: Histogram,
    /// Seconds an ingest transaction took, from its first read to its
    /// commit.
    pub commit_seconds: Histogram,
    /// Seconds a request took, by route.
    pub request_seconds: HistogramVec,
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    registry
        .register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    c
}

fn histogram(registry: &Registry, opts: HistogramOpts) -> Histogram {
    let name = opts.common_opts.name.clone();
    let h = Histogram::with_opts(opts).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    registry
        .register(Box::new(h.clone()))
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    h
}

impl Metrics {
    /// Fresh metrics, with the process collector.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("hark".into()), None)
            .unwrap_or_else(|e| panic!("metrics registry: {e}"));
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("request_seconds", "Seconds a request took, by route"),
            &["route"],
        )
        .unwrap_or_else(|e| panic!("metric request_seconds: {e}"));
        registry
            .register(Box::new(request_seconds.clone()))
            .unwrap_or_else(|e| panic!("metric request_seconds: {e}"));
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(process::Process::new()))
            .unwrap_or_else(|e| panic!("process metrics: {e}"));
        Self {
            exchanges: counter(&registry, "sync_exchanges_total", "Sync exchanges handled"),
            docs_merged: counter(
                &registry,
                "documents_merged_total",
                "Documents merged and stored",
            ),
            docs_refused: counter(&registry, "documents_refused_total", "Documents refused"),
            group_size: histogram(
                &registry,
                HistogramOpts::new("ingest_group_documents", "Documents per ingest transaction")
                    .buckets(vec![
                        1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
                    ]),
            ),
            commit_seconds: histogram(
                &registry,
                HistogramOpts::new(
                    "ingest_commit_seconds",
                    "Seconds an ingest transaction took",
                ),
            ),
            request_seconds,
            registry,
        }
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "linux")]
mod process {
    //! This process's CPU time and memory, from `/proc/self`.

    use prometheus::core::{Collector, Desc};
    use prometheus::proto::MetricFamily;
    use prometheus::{Counter, Gauge};

    pub(super) struct Process {
        cpu: Counter,
        rss: Gauge,
        peak: Gauge,
    }

    impl Process {
        pub(super) fn new() -> Self {
            let make = |name: &str, help: &str| {
                Gauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"))
            };
            Self {
                cpu: Counter::new(
                    "process_cpu_seconds_total",
                    "User and system CPU seconds this process has used",
                )
                .unwrap_or_else(|e| panic!("metric process_cpu_seconds_total: {e}")),
                rss: make("process_resident_memory_bytes", "Resident memory, bytes"),
                peak: make(
                    "process_peak_resident_memory_bytes",
                    "Peak resident memory since the process started, bytes",
                ),
            }
        }
    }

    impl Collector for Process {
        fn desc(&self) -> Vec<&Desc> {
            [&self.cpu.desc(), &self.rss.desc(), &self.peak.desc()]
                .into_iter()
                .flatten()
                .copied()
                .collect()
        }

        fn collect(&self) -> Vec<MetricFamily> {
            if let Ok(me) = procfs::process::Process::myself() {
                if let Ok(stat) = me.stat() {
                    let ticks = procfs::ticks_per_second() as f64;
                    let cpu = (stat.utime + stat.stime) as f64 / ticks;
                    // A counter only goes up: add what is new since the last scrape.
                    let seen = self.cpu.get();
                    if cpu > seen {
                        self.cpu.inc_by(cpu - seen);
                    }
                    self.rss.set((stat.rss * procfs::page_size()) as f64);
                }
                if let Some(kb) = me.status().ok().and_then(|s| s.vmhwm) {
                    self.peak.set((kb * 1024) as f64);
                }
            }
            [self.cpu.collect(), self.rss.collect(), self.peak.collect()].concat()
        }
    }
}

/// The value of a metric (summed over its labels) in a text rendering:
/// what `hark simulate` reads from a server.
pub fn value_of(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (key, value) = line.rsplit_once(' ')?;
        let metric = key.split('{').next().unwrap_or(key);
        if metric == name {
            *found.get_or_insert(0.0) += value.parse::<f64>().ok()?;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_and_read_back() {
        let m = Metrics::new();
        m.exchanges.inc();
        m.docs_merged.inc_by(41);
        m.request_seconds.with_label_values(&["/a"]).observe(0.5);
        m.request_seconds.with_label_values(&["/b"]).observe(0.25);
        let text = m.render();
        assert_eq!(value_of(&text, "hark_sync_exchanges_total"), Some(1.0));
        assert_eq!(value_of(&text, "hark_documents_merged_total"), Some(41.0));
        assert_eq!(value_of(&text, "hark_request_seconds_count"), Some(2.0));
        assert_eq!(value_of(&text, "hark_documents_refused_total"), Some(0.0));
        if cfg!(target_os = "linux") {
            assert!(
                value_of(&text, "hark_process_cpu_seconds_total").is_some(),
                "{text}"
            );
            let peak = value_of(&text, "hark_process_peak_resident_memory_bytes");
            assert!(peak.is_some_and(|b| b > 1e6), "{text}");
        }
    }
}
