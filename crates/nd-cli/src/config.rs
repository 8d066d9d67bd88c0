//! `ndp config get|set`: a plugin's stored configuration (a JSON object), validated by the
//! manager against the manifest's `config.schema` before it is saved, and flattened to
//! strings for the plugin (spec §5.5).
//!
//! `KEY=VALUE` pairs are typed through the schema: a key whose schema `type` is a number,
//! an integer, a boolean, an array or an object gets the value parsed as such (a value that
//! does not parse stays a string, and the validation then names the key's JSON path);
//! anything else is a string.

use clap::{ArgGroup, Args, Subcommand};
use nd_manifest::Manifest;
use serde_json::{Map, Value, json};

use crate::host::{self, HostOptions};
use crate::{
    EXIT_INVALID_CONFIG, EXIT_NOT_FOUND, Failure, Globals, output, parse_key_value, progress,
};

const GET_LONG_ABOUT: &str = "\
Print a plugin's stored configuration as a JSON object (`{}` when none is set), or the value of \
one key: a string as it is, any other value as JSON. An unknown key exits with code 66.

Examples:
  ndp config get wikimedia
  ndp config get wikimedia lang";

const SET_LONG_ABOUT: &str = "\
Change a plugin's configuration. KEY=VALUE pairs change single keys of the stored configuration \
(--unset removes keys); --json-value replaces the whole configuration with a JSON object. Values \
are typed through the manifest's config.schema: a key declared as a number, integer, boolean, \
array or object is parsed as one, anything else is a string.

The result is validated against config.schema before it is saved: every violation is printed \
with its JSON path, nothing is saved, and the exit code is 65. An enabled plugin is loaded again \
with the new configuration.

Examples:
  ndp config set wikimedia lang=en maxResults=5 verbose=true
  ndp config set wikimedia --unset lang
  ndp config set wikimedia --json-value '{\"lang\":\"de\",\"maxResults\":3}'";

/// `ndp config …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print a plugin's configuration, or one key of it
    #[command(long_about = GET_LONG_ABOUT)]
    Get(GetArgs),
    /// Change a plugin's configuration (validated against its config.schema)
    #[command(long_about = SET_LONG_ABOUT)]
    Set(SetArgs),
}

/// Arguments of `ndp config get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The plugin id
    pub(crate) id: String,
    /// Print only this key's value
    pub(crate) key: Option<String>,
}

/// Arguments of `ndp config set`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(["pairs", "json_value", "unset"])))]
pub(crate) struct SetArgs {
    /// The plugin id
    pub(crate) id: String,

    /// Keys to set
    #[arg(value_name = "KEY=VALUE", value_parser = parse_key_value, conflicts_with = "json_value")]
    pub(crate) pairs: Vec<(String, String)>,

    /// The whole configuration, as a JSON object
    #[arg(long, value_name = "JSON", conflicts_with = "unset")]
    pub(crate) json_value: Option<String>,

    /// Keys to remove; repeat for more
    #[arg(long, value_name = "KEY")]
    pub(crate) unset: Vec<String>,
}

/// Runs `ndp config …`.
pub(crate) fn run(command: &ConfigCommand, globals: &Globals) -> Result<(), Failure> {
    match command {
        ConfigCommand::Get(args) => get(args, globals),
        ConfigCommand::Set(args) => set(args, globals),
    }
}

fn get(args: &GetArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::default())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let config = manager
        .config(&args.id)
        .map_err(|e| host::failure(e, globals))?;
    let id = &args.id;
    let Some(key) = &args.key else {
        if globals.json {
            return output::print_json(&json!({"id": id, "config": config}));
        }
        let object = config.unwrap_or_else(|| Value::Object(Map::new()));
        return output::print_text(&format!("{}\n", output::pretty(&object)));
    };
    let value = config
        .as_ref()
        .and_then(|c| c.get(key))
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                EXIT_NOT_FOUND,
                format!("plugin '{id}' has no configuration key '{key}'"),
            )
        })?;
    if globals.json {
        return output::print_json(&json!({"id": id, "key": key, "value": value}));
    }
    match value {
        Value::String(text) => output::print_text(&format!("{text}\n")),
        other => output::print_text(&format!("{other}\n")),
    }
}

/// The `config.schema` of the plugin's stored manifest.
fn schema_of(manifest: &Value) -> Option<Value> {
    Manifest::from_value(manifest)
        .ok()?
        .manifest
        .config
        .map(|c| c.schema)
}

/// The JSON types the schema declares for a top-level key (empty when it declares none).
fn declared_types(schema: Option<&Value>, key: &str) -> Vec<String> {
    let declared = schema
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.get(key))
        .and_then(|p| p.get("type"));
    match declared {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A `KEY=VALUE` value typed through the schema.
pub(crate) fn typed_value(schema: Option<&Value>, key: &str, text: &str) -> Value {
    let types = declared_types(schema, key);
    if types.is_empty() || types.iter().any(|t| t == "string") {
        return Value::String(text.to_owned());
    }
    for ty in &types {
        let parsed = match ty.as_str() {
            "integer" => text.trim().parse::<i64>().ok().map(Value::from),
            "number" => text
                .trim()
                .parse::<i64>()
                .ok()
                .map(Value::from)
                .or_else(|| {
                    text.trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                }),
            "boolean" => match text.trim() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            "array" => serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_array),
            "object" => serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_object),
            "null" => (text.trim() == "null").then_some(Value::Null),
            _ => None,
        };
        if let Some(value) = parsed {
            return value;
        }
    }
    Value::String(text.to_owned())
}

fn set(args: &SetArgs, globals: &Globals) -> Result<(), Failure> {
    let id = &args.id;
    // Parse --json-value before touching the data directory.
    let replacement = match &args.json_value {
        Some(text) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| Failure::usage(format!("--json-value is not JSON: {e}")))?;
            if !value.is_object() {
                return Err(Failure::usage("--json-value must be a JSON object"));
            }
            Some(value)
        }
        None => None,
    };
    let manager = host::manager(globals, &HostOptions::loading())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let status = manager.status(id).map_err(|e| host::failure(e, globals))?;
    let config = match replacement {
        Some(value) => value,
        None => {
            let schema = schema_of(&status.manifest);
            let mut object = match status.config.clone() {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            for (key, text) in &args.pairs {
                object.insert(key.clone(), typed_value(schema.as_ref(), key, text));
            }
            for key in &args.unset {
                object.remove(key);
            }
            Value::Object(object)
        }
    };
    let problems = manager
        .config_problems(id, &config)
        .map_err(|e| host::failure(e, globals))?;
    if !problems.is_empty() {
        let count = problems.len();
        let mut failure = Failure::new(
            EXIT_INVALID_CONFIG,
            format!(
                "the configuration of '{id}' does not satisfy its config.schema ({count} \
                 problem{}); nothing was saved",
                if count == 1 { "" } else { "s" }
            ),
        );
        for problem in &problems {
            let path = if problem.path.is_empty() {
                "(the whole object)"
            } else {
                &problem.path
            };
            failure = failure.note(format!("{path}: {}", problem.message));
        }
        return Err(failure);
    }
    let saved = progress::spin(&format!("saving the configuration of {id}"), || {
        manager.set_config(id, config)
    });
    saved.map_err(|e| {
        let stored = matches!(e, nd_manager::ManagerError::Load { .. });
        let failure = host::failure(e, globals);
        if stored {
            failure.note("the configuration was saved; the plugin failed to load with it")
        } else {
            failure
        }
    })?;
    let after = manager.status(id).map_err(|e| host::failure(e, globals))?;
    if globals.json {
        return output::print_json(&json!({"id": id, "result": "config-saved", "status": after}));
    }
    let mut text = format!(
        "saved the configuration of '{id}':\n{}\n",
        output::pretty(after.config.as_ref().unwrap_or(&Value::Null))
    );
    if after.enabled {
        text.push_str("the plugin loads with it\n");
    }
    output::print_text(&text)
}

#[cfg(test)]
mod tests;
