//! `GET /metrics`: every line well-formed, parsed by an independent Prometheus parser, and the
//! counters, histogram and gauges matching the calls made.

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::json;

use crate::common::serve;

/// Checks one exposition line against the text format's grammar (metric name, optional
/// labels with escaped values, one float value), independently of the parser crate, which
/// skips lines it cannot read.
fn assert_well_formed(line: &str) {
    if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
        return;
    }
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit()),
        "bad metric name: {line}"
    );
    let mut rest = &line[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        let mut chars = labels.char_indices();
        let end = loop {
            // label name
            let mut label = String::new();
            let mut next = chars.next();
            while let Some((_, c)) = next {
                if c == '=' {
                    break;
                }
                label.push(c);
                next = chars.next();
            }
            assert!(
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad label name {label:?}: {line}"
            );
            assert_eq!(
                chars.next().map(|(_, c)| c),
                Some('"'),
                "unquoted value: {line}"
            );
            loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        let escaped = chars.next().map(|(_, c)| c);
                        assert!(
                            matches!(escaped, Some('\\' | '"' | 'n')),
                            "bad escape: {line}"
                        );
                    }
                    Some((_, '"')) => break,
                    Some(_) => {}
                    None => panic!("unterminated label value: {line}"),
                }
            }
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => break i,
                other => panic!("unexpected {other:?}: {line}"),
            }
        };
        rest = &labels[end + 1..];
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value: {line}"));
    assert!(
        value == "+Inf" || value.parse::<f64>().is_ok(),
        "bad value {value:?}: {line}"
    );
}

fn counter(scrape: &Scrape, plugin: &str, export: &str, result: &str) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "ndp_plugin_calls_total"
                && s.labels.get("plugin") == Some(plugin)
                && s.labels.get("export") == Some(export)
                && s.labels.get("result") == Some(result)
        })
        .map(|s| match s.value {
            Sample::Counter(v) => v,
            ref other => panic!("not a counter: {other:?}"),
        })
        .unwrap_or_else(|| panic!("no counter for {plugin} {export} {result}"))
}

fn gauge(scrape: &Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| match s.value {
            Sample::Gauge(v) => v,
            ref other => panic!("not a gauge: {other:?}"),
        })
        .unwrap_or_else(|| panic!("no gauge {name}"))
}

#[test]
fn prometheus_text_counts_calls_per_plugin_and_export() {
    let s = serve(|p| {
        p.put("agent", "agent")
            .put("broken", "agent")
            .put("idle", "lyrics");
    });
    s.enable("agent");
    s.enable("broken");
    s.manager
        .set_config("broken", json!({"error": "down"}))
        .unwrap();
    for name in ["A", "B"] {
        s.http.ok(
            "/api/v1/artist/biography?plugin=agent",
            json!({"name": name}),
        );
    }
    let reply = s.http.post(
        "/api/v1/artist/biography?plugin=broken",
        json!({"name": "C"}),
    );
    assert_eq!(reply.status, 502);

    let reply = s.http.request("GET", "/metrics", None, None);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    for line in reply.text.lines() {
        assert_well_formed(line);
    }
    let scrape = Scrape::parse(reply.text.lines().map(|l| Ok(l.to_owned()))).unwrap();

    assert_eq!(
        counter(&scrape, "agent", "nd_get_artist_biography", "ok"),
        2.0
    );
    assert_eq!(
        counter(&scrape, "agent", "nd_get_artist_biography", "error"),
        0.0
    );
    assert_eq!(
        counter(&scrape, "broken", "nd_get_artist_biography", "ok"),
        0.0
    );
    assert_eq!(
        counter(&scrape, "broken", "nd_get_artist_biography", "error"),
        1.0
    );
    // nd_on_init ran once for agent; for broken at enable and again after the config change.
    assert_eq!(counter(&scrape, "agent", "nd_on_init", "ok"), 1.0);
    assert_eq!(counter(&scrape, "broken", "nd_on_init", "ok"), 2.0);
    assert!(
        !scrape
            .samples
            .iter()
            .any(|s| s.labels.get("plugin") == Some("idle")),
        "a plugin without calls has no series"
    );

    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "ndp_plugin_call_duration_seconds"
                && s.labels.get("plugin") == Some("agent")
                && s.labels.get("export") == Some("nd_get_artist_biography")
        })
        .expect("a histogram for agent's biography calls");
    let Sample::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value);
    };
    let bounds: Vec<f64> = buckets.iter().map(|b| b.less_than).collect();
    let mut expected: Vec<f64> = nd_manager::BUCKETS_MS
        .iter()
        .map(|ms| ms / 1000.0)
        .collect();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);
    assert!(
        buckets.windows(2).all(|w| w[0].count <= w[1].count),
        "cumulative: {buckets:?}"
    );
    assert_eq!(buckets.last().unwrap().count, 2.0);
    let stats = s.manager.metrics().for_plugin("agent");
    let bio = stats
        .iter()
        .find(|e| e.export == "nd_get_artist_biography")
        .unwrap();
    let sum_line = format!(
        "ndp_plugin_call_duration_seconds_sum{{plugin=\"agent\",export=\"nd_get_artist_biography\"}} {}",
        bio.total_ms / 1000.0
    );
    assert!(reply.text.lines().any(|l| l == sum_line), "{sum_line}");
    assert!(reply.text.lines().any(|l| l
        == "ndp_plugin_call_duration_seconds_count{plugin=\"agent\",export=\"nd_get_artist_biography\"} 2"));

    assert_eq!(gauge(&scrape, "ndp_plugins_loaded"), 2.0);
    assert_eq!(gauge(&scrape, "ndp_plugins_enabled"), 2.0);
    for family in [
        "ndp_plugin_calls_total",
        "ndp_plugin_call_duration_seconds",
        "ndp_plugins_loaded",
        "ndp_plugins_enabled",
    ] {
        assert!(scrape.docs.contains_key(family), "HELP for {family}");
    }
}
