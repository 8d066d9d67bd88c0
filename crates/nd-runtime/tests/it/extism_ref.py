#!/usr/bin/env python3
"""Reference side of the differential test (`differential.rs`): runs fixture cases on the
official Extism runtime (PyPI `extism` 1.1.1, which loads libextism 1.41 from `extism-sys`,
the Wasmtime-based runtime) and reports what it observed.

stdin: a JSON list of cases, each
    {"name": str, "wasm": path, "export": str, "input_b64": str, "config": {str: str},
     "wasi": bool, "host_functions": bool,
     "max_pages": int|null, "timeout_ms": int|null, "allowed_paths": {host: guest}}
stdout: a JSON list of results, one per case, in order, each
    {"name": str, "class": "ok"|"error", "output_b64": str, "error": str|null, "rc": int|null,
     "cause": str|null, "load_error": str|null, "notified": [int], "host_errors": [str]}

- Every case gets a FRESH `Plugin` (a new instance: no guest state, no vars survive), as ndp
  makes a fresh instance per call. Modules are compiled once per (wasm, wasi, host functions,
  limits, allowed_paths) with `CompiledPlugin`; config is set per plugin (`extism_plugin_config`).
- `rc` is the return value of libextism's `extism_plugin_call` (the export's i32, the WASI exit
  code, 134 for a trap, -1 for a runtime error) and `error` is `extism_plugin_error`: the Python
  SDK's `Plugin.call` only turns these into `extism.Error(text)` / "Error code: N", so the driver
  calls the C API directly, through the SDK's own cffi handle.
- `extism_plugin_error` shows only the outermost context of a runtime error ("error while
  executing at wasm backtrace: ..."). The root cause (a host function's message, the wasm trap)
  is only in libextism's error log, so the driver captures that log (`set_log_custom`) and
  reports the last "Caused by" line as `cause`.
- Host functions (fixture `hostfns`): the same deterministic behaviour as the Rust side of the
  test; see HOST FUNCTIONS below. A Python exception inside one is caught and reported in
  `host_errors` (cffi would otherwise print it and return zeros).
"""

import os

# Before libextism is loaded: no Rust backtraces in error texts and logs (they are slow and
# would only be noise), and WASI stdout/stderr stay closed (Extism's default), so a plugin's
# output can never mix with the JSON this script prints.
os.environ["RUST_BACKTRACE"] = "0"
os.environ["RUST_LIB_BACKTRACE"] = "0"
os.environ.pop("EXTISM_ENABLE_WASI_OUTPUT", None)

import base64  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402

import extism  # noqa: E402
from extism import ValType  # noqa: E402
from extism.extism import CompiledPlugin  # noqa: E402 - not re-exported by the package
from extism_sys import ffi, lib  # noqa: E402

I32, I64, F64 = ValType.I32, ValType.I64, ValType.F64

# Per-case observations of the host functions.
NOTIFIED = []
HOST_ERRORS = []


def _read(plugin, handle):
    """Bytes of the block at `handle` (handle 0 reads as empty)."""
    if handle == 0:
        return b""
    return plugin.input_bytes(extism.Val(I64, handle))


def _write(plugin, data):
    """A new block holding `data`; empty data is handle 0, as in Extism's `memory_new`."""
    if not data:
        return 0
    mem = plugin.alloc(len(data))
    plugin.memory(mem)[:] = data
    return mem.offset


_FIELD = {I32: "i32", I64: "i64", F64: "f64"}


def host_function(name, params, results, namespace=None):
    """Registers `f(plugin, *args) -> [results]` as a host function with an exact wasm type.

    The SDK's own `host_fn` wrapper cannot return an f64 (its `_convert_output` compares an int
    with an enum and raises "Unsupported return type: 3"), so values are moved here, straight
    from and into the C `ExtismVal`s. An exception is recorded in HOST_ERRORS and the results
    are left zero (cffi would otherwise print it and carry on the same way, unnoticed).
    """

    def decorate(f):
        @ffi.callback(
            "void(ExtismCurrentPlugin*, const ExtismVal*, ExtismSize, ExtismVal*, ExtismSize, void*)"
        )
        def callback(current, inputs, n_inputs, outputs, n_outputs, _user_data):
            try:
                args = [getattr(inputs[i].v, _FIELD[t]) for i, t in enumerate(params)]
                values = f(extism.CurrentPlugin(current), *args)
                for i, (t, value) in enumerate(zip(results, values)):
                    setattr(outputs[i].v, _FIELD[t], value)
            except Exception as e:  # noqa: BLE001 - reported, never swallowed silently
                HOST_ERRORS.append(f"{name}: {type(e).__name__}: {e}")

        function = extism.Function(namespace, name, params, results, callback)
        function.keep_alive = callback
        return function

    return decorate


# HOST FUNCTIONS: keep in sync with `DiffHost` in differential.rs.


@host_function("nd_json", [I64], [I64])
def nd_json(plugin, request):
    # The request bytes, wrapped: exercises reading the argument (handle 0 reads as empty).
    return [_write(plugin, b"nd_json(" + _read(plugin, request) + b")")]


@host_function("call_export", [I64], [I64])
def call_export(plugin, name):
    # Extism cannot re-enter a plugin, so `reenter` is left out of the differential. This is
    # here only so that `hostfns` links: it returns its argument.
    return [_write(plugin, _read(plugin, name))]


@host_function("add_i32", [I32, I32], [I32])
def add_i32(plugin, a, b):
    s = (a + b) & 0xFFFFFFFF
    return [s - (1 << 32) if s >= (1 << 31) else s]


@host_function("mul_f64", [F64, F64], [F64])
def mul_f64(plugin, a, b):
    return [a * b]


@host_function("notify", [I64], [])
def notify(plugin, value):
    NOTIFIED.append(value)
    return []


@host_function("pair", [I64, I64], [I64])
def pair(plugin, a, b):
    return [_write(plugin, _read(plugin, a) + _read(plugin, b))]


@host_function("upper", [I64], [I64], namespace="ndtest:host")
def upper(plugin, text):
    # ASCII only, like Rust's `to_ascii_uppercase`.
    return [_write(plugin, _read(plugin, text).upper())]


HOST_FUNCTIONS = [nd_json, call_export, add_i32, mul_f64, notify, pair, upper]

# libextism's error log: the only place that shows an error's root cause.
LOG_LINES = []
LOGGER = extism.set_log_custom(LOG_LINES.append, "error")
PLUGIN_FIELD = re.compile(r'\s*plugin="[^"]*"\s*$')


def root_cause():
    """The last "Caused by" entry of the call's error, from the drained log, or None."""
    LOGGER.drain()
    cause = None
    for line in LOG_LINES:
        marker = "encountered an error: "
        at = line.find(marker)
        if at < 0:
            continue
        text = PLUGIN_FIELD.sub("", line[at + len(marker):])
        text = text.split("\n\nStack backtrace:", 1)[0]
        parts = text.split("\n\nCaused by:\n", 1)
        if len(parts) < 2:
            continue
        causes = [c.strip() for c in parts[1].split("\n") if c.strip()]
        if not causes:
            continue
        last = causes[-1]
        if len(causes) > 1:  # anyhow numbers the entries when there are several
            last = re.sub(r"^\d+: ", "", last)
        cause = last
    LOG_LINES.clear()
    return cause


COMPILED = {}


def compiled(case):
    key = (case["wasm"], case["wasi"], case["host_functions"], case.get("max_pages"),
           case.get("timeout_ms"), json.dumps(case.get("allowed_paths") or {}, sort_keys=True))
    if key not in COMPILED:
        manifest = {"wasm": [{"path": case["wasm"]}]}
        if case.get("max_pages") is not None:
            manifest["memory"] = {"max_pages": case["max_pages"]}
        if case.get("timeout_ms") is not None:
            manifest["timeout_ms"] = case["timeout_ms"]
        if case.get("allowed_paths"):
            manifest["allowed_paths"] = case["allowed_paths"]
        functions = HOST_FUNCTIONS if case["host_functions"] else []
        COMPILED[key] = CompiledPlugin(manifest, wasi=case["wasi"], functions=functions)
    return COMPILED[key]


def run(case):
    NOTIFIED.clear()
    HOST_ERRORS.clear()
    LOGGER.drain()
    LOG_LINES.clear()
    result = {"name": case["name"], "class": "error", "output_b64": "", "error": None,
              "rc": None, "cause": None, "load_error": None}
    try:
        plugin = extism.Plugin(compiled(case), config=case.get("config") or None)
    except extism.Error as e:
        result["load_error"] = str(e)
    else:
        data = base64.b64decode(case["input_b64"])
        rc = lib.extism_plugin_call(plugin.plugin, case["export"].encode(), data, len(data))
        err = lib.extism_plugin_error(plugin.plugin)
        err = None if err == ffi.NULL else ffi.string(err).decode("utf-8", "replace")
        n = lib.extism_plugin_output_length(plugin.plugin)
        out = bytes(ffi.buffer(lib.extism_plugin_output_data(plugin.plugin), n)) if n else b""
        del plugin
        result.update(
            {
                # `Plugin.call`'s rule: an error text (even empty) or a non-zero rc is an error.
                "class": "ok" if err is None and rc == 0 else "error",
                "output_b64": base64.b64encode(out).decode(),
                "error": err,
                "rc": rc,
                "cause": root_cause(),
            }
        )
    result["notified"] = list(NOTIFIED)
    result["host_errors"] = list(HOST_ERRORS)
    return result


def main():
    cases = json.load(sys.stdin)
    results = [run(case) for case in cases]
    sys.stdout.write(json.dumps(results))
    sys.stdout.write("\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
