//! WASI preview 1 for plugins (wasmer-wasix): no arguments, no environment, stdin empty,
//! stdout and stderr turned into `tracing` events carrying the plugin id, and only the
//! configured directory mounts, each behind a [`JailFs`].
//!
//! The mount tree is built once per plugin and shared by its instances; it holds no guest
//! state of its own (there is no writable in-memory root), so instances stay independent.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use wasmer::{Extern, Function, FunctionEnv, Imports, Store, Value};
use wasmer_wasix::virtual_fs::{
    self, FileSystem, FsError, MountFileSystem, NullFile, OpenOptionsConfig, VirtualFile,
};
use wasmer_wasix::{WasiEnv, WasiFunctionEnv};

use crate::instance::{CallEnv, Env};
use crate::plugin::Mount;
use crate::runtime::RuntimeInner;

type FsResult<T> = Result<T, FsError>;

/// Per-plugin WASI configuration shared by its instances.
pub(crate) struct WasiSetup {
    fs: Arc<dyn FileSystem + Send + Sync>,
    mounts: Vec<(String, bool)>,
}

const WASI: &str = "wasi_snapshot_preview1";
/// `__WASI_ERRNO_PERM`, what Navidrome's jail answers for a path that leaves its mount.
const ERRNO_PERM: i32 = 63;
/// The fd of wasmer-wasix's virtual root directory (`VIRTUAL_ROOT_FD`).
const VIRTUAL_ROOT_FD: i32 = 3;
/// `__WASI_PREOPENTYPE_DIR`; any other tag makes wasi-libc and Go skip the descriptor.
const PREOPENTYPE_DIR: u8 = 0;
/// Longest path the escape check reads; longer ones go to wasix, which refuses them.
const MAX_PATH: u32 = 4096;

/// WASI functions taking paths, with the (pointer, length) argument positions of each path.
const PATH_ARGS: &[(&str, &[(usize, usize)])] = &[
    ("path_open", &[(2, 3)]),
    ("path_create_directory", &[(1, 2)]),
    ("path_filestat_get", &[(2, 3)]),
    ("path_filestat_set_times", &[(2, 3)]),
    ("path_link", &[(2, 3), (5, 6)]),
    ("path_readlink", &[(1, 2)]),
    ("path_remove_directory", &[(1, 2)]),
    ("path_rename", &[(1, 2), (4, 5)]),
    ("path_symlink", &[(3, 4)]),
    ("path_unlink_file", &[(1, 2)]),
];

/// True if `path`, relative to a directory descriptor, stays below it (Go's `filepath.IsLocal`).
fn stays_inside(path: &[u8]) -> bool {
    if path.first() == Some(&b'/') {
        return false;
    }
    let mut depth = 0usize;
    for part in path.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

fn read_guest(env: &Env<'_>, ptr: &Value, len: &Value) -> Option<Vec<u8>> {
    let (Value::I32(ptr), Value::I32(len)) = (ptr, len) else {
        return None;
    };
    let len = *len as u32;
    if len > MAX_PATH {
        return None;
    }
    let memory = env.data().guest_memory.as_ref()?;
    let mut buf = vec![0u8; len as usize];
    memory
        .view(env)
        .read(u64::from(*ptr as u32), &mut buf)
        .ok()?;
    Some(buf)
}

/// Adjusts wasmer-wasix's WASI imports to what Extism and Navidrome guests observe:
/// - the virtual root `/` that wasix always opens at fd 3 is not announced as a preopen
///   (unless something is mounted at `/`), so paths outside every mount fail with ENOENT, as
///   on a host that preopens only the mounts;
/// - a path that climbs out of the directory it is resolved against fails with EPERM before
///   wasix resolves it, as in Navidrome's jail (§6.6).
pub(crate) fn adjust_imports(
    store: &mut Store,
    env: &FunctionEnv<CallEnv>,
    imports: &mut Imports,
    root_mounted: bool,
) {
    for (name, paths) in PATH_ARGS {
        let Some(Extern::Function(original)) = imports.get_export(WASI, name) else {
            continue;
        };
        let ty = original.ty(store);
        let wrapped =
            Function::new_with_env(store, env, ty, move |mut e: Env<'_>, args: &[Value]| {
                for &(p, l) in *paths {
                    let (Some(ptr), Some(len)) = (args.get(p), args.get(l)) else {
                        continue;
                    };
                    match read_guest(&e, ptr, len) {
                        Some(path) if !stays_inside(&path) => {
                            return Ok(vec![Value::I32(ERRNO_PERM)]);
                        }
                        None if e.data().guest_memory.is_none() => {
                            return Ok(vec![Value::I32(ERRNO_PERM)]);
                        }
                        _ => {}
                    }
                }
                original.call(&mut e, args).map(Vec::from)
            });
        imports.define(WASI, name, wrapped);
    }
    if root_mounted {
        return;
    }
    let Some(Extern::Function(original)) = imports.get_export(WASI, "fd_prestat_get") else {
        return;
    };
    let ty = original.ty(store);
    let wrapped = Function::new_with_env(store, env, ty, move |mut e: Env<'_>, args: &[Value]| {
        let result = original.call(&mut e, args)?;
        if let ([Value::I32(VIRTUAL_ROOT_FD), Value::I32(buf)], [Value::I32(0)]) = (args, &*result)
            && let Some(memory) = e.data().guest_memory.clone()
        {
            // Tag byte of `__wasi_prestat_t`: not a directory, so the guest skips it.
            let _ = memory
                .view(&e)
                .write(u64::from(*buf as u32), &[PREOPENTYPE_DIR + 1]);
        }
        Ok(Vec::from(result))
    });
    imports.define(WASI, "fd_prestat_get", wrapped);
}

impl WasiSetup {
    pub(crate) fn new(rt: &RuntimeInner, mounts: &[Mount]) -> Result<Self, String> {
        let _tokio = rt.tokio.enter();
        let root = MountFileSystem::new();
        let mut preopens = Vec::new();
        for mount in mounts {
            if !mount.guest.starts_with('/') || !is_local(Path::new(&mount.guest)) {
                return Err(format!(
                    "mount point '{}' must be an absolute path without '..'",
                    mount.guest
                ));
            }
            let host = virtual_fs::host_fs::FileSystem::new(rt.tokio.handle().clone(), &mount.host)
                .map_err(|e| format!("cannot mount '{}': {e}", mount.host.display()))?;
            let jail = JailFs {
                inner: Arc::new(host),
                writable: mount.writable,
            };
            root.mount(&mount.guest, Arc::new(jail)).map_err(|e| {
                format!(
                    "cannot mount '{}' at '{}': {e}",
                    mount.host.display(),
                    mount.guest
                )
            })?;
            preopens.push((mount.guest.clone(), mount.writable));
        }
        Ok(Self {
            fs: Arc::new(root),
            mounts: preopens,
        })
    }

    /// True when a mount sits at `/` itself, which makes the root a real preopen.
    pub(crate) fn root_mounted(&self) -> bool {
        self.mounts.iter().any(|(guest, _)| guest == "/")
    }

    /// Builds the WASI environment of one instance.
    pub(crate) fn build_env(
        &self,
        store: &mut Store,
        plugin_id: &str,
        rt: &RuntimeInner,
    ) -> Result<WasiFunctionEnv, String> {
        let mut builder = WasiEnv::builder(plugin_id)
            .runtime(Arc::clone(&rt.wasi_runtime))
            .fs(Arc::clone(&self.fs))
            .stdin(Box::new(NullFile::default()))
            .stdout(Box::new(LogFile::new(plugin_id, "stdout")))
            .stderr(Box::new(LogFile::new(plugin_id, "stderr")));
        builder.get_args_mut().clear();
        for (guest, writable) in &self.mounts {
            let writable = *writable;
            builder = builder
                .preopen_build(|p| {
                    p.directory(guest)
                        .read(true)
                        .write(writable)
                        .create(writable)
                })
                .map_err(|e| e.to_string())?;
        }
        builder.finalize(store).map_err(|e| e.to_string())
    }
}

/// True if every component of `path` is a plain name (the root and `.` are allowed).
fn is_local(path: &Path) -> bool {
    path.components().all(|c| {
        matches!(
            c,
            Component::RootDir | Component::CurDir | Component::Normal(_)
        )
    })
}

/// A mount that refuses symlink and hard-link creation and any path with `..` (so nothing
/// can leave the mount), and, unless writable, every operation that would change the host.
/// Symlinks that already exist on the host are followed, as in Navidrome (music libraries
/// rely on them).
#[derive(Debug)]
pub(crate) struct JailFs {
    inner: Arc<dyn FileSystem + Send + Sync>,
    writable: bool,
}

impl JailFs {
    fn check(&self, path: &Path) -> FsResult<()> {
        if is_local(path) {
            Ok(())
        } else {
            Err(FsError::PermissionDenied)
        }
    }
    fn check_write(&self, path: &Path) -> FsResult<()> {
        self.check(path)?;
        if self.writable {
            Ok(())
        } else {
            Err(FsError::PermissionDenied)
        }
    }
}

impl virtual_fs::FileOpener for JailFs {
    fn open(
        &self,
        path: &Path,
        conf: &OpenOptionsConfig,
    ) -> FsResult<Box<dyn VirtualFile + Send + Sync + 'static>> {
        if conf.write || conf.append || conf.truncate || conf.create || conf.create_new {
            self.check_write(path)?;
        } else {
            self.check(path)?;
        }
        self.inner
            .new_open_options()
            .options(conf.clone())
            .open(path)
    }
}

impl FileSystem for JailFs {
    fn readlink(&self, path: &Path) -> FsResult<PathBuf> {
        self.check(path)?;
        // Links are followed transparently (see `symlink_metadata`), never exposed.
        Err(FsError::InvalidInput)
    }
    fn read_dir(&self, path: &Path) -> FsResult<virtual_fs::ReadDir> {
        self.check(path)?;
        self.inner.read_dir(path)
    }
    fn create_dir(&self, path: &Path) -> FsResult<()> {
        self.check_write(path)?;
        self.inner.create_dir(path)
    }
    fn create_symlink(&self, _source: &Path, _target: &Path) -> FsResult<()> {
        Err(FsError::PermissionDenied)
    }
    fn hard_link(&self, _source: &Path, _target: &Path) -> FsResult<()> {
        Err(FsError::PermissionDenied)
    }
    fn remove_dir(&self, path: &Path) -> FsResult<()> {
        self.check_write(path)?;
        self.inner.remove_dir(path)
    }
    fn rename<'a>(
        &'a self,
        from: &'a Path,
        to: &'a Path,
    ) -> Pin<Box<dyn Future<Output = FsResult<()>> + Send + 'a>> {
        Box::pin(async move {
            self.check_write(from)?;
            self.check_write(to)?;
            self.inner.rename(from, to).await
        })
    }
    fn metadata(&self, path: &Path) -> FsResult<virtual_fs::Metadata> {
        self.check(path)?;
        self.inner.metadata(path)
    }
    /// Existing symlinks are presented as what they point to, so WASI path resolution (which
    /// refuses to traverse links itself) opens them through the host, which follows them.
    fn symlink_metadata(&self, path: &Path) -> FsResult<virtual_fs::Metadata> {
        self.check(path)?;
        self.inner.metadata(path)
    }
    fn remove_file(&self, path: &Path) -> FsResult<()> {
        self.check_write(path)?;
        self.inner.remove_file(path)
    }
    fn new_open_options(&self) -> virtual_fs::OpenOptions<'_> {
        virtual_fs::OpenOptions::new(self)
    }
}

/// Bytes kept for one unfinished line before it is emitted anyway.
const MAX_LINE: usize = 4096;
/// Bytes of stdout/stderr logged per instance; the rest is dropped with one warning.
const MAX_TOTAL: usize = 1024 * 1024;

/// A write-only file that turns each line into a `tracing` event (`target: "nd::plugin"`).
/// Memory use is bounded whatever the guest prints.
struct LogFile {
    plugin: Arc<str>,
    stream: &'static str,
    line: Vec<u8>,
    total: usize,
}

impl fmt::Debug for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogFile")
            .field("plugin", &self.plugin)
            .field("stream", &self.stream)
            .finish()
    }
}

impl LogFile {
    fn new(plugin: &str, stream: &'static str) -> Self {
        Self {
            plugin: plugin.into(),
            stream,
            line: Vec::new(),
            total: 0,
        }
    }

    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            self.line.clear();
            return;
        }
        if self.stream == "stderr" {
            tracing::warn!(target: "nd::plugin", plugin = &*self.plugin, stream = self.stream, "{text}");
        } else {
            tracing::info!(target: "nd::plugin", plugin = &*self.plugin, stream = self.stream, "{text}");
        }
        self.line.clear();
    }

    fn push(&mut self, buf: &[u8]) {
        for &b in buf {
            if self.total >= MAX_TOTAL {
                if self.total == MAX_TOTAL {
                    self.total += 1;
                    tracing::warn!(target: "nd::plugin", plugin = &*self.plugin, stream = self.stream,
                        "output limit of {MAX_TOTAL} bytes reached; dropping the rest");
                }
                return;
            }
            self.total += 1;
            self.line.push(b);
            if b == b'\n' || self.line.len() >= MAX_LINE {
                self.emit();
            }
        }
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.emit();
        }
    }
}

impl tokio::io::AsyncWrite for LogFile {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncRead for LogFile {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncSeek for LogFile {
    fn start_seek(self: Pin<&mut Self>, _: io::SeekFrom) -> io::Result<()> {
        Ok(())
    }
    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(0))
    }
}

impl VirtualFile for LogFile {
    fn last_accessed(&self) -> u64 {
        0
    }
    fn last_modified(&self) -> u64 {
        0
    }
    fn created_time(&self) -> u64 {
        0
    }
    fn size(&self) -> u64 {
        0
    }
    fn set_len(&mut self, _: u64) -> FsResult<()> {
        Err(FsError::PermissionDenied)
    }
    fn unlink(&mut self) -> FsResult<()> {
        Ok(())
    }
    fn poll_read_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_write_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(8192))
    }
}

#[cfg(test)]
mod tests {
    use super::stays_inside;

    #[test]
    fn local_paths() {
        for ok in ["a", "a/b", "a/../b", "./a", "a/./b/..", "", "."] {
            assert!(stays_inside(ok.as_bytes()), "{ok}");
        }
        for bad in ["..", "../a", "a/../..", "/etc/passwd", "a/../../b"] {
            assert!(!stays_inside(bad.as_bytes()), "{bad}");
        }
    }
}
