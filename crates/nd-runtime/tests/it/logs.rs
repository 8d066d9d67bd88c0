//! Guest logging: `log_*` and WASI stdout/stderr become `tracing` events with the plugin id,
//! filtered by the plugin's level; `get_log_level` tells the guest that level.

use nd_runtime::{LogLevel, PluginConfig};

use crate::support::*;

fn with_level(id: &str, target: &str, level: LogLevel) -> nd_runtime::Plugin {
    captured(id); // install the subscriber before the first call
    let mut config = PluginConfig::new(id);
    config.log_level = level;
    load("kernel", target, config)
}

fn levels(id: &str) -> Vec<String> {
    captured(id)
        .into_iter()
        .filter(|c| c.stream.is_none())
        .map(|c| c.level)
        .collect()
}

#[test]
fn log_levels_filter_guest_lines() {
    for target in TARGETS {
        let id = format!("logs-info-{target}");
        let p = with_level(&id, target, LogLevel::Info);
        assert_eq!(ok_str(&p, "log_level", ""), "2");
        assert_eq!(ok_str(&p, "log_all", "hello"), "ok");
        assert_eq!(levels(&id), ["INFO", "WARN", "ERROR"]);
        assert!(captured(&id).iter().all(|c| c.message == "hello"));

        let id = format!("logs-trace-{target}");
        let p = with_level(&id, target, LogLevel::Trace);
        assert_eq!(ok_str(&p, "log_level", ""), "0");
        ok(&p, "log_all", b"x");
        assert_eq!(levels(&id), ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]);

        let id = format!("logs-off-{target}");
        let p = with_level(&id, target, LogLevel::Off);
        assert_eq!(ok_str(&p, "log_level", ""), i32::MAX.to_string());
        ok(&p, "log_all", b"x");
        assert!(levels(&id).is_empty());
    }
}

#[test]
fn stdout_and_stderr_become_log_lines() {
    let id = "stdio-plugin";
    let p = with_level(id, WASI, LogLevel::Info);
    assert_eq!(ok_str(&p, "stdio", "printed"), "ok");
    let lines = captured(id);
    assert!(
        lines
            .iter()
            .any(|c| c.stream.as_deref() == Some("stdout") && c.message == "printed"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|c| c.stream.as_deref() == Some("stderr") && c.message == "printed"),
        "{lines:?}"
    );
}
