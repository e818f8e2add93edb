//! Request counters and latency histograms in the Prometheus text format, kept in memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Gauges that are read when scraped rather than counted.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    pub db_pool_size: u32,
    pub db_pool_idle: u32,
    pub db_pool_max: u32,
    pub db_up: bool,
    pub audit_records: i64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        {
            let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            *requests.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
        let secs = took.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry((method.to_owned(), route.to_owned())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP veilig_build_info Veilig's version.\n# TYPE veilig_build_info gauge");
        let _ = writeln!(out, "veilig_build_info{{version=\"{}\"}} 1", veilig_core::VERSION);
        let _ = writeln!(
            out,
            "# HELP veilig_http_requests_total HTTP requests by route and status.\n# TYPE veilig_http_requests_total counter"
        );
        for ((method, route, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "veilig_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}", escape(route));
        }
        let _ = writeln!(
            out,
            "# HELP veilig_http_request_duration_seconds Time to answer, by route.\n# TYPE veilig_http_request_duration_seconds histogram"
        );
        for ((method, route), h) in self.latency.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "veilig_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "veilig_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "veilig_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "veilig_http_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {}", h.count);
        }
        let _ = writeln!(out, "# HELP veilig_db_up Whether the database answered the scrape's query.\n# TYPE veilig_db_up gauge");
        let _ = writeln!(out, "veilig_db_up {}", u8::from(gauges.db_up));
        let _ = writeln!(out, "# HELP veilig_db_pool_connections Database connections by state.\n# TYPE veilig_db_pool_connections gauge");
        let _ = writeln!(out, "veilig_db_pool_connections{{state=\"idle\"}} {}", gauges.db_pool_idle);
        let _ = writeln!(out, "veilig_db_pool_connections{{state=\"in_use\"}} {}", gauges.db_pool_size.saturating_sub(gauges.db_pool_idle));
        let _ = writeln!(out, "# HELP veilig_db_pool_max_connections The pool's limit.\n# TYPE veilig_db_pool_max_connections gauge");
        let _ = writeln!(out, "veilig_db_pool_max_connections {}", gauges.db_pool_max);
        let _ = writeln!(out, "# HELP veilig_audit_records Records in the audit chain.\n# TYPE veilig_audit_records gauge");
        let _ = writeln!(out, "veilig_audit_records {}", gauges.audit_records);
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, Duration::from_micros(500));
        m.observe("GET", "/healthz", 200, Duration::from_millis(30));
        m.observe("GET", "/healthz", 503, Duration::from_secs(20));
        let text = m.render(&Gauges::default());
        assert!(text.contains("veilig_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("veilig_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"503\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1\n"));
        assert!(text.contains("le=\"0.05\"} 2\n"));
        assert!(text.contains("le=\"10\"} 2\n"));
        assert!(text.contains("le=\"+Inf\"} 3\n"));
    }
}
