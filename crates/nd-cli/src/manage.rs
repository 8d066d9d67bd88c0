//! The commands over installed plugins: `list`, `install`, `update`, `remove`, `enable`,
//! `disable`, `scope`, `dev` and `refresh`, each a thin layer over one or two
//! `nd_manager::Manager` operations, printing text or (with `--json`) one JSON document.
//!
//! The JSON of a command that changes one plugin is `{"id", "result", "status"}`: `result`
//! is one word saying what happened (`installed`, `updated`, `unchanged`, `removed`,
//! `enabled`, `disabled`, `scope-saved`, `linked`, `relinked`, `refreshed`, ...) and
//! `status` the manager's `PluginStatus` afterwards (`null` once removed).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use nd_host_appdata::provider::Scope;
use nd_manager::{Manager, PluginStatus, SyncReport};
use nd_manifest::abi::detect_capabilities;
use serde_json::{Value, json};

use crate::host::{self, HostOptions};
use crate::{EXIT_NOT_FOUND, Failure, Globals, load, output, progress};

pub(crate) const LIST_LONG_ABOUT: &str = "\
List the installed plugins: id, name, version, where they come from (a .ndp file or a \
development folder), whether they are enabled, the capabilities detected from their exports, \
and why they last failed to load.

The plugins folder is synced first, as Navidrome does: a new .ndp file is recorded disabled, a \
changed one is disabled, a vanished one forgotten. Capabilities come from compiling the module \
(through the compilation cache); no plugin code runs. Nothing is loaded between two ndp commands, \
so LOADED shows `-` unless --load loads every enabled plugin the way `ndp serve` does at startup \
(nd_on_init runs; a plugin that fails is disabled with its error stored).

--json prints an array of the manager's plugin status objects, with `capabilities` as detected \
and `loaded` null unless --load.

Examples:
  ndp list
  ndp list --load --json";

pub(crate) const INSTALL_LONG_ABOUT: &str = "\
Copy a .ndp package into the plugins folder under its file name, which is the plugin id. The \
package is checked first (a broken one is not copied). As in Navidrome, a new plugin is disabled: \
enable it with `ndp enable <id>` after reviewing its permissions (`ndp info <id>`). An id that is \
already installed is refused: use `ndp update`.

Examples:
  ndp install ~/Downloads/wikimedia.ndp
  ndp install wikimedia.ndp --plugins-dir /var/lib/navidrome/plugins";

pub(crate) const UPDATE_LONG_ABOUT: &str = "\
Replace an installed plugin with a new package of the same id (the file name). As Navidrome does \
for a changed file, the plugin is unloaded and disabled: enable it again after reviewing the new \
version's permissions. Its configuration, scope and data are kept. An identical package changes \
nothing. The id must already be installed (exit code 66 otherwise).

Example:
  ndp update wikimedia.ndp && ndp enable wikimedia";

pub(crate) const REMOVE_LONG_ABOUT: &str = "\
Unload a plugin, delete its package from the plugins folder and forget its state (configuration, \
scope). Its data directory (<data-dir>/plugins/<id>/: KV store, task queue, storage) is kept, as \
Navidrome keeps it. For a development folder only the link is forgotten; the folder is untouched.

Example:
  ndp remove wikimedia";

pub(crate) const ENABLE_LONG_ABOUT: &str = "\
Load a plugin with its stored configuration and scope, run nd_on_init, and record it enabled. A \
plugin that fails to load stays disabled, with the error stored as its last error (exit code 64). \
A plugin asking for the users or library permission needs a scope first (`ndp scope`). For a \
development folder the current build is read first.

This process exits afterwards: the plugin runs in `ndp serve` and in `ndp call <id>`.

Example:
  ndp enable wikimedia";

pub(crate) const DISABLE_LONG_ABOUT: &str = "\
Record a plugin disabled: `ndp serve` no longer loads it and `ndp call <id>` refuses it. Its \
configuration, scope and data are kept.

Example:
  ndp disable wikimedia";

pub(crate) const SCOPE_LONG_ABOUT: &str = "\
Show or set which users and libraries a plugin may see (Navidrome's per-plugin user and library \
selection). Without options it shows the current scope. Users are given by user name or id, \
libraries by id, both checked against the music catalog this host serves (--library, or the demo \
catalog: users admin, alice, bob; libraries 1 and 2). Options not given keep their value.

A plugin with the users or library permission cannot be enabled with nothing allowed; narrowing \
the scope of an enabled plugin to nothing disables it. An enabled plugin is loaded again with the \
new scope.

Examples:
  ndp scope lastfm --users alice,bob
  ndp scope inspector --all-libraries --write-access
  ndp scope lastfm --all-users --libraries 1,2";

pub(crate) const DEV_LONG_ABOUT: &str = "\
Link a development folder as a plugin, so that a plugin author can run a build without packaging \
it. The folder holds manifest.json; the module is --wasm, else plugin.wasm in the folder, else the \
cargo build output target/wasm32-wasip1/release/<crate>.wasm (in the folder, $CARGO_TARGET_DIR, \
or the target folder of an enclosing cargo workspace). The plugin id is the folder's name unless \
--id gives one.

A new link is disabled, like any new plugin: enable it once. After each rebuild, `ndp refresh \
<id>` picks up the new module and, when the plugin is enabled, loads it again, enabled (`ndp call \
<id>` reads the folder again by itself). While `ndp serve` runs, reload the plugin from the admin \
page or with POST /api/admin/plugins/<id>/reload instead: a reload reads the folder again too. \
Linking an already linked id again points it at this folder; `ndp remove <id>` forgets the link.

Examples:
  cargo build --release --target wasm32-wasip1 && ndp dev . && ndp enable my-plugin
  ndp dev ./wiki --id wikimedia-dev";

pub(crate) const REFRESH_LONG_ABOUT: &str = "\
Read one plugin's package again. For a development folder, a new build replaces the recorded one \
and an enabled plugin is loaded again at once, staying enabled (the build, refresh, call loop). For \
a .ndp file the folder sync rules apply: a changed file disables the plugin (as Navidrome does), a \
vanished file forgets it, a new file is recorded disabled.

Examples:
  cargo build --release --target wasm32-wasip1 && ndp refresh my-plugin
  ndp refresh wikimedia";

/// Arguments of `ndp list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Load every enabled plugin (as `ndp serve` does at startup) and show whether it loads
    #[arg(long)]
    pub(crate) load: bool,
}

/// A command over one package file.
#[derive(Debug, Args)]
pub(crate) struct FileArgs {
    /// The .ndp package; its file name without .ndp is the plugin id
    #[arg(value_name = "FILE.ndp")]
    pub(crate) file: PathBuf,
}

/// A command over one installed plugin.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The plugin id
    pub(crate) id: String,
}

/// Arguments of `ndp scope`.
#[derive(Debug, Args)]
pub(crate) struct ScopeArgs {
    /// The plugin id
    pub(crate) id: String,

    /// Allow these users (names or ids, comma-separated; empty for none)
    #[arg(
        long,
        value_name = "LIST",
        conflicts_with = "all_users",
        value_delimiter = ','
    )]
    pub(crate) users: Option<Vec<String>>,

    /// Allow every user, present and future
    #[arg(long)]
    pub(crate) all_users: bool,

    /// Allow these libraries (ids, comma-separated; empty for none)
    #[arg(
        long,
        value_name = "LIST",
        conflicts_with = "all_libraries",
        value_delimiter = ','
    )]
    pub(crate) libraries: Option<Vec<String>>,

    /// Allow every library, present and future
    #[arg(long)]
    pub(crate) all_libraries: bool,

    /// Mount the libraries read-write (library.filesystem plugins)
    #[arg(long, conflicts_with = "read_only")]
    pub(crate) write_access: bool,

    /// Mount the libraries read-only (the default)
    #[arg(long)]
    pub(crate) read_only: bool,
}

/// Arguments of `ndp dev`.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// The development folder (holding manifest.json)
    #[arg(value_name = "FOLDER")]
    pub(crate) folder: PathBuf,

    /// The plugin id [default: the folder's name]
    #[arg(long)]
    pub(crate) id: Option<String>,

    /// The wasm module [default: plugin.wasm in the folder, else the cargo build output]
    #[arg(long, value_name = "PATH")]
    pub(crate) wasm: Option<PathBuf>,
}

/// Prints a command's outcome: `text` for people, or the `{"id","result","status"}` JSON.
fn report(
    globals: &Globals,
    id: &str,
    result: &str,
    status: Option<&PluginStatus>,
    text: &str,
) -> Result<(), Failure> {
    if globals.json {
        output::print_json(&json!({"id": id, "result": result, "status": status}))
    } else {
        output::print_text(text)
    }
}

fn status(manager: &Manager, id: &str, globals: &Globals) -> Result<PluginStatus, Failure> {
    manager.status(id).map_err(|e| host::failure(e, globals))
}

/// The capabilities detected from a plugin's exports, compiling it through the cache; `None`
/// when the package cannot be read or compiled (its last error says why).
fn detected_capabilities(manager: &Manager, id: &str) -> Option<Vec<String>> {
    let package = manager.package(id).ok()?;
    let compiled = manager.runtime().compile(id, &package.wasm).ok()?;
    let exports = compiled.exports();
    Some(
        detect_capabilities(exports.iter().map(String::as_str))
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
    )
}

/// The "enable it" hint.
fn enable_hint(globals: &Globals, id: &str) -> String {
    format!(
        "review its permissions with `{}`, then enable it with\n  {}",
        globals.hint(&format!("info {id}")),
        globals.hint(&format!("enable {id}"))
    )
}

/// Runs `ndp list`.
pub(crate) fn list(args: &ListArgs, globals: &Globals) -> Result<(), Failure> {
    let options = if args.load {
        HostOptions::loading()
    } else {
        HostOptions::default()
    };
    let manager = host::manager(globals, &options)?;
    let synced = if args.load {
        progress::spin("loading the enabled plugins", || manager.load_enabled())
    } else {
        manager.sync()
    }
    .map_err(|e| host::failure(e, globals))?;
    for (id, reason) in &synced.broken {
        tracing::warn!(plugin = %id, "broken package: {reason}");
    }
    let statuses = manager.list().map_err(|e| host::failure(e, globals))?;
    let rows: Vec<(PluginStatus, Option<Vec<String>>)> = progress::spin("compiling", || {
        statuses
            .into_iter()
            .map(|s| {
                let caps = detected_capabilities(&manager, &s.id);
                (s, caps)
            })
            .collect()
    });
    if globals.json {
        let array: Vec<Value> = rows
            .iter()
            .map(|(status, caps)| {
                let mut value = serde_json::to_value(status).unwrap_or(Value::Null);
                value["capabilities"] = json!(caps.clone().unwrap_or_default());
                if !args.load {
                    value["loaded"] = Value::Null;
                }
                value
            })
            .collect();
        return output::print_json(&Value::Array(array));
    }
    if rows.is_empty() {
        return output::print_text(&format!(
            "no plugins in {}; install one with `{}`\n",
            manager.plugins_dir().display(),
            globals.hint("install FILE.ndp")
        ));
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut table = vec![
        [
            "ID",
            "NAME",
            "VERSION",
            "SOURCE",
            "ENABLED",
            "LOADED",
            "CAPABILITIES",
            "LAST ERROR",
        ]
        .map(str::to_owned),
    ];
    for (status, caps) in &rows {
        table.push([
            status.id.clone(),
            status.name.clone(),
            status.version.clone(),
            if status.dev.is_some() { "dev" } else { "file" }.to_owned(),
            yes_no(status.enabled).to_owned(),
            if args.load {
                yes_no(status.loaded).to_owned()
            } else {
                "-".to_owned()
            },
            match caps {
                Some(caps) if caps.is_empty() => "none".to_owned(),
                Some(caps) => caps.join(","),
                None => "?".to_owned(),
            },
            status
                .last_error
                .as_deref()
                .map_or_else(|| "-".to_owned(), |e| output::one_line(e, 70)),
        ]);
    }
    output::print_text(&output::table(&table))
}

/// Runs `ndp install`.
pub(crate) fn install(args: &FileArgs, globals: &Globals) -> Result<(), Failure> {
    let package = load::read_package(&args.file)?;
    let manager = host::manager(globals, &HostOptions::default())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    if let Ok(existing) = manager.status(&package.id) {
        let what = if existing.dev.is_some() {
            "is linked to a development folder"
        } else {
            "is already installed"
        };
        return Err(
            Failure::usage(format!("plugin '{}' {what}", package.id)).note(format!(
                "replace it with `{}`",
                globals.hint(&format!("update {}", args.file.display()))
            )),
        );
    }
    let id = manager
        .install(&args.file)
        .map_err(|e| host::failure(e, globals))?;
    let status = status(&manager, &id, globals)?;
    let text = format!(
        "installed plugin '{id}' ({} {}) into {}\nit is disabled: {}\n",
        status.name,
        status.version,
        manager.plugins_dir().display(),
        enable_hint(globals, &id)
    );
    report(globals, &id, "installed", Some(&status), &text)
}

/// Runs `ndp update`.
pub(crate) fn update(args: &FileArgs, globals: &Globals) -> Result<(), Failure> {
    let package = load::read_package(&args.file)?;
    let id = package.id.clone();
    let manager = host::manager(globals, &HostOptions::default())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let before = manager.status(&id).map_err(|_| {
        Failure::new(EXIT_NOT_FOUND, format!("plugin '{id}' is not installed")).note(format!(
            "install it with `{}`",
            globals.hint(&format!("install {}", args.file.display()))
        ))
    })?;
    if before.dev.is_some() {
        return Err(Failure::usage(format!(
            "plugin '{id}' is linked to a development folder; `{}` reads it again",
            globals.hint(&format!("refresh {id}"))
        )));
    }
    manager
        .install(&args.file)
        .map_err(|e| host::failure(e, globals))?;
    let after = status(&manager, &id, globals)?;
    if after.sha256 == before.sha256 {
        let text = format!("plugin '{id}' is already this package; nothing changed\n");
        return report(globals, &id, "unchanged", Some(&after), &text);
    }
    let mut text = format!(
        "updated plugin '{id}' from {} {} to {} {}\n",
        before.name, before.version, after.name, after.version
    );
    if before.enabled {
        let _ = writeln!(
            text,
            "it is now disabled, as Navidrome disables a changed package: {}",
            enable_hint(globals, &id)
        );
    } else {
        let _ = writeln!(text, "it stays disabled: {}", enable_hint(globals, &id));
    }
    report(globals, &id, "updated", Some(&after), &text)
}

/// Runs `ndp remove`.
pub(crate) fn remove(args: &IdArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::default())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let before = status(&manager, &args.id, globals)?;
    manager
        .remove(&args.id)
        .map_err(|e| host::failure(e, globals))?;
    let id = &args.id;
    let text = match &before.dev {
        Some(dev) => format!(
            "unlinked plugin '{id}'; the development folder {} is left as it is\n",
            dev.folder.display()
        ),
        None => format!(
            "removed plugin '{id}' ({}); its data in {} is kept\n",
            before.path.display(),
            nd_manager::plugin_data_dir(manager.data_dir(), id).display()
        ),
    };
    report(globals, id, "removed", None, &text)
}

/// Runs `ndp enable`.
pub(crate) fn enable(args: &IdArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::loading())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let id = &args.id;
    let before = status(&manager, id, globals)?;
    if before.dev.is_some() {
        let refreshed = progress::spin(&format!("reading the development folder of {id}"), || {
            manager.refresh(id)
        })
        .map_err(|e| host::failure(e, globals))?;
        broken_failure(&refreshed, id)?;
    }
    // A development plugin that was enabled is loaded by the refresh already.
    if manager.plugin(id).is_none() {
        progress::spin(&format!("loading {id}"), || manager.enable(id))
            .map_err(|e| host::failure(e, globals))?;
    }
    let after = status(&manager, id, globals)?;
    let caps = if after.capabilities.is_empty() {
        "none".to_owned()
    } else {
        after.capabilities.join(", ")
    };
    let text = format!(
        "enabled plugin '{id}': it loads (capabilities: {caps}); `ndp serve` and `ndp call {id}` \
         run it\n"
    );
    report(globals, id, "enabled", Some(&after), &text)
}

/// Runs `ndp disable`.
pub(crate) fn disable(args: &IdArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::default())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let id = &args.id;
    let before = status(&manager, id, globals)?;
    manager.disable(id).map_err(|e| host::failure(e, globals))?;
    let after = status(&manager, id, globals)?;
    let text = if before.enabled {
        format!("disabled plugin '{id}'\n")
    } else {
        format!("plugin '{id}' was already disabled\n")
    };
    report(globals, id, "disabled", Some(&after), &text)
}

/// A failure for a plugin the sync found broken.
fn broken_failure(report: &SyncReport, id: &str) -> Result<(), Failure> {
    match report.broken.iter().find(|(b, _)| b == id) {
        Some((_, reason)) => Err(Failure::usage(format!("plugin '{id}': {reason}"))
            .note(format!("'{id}' is disabled until it can be read again"))),
        None => Ok(()),
    }
}

/// The scope as one line.
pub(crate) fn describe_scope(scope: &Scope) -> String {
    let users = if scope.all_users {
        "all".to_owned()
    } else if scope.users.is_empty() {
        "none".to_owned()
    } else {
        scope.users.join(", ")
    };
    let libraries = if scope.all_libraries {
        "all".to_owned()
    } else if scope.libraries.is_empty() {
        "none".to_owned()
    } else {
        scope
            .libraries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "users: {users}; libraries: {libraries}; {}",
        if scope.allow_write_access {
            "read-write"
        } else {
            "read-only"
        }
    )
}

/// Resolves `--users` (names or ids) to user ids, against the catalog's users.
fn resolve_users(manager: &Manager, given: &[String]) -> Result<Vec<String>, Failure> {
    let given: Vec<&str> = given
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    let Some(provider) = manager.app_data().users.clone() else {
        return Ok(given.into_iter().map(str::to_owned).collect());
    };
    let users = provider
        .users()
        .map_err(|e| Failure::usage(format!("cannot list the users: {e}")))?;
    let mut ids = Vec::new();
    for name in given {
        match users.iter().find(|u| u.id == name || u.user_name == name) {
            Some(user) if !ids.contains(&user.id) => ids.push(user.id.clone()),
            Some(_) => {}
            None => {
                let known: Vec<String> = users
                    .iter()
                    .map(|u| format!("{} ({})", u.user_name, u.id))
                    .collect();
                return Err(Failure::usage(format!("--users: no user '{name}'"))
                    .note(format!("the users are: {}", known.join(", "))));
            }
        }
    }
    Ok(ids)
}

/// Parses and checks `--libraries` against the catalog's libraries.
fn resolve_libraries(manager: &Manager, given: &[String]) -> Result<Vec<i32>, Failure> {
    let mut ids = Vec::new();
    for text in given.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let id: i32 = text.parse().map_err(|_| {
            Failure::usage(format!(
                "--libraries: '{text}' is not a library id (a number)"
            ))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if let Some(provider) = manager.app_data().libraries.clone() {
        let libraries = provider
            .libraries()
            .map_err(|e| Failure::usage(format!("cannot list the libraries: {e}")))?;
        if let Some(unknown) = ids
            .iter()
            .find(|id| !libraries.iter().any(|l| l.id == **id))
        {
            let known: Vec<String> = libraries
                .iter()
                .map(|l| format!("{} ({})", l.id, l.name))
                .collect();
            return Err(Failure::usage(format!("--libraries: no library {unknown}"))
                .note(format!("the libraries are: {}", known.join(", "))));
        }
    }
    Ok(ids)
}

/// Runs `ndp scope`.
pub(crate) fn scope(args: &ScopeArgs, globals: &Globals) -> Result<(), Failure> {
    let changes = args.users.is_some()
        || args.all_users
        || args.libraries.is_some()
        || args.all_libraries
        || args.write_access
        || args.read_only;
    let options = if changes {
        HostOptions::loading()
    } else {
        HostOptions::default()
    };
    let manager = host::manager(globals, &options)?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let id = &args.id;
    let before = status(&manager, id, globals)?;
    if !changes {
        let text = format!("{id}: {}\n", describe_scope(&before.scope));
        if globals.json {
            return output::print_json(&json!({"id": id, "scope": before.scope}));
        }
        return output::print_text(&text);
    }
    let mut scope = before.scope.clone();
    if let Some(users) = &args.users {
        scope.all_users = false;
        scope.users = resolve_users(&manager, users)?;
    }
    if args.all_users {
        scope.all_users = true;
        scope.users.clear();
    }
    if let Some(libraries) = &args.libraries {
        scope.all_libraries = false;
        scope.libraries = resolve_libraries(&manager, libraries)?;
    }
    if args.all_libraries {
        scope.all_libraries = true;
        scope.libraries.clear();
    }
    if args.write_access {
        scope.allow_write_access = true;
    }
    if args.read_only {
        scope.allow_write_access = false;
    }
    let result = progress::spin(&format!("saving the scope of {id}"), || {
        manager.set_scope(id, scope)
    });
    result.map_err(|e| host::failure(e, globals))?;
    let after = status(&manager, id, globals)?;
    let mut text = format!("{id}: {}\n", describe_scope(&after.scope));
    if before.enabled && !after.enabled {
        let _ = writeln!(
            text,
            "the plugin needs some users or libraries allowed, so it is now disabled"
        );
    } else if after.enabled {
        let _ = writeln!(text, "the plugin loads with the new scope");
    }
    report(globals, id, "scope-saved", Some(&after), &text)
}

/// Runs `ndp dev`.
pub(crate) fn dev(args: &DevArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::loading())?;
    manager.sync().map_err(|e| host::failure(e, globals))?;
    let requested = args.id.clone().or_else(|| {
        std::fs::canonicalize(&args.folder)
            .ok()
            .and_then(|f| f.file_name().and_then(|n| n.to_str()).map(str::to_owned))
    });
    let existed = requested
        .as_deref()
        .and_then(|id| manager.status(id).ok())
        .is_some_and(|s| s.dev.is_some());
    let id = progress::spin("reading the development folder", || {
        manager.link_dev(&args.folder, args.id.as_deref(), args.wasm.as_deref())
    })
    .map_err(|e| host::failure(e, globals))?;
    let after = status(&manager, &id, globals)?;
    let folder = after
        .dev
        .as_ref()
        .map_or_else(|| args.folder.clone(), |d| d.folder.clone());
    let module = match after.dev.as_ref().and_then(|d| d.wasm.clone()) {
        Some(wasm) => wasm.display().to_string(),
        None => nd_manager::dev_wasm(&folder, &id).map_or_else(|e| e, |p| p.display().to_string()),
    };
    let mut text = format!(
        "{} development folder {} as plugin '{id}' ({} {})\nmodule: {module}\n",
        if existed { "relinked" } else { "linked" },
        folder.display(),
        after.name,
        after.version
    );
    if after.enabled {
        let _ = writeln!(text, "it is enabled");
    } else {
        let _ = writeln!(text, "it is disabled: {}", enable_hint(globals, &id));
    }
    let _ = writeln!(
        text,
        "after a rebuild, `{}` picks up the new module",
        globals.hint(&format!("refresh {id}"))
    );
    report(
        globals,
        &id,
        if existed { "relinked" } else { "linked" },
        Some(&after),
        &text,
    )
}

/// Runs `ndp refresh`.
pub(crate) fn refresh(args: &IdArgs, globals: &Globals) -> Result<(), Failure> {
    let manager = host::manager(globals, &HostOptions::loading())?;
    let id = &args.id;
    let before = manager.status(id).ok();
    let synced = progress::spin(&format!("reading {id} again"), || manager.refresh(id))
        .map_err(|e| host::failure(e, globals))?;
    broken_failure(&synced, id)?;
    let after = manager.status(id).ok();
    let has = |list: &[String]| list.iter().any(|x| x == id);
    let (result, text) = if has(&synced.removed) {
        (
            "removed",
            format!("the package of '{id}' is gone: the plugin is forgotten\n"),
        )
    } else if has(&synced.added) {
        (
            "installed",
            format!(
                "recorded the new package of '{id}'; it is disabled: {}\n",
                enable_hint(globals, id)
            ),
        )
    } else if has(&synced.changed) {
        let after = after.as_ref();
        let enabled = after.is_some_and(|s| s.enabled);
        let version = after.map_or_else(String::new, |s| format!(" ({} {})", s.name, s.version));
        let text = match (before.as_ref().and_then(|b| b.dev.as_ref()), enabled) {
            (Some(_), true) => {
                format!("picked up the new build of '{id}'{version}; it is loaded and enabled\n")
            }
            (Some(_), false) => format!(
                "picked up the new build of '{id}'{version}; it is disabled: {}\n",
                enable_hint(globals, id)
            ),
            (None, _) => format!(
                "the package of '{id}' changed{version}; as Navidrome does, it is now disabled: \
                 {}\n",
                enable_hint(globals, id)
            ),
        };
        ("refreshed", text)
    } else {
        ("unchanged", format!("'{id}' is unchanged\n"))
    };
    report(globals, id, result, after.as_ref(), &text)
}
