//! Everything `ndp` writes: raw output bytes on stdout, text and JSON documents (the
//! `ndp info` report, tables), and failures on stderr (`error: …` then `note: …` lines).

use std::fmt::Write as _;
use std::io::Write as _;

use nd_manifest::Diagnostic;
use serde_json::{Value, json};

use crate::info::{CacheUse, Info};
use crate::{EXIT_INTERNAL, Failure};

/// The version of the `ndp info --json` object; raised when a field changes meaning or
/// disappears (adding a field does not raise it).
pub(crate) const INFO_JSON_VERSION: u32 = 1;

/// Writes `bytes` to stdout exactly, and flushes.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::new(EXIT_INTERNAL, format!("cannot write to stdout: {e}")))
}

/// Writes text to stdout.
pub(crate) fn print_text(text: &str) -> Result<(), Failure> {
    write_stdout(text.as_bytes())
}

/// Writes one pretty-printed JSON document to stdout, with a final newline.
pub(crate) fn print_json(value: &Value) -> Result<(), Failure> {
    let mut text = pretty(value);
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// A JSON value, pretty-printed.
pub(crate) fn pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `text` on one line (line breaks become spaces), cut to `max` characters with `…`.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Rows as a left-aligned table, columns two spaces apart; the last column is not padded.
pub(crate) fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Flushes stdout and stderr before the process exits; errors are moot by then.
pub(crate) fn flush_all() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// Prints a failure on stderr.
pub(crate) fn print_failure(failure: &Failure) {
    let mut text = format!("error: {}\n", failure.message);
    for note in &failure.notes {
        let _ = writeln!(text, "note: {note}");
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({"path": d.path, "message": d.message, "hint": d.hint})
}

fn cache_code(cache: &CacheUse) -> &'static str {
    match cache {
        CacheUse::Disabled => "disabled",
        CacheUse::Hit(_) => "hit",
        CacheUse::Miss(_) => "miss",
    }
}

/// The `ndp info --json` object.
pub(crate) fn info_json(info: &Info<'_>) -> Value {
    let package = info.package;
    let permissions: Vec<Value> = package
        .manifest
        .permissions
        .iter()
        .map(|p| {
            let details: serde_json::Map<String, Value> = p
                .details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
                .collect();
            json!({"key": p.key, "reason": p.reason, "details": details})
        })
        .collect();
    let imports: Vec<Value> = info
        .imports
        .iter()
        .map(|i| {
            let granted = match &i.status {
                crate::info::ImportStatus::Service { granted, .. } => Some(*granted),
                _ => None,
            };
            json!({
                "module": i.module,
                "name": i.name,
                "type": i.ty,
                "provided": i.status.provided(),
                "status": i.status.code(),
                "permission": i.status.permission(),
                "granted": granted,
                "detail": i.status.describe(),
            })
        })
        .collect();
    json!({
        "ndp_info_version": INFO_JSON_VERSION,
        "file": info.file.display().to_string(),
        "id": package.id,
        "manifest": package.manifest.to_json(),
        "warnings": package.warnings.iter().map(diagnostic_json).collect::<Vec<_>>(),
        "permissions": permissions,
        "capabilities": info.capabilities.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "problems": info.problems.iter().map(diagnostic_json).collect::<Vec<_>>(),
        "sha256": package.sha256_hex(),
        "wasm_sha256": package.wasm_sha256_hex(),
        "wasm_size": package.wasm.len(),
        "compile_cache": cache_code(&info.cache),
        "exports": info.exports,
        "imports": imports,
        "runs_in_this_build": info.runs_in_this_build(),
    })
}

/// Prints the report as one pretty-printed JSON object.
pub(crate) fn print_info_json(info: &Info<'_>) -> Result<(), Failure> {
    // Serialising a `Value` cannot fail.
    let mut text = serde_json::to_string_pretty(&info_json(info)).unwrap_or_default();
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// The report as text.
pub(crate) fn info_human(info: &Info<'_>) -> String {
    let package = info.package;
    let manifest = &package.manifest;
    let mut out = String::new();
    let field = |out: &mut String, name: &str, value: &str| {
        let _ = writeln!(out, "{name:<12}{value}");
    };
    field(
        &mut out,
        "plugin",
        &format!("{}  ({})", package.id, info.file.display()),
    );
    field(&mut out, "name", &manifest.name);
    field(&mut out, "version", &manifest.version);
    field(&mut out, "author", &manifest.author);
    field(
        &mut out,
        "description",
        manifest.description.as_deref().unwrap_or("-"),
    );
    field(
        &mut out,
        "website",
        manifest.website.as_deref().unwrap_or("-"),
    );
    field(
        &mut out,
        "sha256",
        &format!("{}  (package)", package.sha256_hex()),
    );
    field(
        &mut out,
        "",
        &format!(
            "{}  (plugin.wasm, {} bytes)",
            package.wasm_sha256_hex(),
            package.wasm.len()
        ),
    );
    let compiled = match &info.cache {
        CacheUse::Disabled => "compiled (no cache)".to_owned(),
        CacheUse::Hit(dir) => format!("loaded from the compilation cache in {}", dir.display()),
        CacheUse::Miss(dir) => format!("compiled, and cached in {}", dir.display()),
    };
    field(&mut out, "module", &compiled);

    let diagnostics = |out: &mut String, title: &str, consequence: &str, list: &[Diagnostic]| {
        if list.is_empty() {
            let _ = writeln!(out, "\n{title}: none");
        } else {
            let _ = writeln!(out, "\n{title} ({}){consequence}:", list.len());
            for d in list {
                let _ = writeln!(out, "  {d}");
            }
        }
    };
    diagnostics(&mut out, "manifest warnings", "", &package.warnings);

    let permissions: Vec<_> = manifest.permissions.iter().collect();
    if permissions.is_empty() {
        let _ = writeln!(out, "\npermissions: none");
    } else {
        let _ = writeln!(out, "\npermissions ({}):", permissions.len());
        for p in &permissions {
            let reason = p.reason.unwrap_or("(no reason given)");
            let _ = writeln!(out, "  {}: {reason}", p.key);
            for (name, value) in &p.details {
                let _ = writeln!(out, "      {name}: {value}");
            }
        }
    }

    let capabilities: Vec<&str> = info.capabilities.iter().map(|c| c.name()).collect();
    let _ = writeln!(
        out,
        "\ncapabilities: {}",
        if capabilities.is_empty() {
            "none".to_owned()
        } else {
            capabilities.join(", ")
        }
    );
    diagnostics(
        &mut out,
        "problems",
        ", for which Navidrome would refuse to load the plugin",
        &info.problems,
    );

    let _ = writeln!(
        out,
        "\nexports ({}): {}",
        info.exports.len(),
        info.exports.join(", ")
    );

    let missing = info.imports.iter().filter(|i| !i.status.provided()).count();
    let _ = writeln!(
        out,
        "\nimports ({}, {missing} not provided by this host):",
        info.imports.len()
    );
    let names: Vec<String> = info
        .imports
        .iter()
        .map(|i| format!("{}::{}", i.module, i.name))
        .collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let type_width = info
        .imports
        .iter()
        .map(|i| i.ty.chars().count())
        .max()
        .unwrap_or(0);
    for (import, name) in info.imports.iter().zip(&names) {
        let _ = writeln!(
            out,
            "  {name:<name_width$}  {ty:<type_width$}  {status}",
            ty = import.ty,
            status = import.status.describe()
        );
    }
    let _ = writeln!(
        out,
        "\nruns in this build: {}",
        if missing == 0 {
            "yes".to_owned()
        } else {
            format!(
                "no ({missing} import{} not provided)",
                if missing == 1 { "" } else { "s" }
            )
        }
    );
    out
}

/// Prints the report as text.
pub(crate) fn print_info_human(info: &Info<'_>) -> Result<(), Failure> {
    write_stdout(info_human(info).as_bytes())
}
