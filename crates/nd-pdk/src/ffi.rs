//! The boundary with the host. In a wasm build these are Extism's `extism:host/env` calls
//! (through extism-pdk) and the `extism:host/user` imports; natively they go to the
//! thread-local stand-in of [`crate::testing`], so that no native binary references an
//! import.

use crate::error::{Error, Result};

/// Declares a private wrapper `fn $rust(request: &[u8]) -> Result<Vec<u8>>` around the
/// Navidrome host function `$wire` (module `extism:host/user`, type `(i64) -> i64`, spec
/// §2.4). Each wrapper holds its own import, so a plugin imports exactly the host functions
/// it calls: Navidrome refuses to load a plugin importing a function of a service its
/// manifest does not grant.
macro_rules! import {
    ($(fn $rust:ident = $wire:literal;)+) => {$(
        fn $rust(request: &[u8]) -> $crate::Result<Vec<u8>> {
            #[cfg(target_family = "wasm")]
            {
                #[link(wasm_import_module = "extism:host/user")]
                unsafe extern "C" {
                    #[link_name = $wire]
                    fn import(request: u64) -> u64;
                }
                // SAFETY: a Navidrome host function takes the offset of an Extism block
                // holding the request and returns the offset of a new block (or 0).
                $crate::ffi::call_host($wire, request, |offset| unsafe { import(offset) })
            }
            #[cfg(not(target_family = "wasm"))]
            {
                $crate::testing::dispatch($wire, request)
            }
        }
    )+};
}
pub(crate) use import;

#[cfg(target_family = "wasm")]
mod imp {
    use extism_pdk::{LogLevel, Memory};

    use crate::error::{Error, Result};
    use crate::log::Level;

    /// Writes `request` into a block, calls `import` with its offset, and returns the
    /// response block's bytes, freeing both blocks.
    pub(crate) fn call_host(
        function: &'static str,
        request: &[u8],
        import: impl FnOnce(u64) -> u64,
    ) -> Result<Vec<u8>> {
        let block = Memory::from_bytes(request)
            .map_err(|e| Error::call(function, format!("cannot allocate the request: {e}")))?;
        let offset = import(block.offset());
        block.free();
        if offset == 0 {
            return Ok(Vec::new());
        }
        let response = Memory::find(offset).ok_or_else(|| {
            Error::call(
                function,
                format!("the response offset {offset} is not a block"),
            )
        })?;
        let bytes = response.to_vec();
        response.free();
        Ok(bytes)
    }

    pub(crate) fn input() -> Vec<u8> {
        extism_pdk::input_bytes()
    }

    pub(crate) fn set_output(bytes: &[u8]) -> Result<()> {
        extism_pdk::output(bytes).map_err(|e| Error::msg(format!("cannot set the output: {e}")))
    }

    pub(crate) fn set_error(message: &str) {
        if let Ok(block) = Memory::from_bytes(message) {
            // SAFETY: `block` is a live block holding UTF-8 text.
            unsafe { extism_pdk::extism::error_set(block.offset()) };
        }
    }

    pub(crate) fn log(level: Level, message: &str) {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        extism_pdk::log!(level, "{}", message);
    }

    pub(crate) fn log_enabled(level: Level) -> bool {
        // SAFETY: an Extism env function without arguments.
        let host = unsafe { extism_pdk::extism::get_log_level() };
        host != i32::MAX && level as i32 >= host
    }

    pub(crate) fn extism_config(key: &str) -> Result<Option<String>> {
        let fail = |e: &dyn std::fmt::Display| Error::msg(format!("config key {key:?}: {e}"));
        match extism_pdk::config::get_memory(key).map_err(|e| fail(&e))? {
            None => Ok(None),
            Some(block) => String::from_utf8(block.to_vec())
                .map(Some)
                .map_err(|e| fail(&e)),
        }
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use crate::error::Result;
    use crate::log::Level;
    use crate::testing;

    pub(crate) fn input() -> Vec<u8> {
        testing::take_input()
    }

    pub(crate) fn set_output(bytes: &[u8]) -> Result<()> {
        testing::store_output(bytes);
        Ok(())
    }

    pub(crate) fn set_error(message: &str) {
        testing::store_error(message);
    }

    pub(crate) fn log(level: Level, message: &str) {
        testing::store_log(level, message);
    }

    pub(crate) fn log_enabled(_level: Level) -> bool {
        true
    }

    pub(crate) fn extism_config(key: &str) -> Result<Option<String>> {
        testing::extism_config(key)
    }
}

#[cfg(target_family = "wasm")]
pub(crate) use imp::call_host;
pub(crate) use imp::{extism_config, input, log, log_enabled, set_error, set_output};

/// Runs an export body: reads the input, calls `body`, and reports the outcome the way the
/// host reads it (spec §2.3): output and `0`; `-2` and no message for
/// [`Error::not_implemented`]; the error's text through `error_set` and `-1` otherwise.
pub(crate) fn run_export(body: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> i32 {
    let input = input();
    let outcome = body(&input).and_then(|output| {
        if output.is_empty() {
            Ok(())
        } else {
            set_output(&output)
        }
    });
    match outcome {
        Ok(()) => 0,
        Err(e) if e.is_not_implemented() => -2,
        Err(e) => {
            set_error(&e.to_string());
            -1
        }
    }
}

/// Decodes an export's JSON input, naming the export when it does not fit.
pub(crate) fn decode_input<T: serde::de::DeserializeOwned>(
    export: &str,
    input: &[u8],
) -> Result<T> {
    let input = if input.is_empty() { b"{}" } else { input };
    serde_json::from_slice(input).map_err(|e| Error::msg(format!("{export}: invalid input: {e}")))
}

/// Encodes an export's JSON output.
pub(crate) fn encode_output(export: &str, value: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Error::msg(format!("{export}: cannot encode the output: {e}")))
}
