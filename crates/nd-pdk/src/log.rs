//! Logging to the host's log (Extism's `log_*`; ndp writes them as `nd::plugin` events with
//! the plugin id). The host's level decides what is kept: a line below it is not even
//! formatted. Use the macros [`trace!`](crate::trace), [`debug!`](crate::debug),
//! [`info!`](crate::info), [`warn!`](crate::warn) and [`error!`](crate::error).

/// A log level, as Extism numbers them (trace 0 … error 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `log_trace`.
    Trace,
    /// `log_debug`.
    Debug,
    /// `log_info`.
    Info,
    /// `log_warn`.
    Warn,
    /// `log_error`.
    Error,
}

/// Writes `message` at `level` (dropped by the host when below its level).
pub fn write(level: Level, message: &str) {
    crate::ffi::log(level, message);
}

/// Whether the host keeps lines at `level`; the macros skip formatting when it does not.
pub fn enabled(level: Level) -> bool {
    crate::ffi::log_enabled(level)
}

/// `nd_pdk::info!("walked {} files", n)`: logs at info level.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        if $crate::log::enabled($crate::log::Level::Info) {
            $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)+))
        }
    };
}

/// Logs at trace level, like [`info!`](crate::info).
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => {
        if $crate::log::enabled($crate::log::Level::Trace) {
            $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)+))
        }
    };
}

/// Logs at debug level, like [`info!`](crate::info).
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        if $crate::log::enabled($crate::log::Level::Debug) {
            $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)+))
        }
    };
}

/// Logs at warn level, like [`info!`](crate::info).
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        if $crate::log::enabled($crate::log::Level::Warn) {
            $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)+))
        }
    };
}

/// Logs at error level, like [`info!`](crate::info).
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        if $crate::log::enabled($crate::log::Level::Error) {
            $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)+))
        }
    };
}
