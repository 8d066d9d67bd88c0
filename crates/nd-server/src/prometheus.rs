//! `GET /metrics`: the manager's call metrics in the Prometheus text exposition format 0.0.4.
//!
//! - `ndp_plugin_calls_total{plugin,export,result="ok|error"}` counter;
//! - `ndp_plugin_call_duration_seconds{plugin,export}` histogram over
//!   [`nd_manager::BUCKETS_MS`] (cumulative `_bucket{le}`, `_sum`, `_count`);
//! - `ndp_plugins_loaded` and `ndp_plugins_enabled` gauges.
//!
//! Calls answered "not implemented" are not recorded by the manager, so they are not here.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use nd_manager::{BUCKETS_MS, CallStats};

use crate::api::{ApiError, AppState};

/// The content type of the text format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state
        .blocking(|manager| {
            let enabled = manager.list()?.iter().filter(|p| p.enabled).count();
            let loaded = manager.loaded().len();
            Ok(render(&manager.metrics().snapshot(), loaded, enabled))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// The exposition text.
pub(crate) fn render(stats: &[CallStats], loaded: usize, enabled: usize) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, stats, loaded, enabled);
    out
}

fn write_all(
    out: &mut String,
    stats: &[CallStats],
    loaded: usize,
    enabled: usize,
) -> std::fmt::Result {
    writeln!(
        out,
        "# HELP ndp_plugin_calls_total Plugin export calls made through the manager, by result."
    )?;
    writeln!(out, "# TYPE ndp_plugin_calls_total counter")?;
    for s in stats {
        let labels = labels(s);
        writeln!(
            out,
            "ndp_plugin_calls_total{{{labels},result=\"ok\"}} {}",
            s.ok
        )?;
        writeln!(
            out,
            "ndp_plugin_calls_total{{{labels},result=\"error\"}} {}",
            s.failed
        )?;
    }
    writeln!(
        out,
        "# HELP ndp_plugin_call_duration_seconds Duration of plugin export calls made through the manager."
    )?;
    writeln!(out, "# TYPE ndp_plugin_call_duration_seconds histogram")?;
    for s in stats {
        let labels = labels(s);
        let mut cumulative = 0u64;
        for (i, bound_ms) in BUCKETS_MS.iter().enumerate() {
            cumulative += s.buckets.get(i).copied().unwrap_or(0);
            writeln!(
                out,
                "ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                bound_ms / 1000.0
            )?;
        }
        writeln!(
            out,
            "ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            s.calls()
        )?;
        writeln!(
            out,
            "ndp_plugin_call_duration_seconds_sum{{{labels}}} {}",
            s.total_ms / 1000.0
        )?;
        writeln!(
            out,
            "ndp_plugin_call_duration_seconds_count{{{labels}}} {}",
            s.calls()
        )?;
    }
    writeln!(out, "# HELP ndp_plugins_loaded Plugins loaded now.")?;
    writeln!(out, "# TYPE ndp_plugins_loaded gauge")?;
    writeln!(out, "ndp_plugins_loaded {loaded}")?;
    writeln!(
        out,
        "# HELP ndp_plugins_enabled Plugins the administrator enabled."
    )?;
    writeln!(out, "# TYPE ndp_plugins_enabled gauge")?;
    writeln!(out, "ndp_plugins_enabled {enabled}")?;
    Ok(())
}

fn labels(s: &CallStats) -> String {
    format!(
        "plugin=\"{}\",export=\"{}\"",
        escape(&s.plugin),
        escape(&s.export)
    )
}

/// Escapes a label value: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let mut buckets = vec![0; BUCKETS_MS.len() + 1];
        buckets[0] = 2; // <= 1 ms
        buckets[3] = 1; // <= 25 ms
        buckets[BUCKETS_MS.len()] = 1; // > 30 s
        let stats = CallStats {
            plugin: "we\"ird\\".into(),
            export: "nd_x".into(),
            ok: 3,
            failed: 1,
            total_ms: 2_500.0,
            max_ms: 40_000.0,
            buckets,
        };
        let text = render(&[stats], 2, 3);
        let labels = r#"plugin="we\"ird\\",export="nd_x""#;
        for line in [
            format!("ndp_plugin_calls_total{{{labels},result=\"ok\"}} 3"),
            format!("ndp_plugin_calls_total{{{labels},result=\"error\"}} 1"),
            format!("ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"0.001\"}} 2"),
            format!("ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"0.01\"}} 2"),
            format!("ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"0.025\"}} 3"),
            format!("ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"30\"}} 3"),
            format!("ndp_plugin_call_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"),
            format!("ndp_plugin_call_duration_seconds_sum{{{labels}}} 2.5"),
            format!("ndp_plugin_call_duration_seconds_count{{{labels}}} 4"),
            "ndp_plugins_loaded 2".to_owned(),
            "ndp_plugins_enabled 3".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert!(text.ends_with('\n'));
    }
}
