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

use wasmer::Store;
use wasmer_wasix::virtual_fs::{
    self, FileSystem, FsError, MountFileSystem, NullFile, OpenOptionsConfig, VirtualFile,
};
use wasmer_wasix::{WasiEnv, WasiFunctionEnv};

use crate::plugin::Mount;
use crate::runtime::RuntimeInner;

type FsResult<T> = Result<T, FsError>;

/// Per-plugin WASI configuration shared by its instances.
pub(crate) struct WasiSetup {
    fs: Arc<dyn FileSystem + Send + Sync>,
    mounts: Vec<(String, bool)>,
}

impl WasiSetup {
    pub(crate) fn new(rt: &RuntimeInner, mounts: &[Mount]) -> Result<Self, String> {
        let _tokio = rt.tokio.enter();
        let root = MountFileSystem::new();
        let mut preopens = Vec::new();
        for mount in mounts {
            if !mount.guest.starts_with('/') || !is_local(Path::new(&mount.guest)) {
                return Err(format!("mount point '{}' must be an absolute path without '..'", mount.guest));
            }
            let host = virtual_fs::host_fs::FileSystem::new(rt.tokio.handle().clone(), &mount.host)
                .map_err(|e| format!("cannot mount '{}': {e}", mount.host.display()))?;
            let jail = JailFs { inner: Arc::new(host), writable: mount.writable };
            root.mount(&mount.guest, Arc::new(jail))
                .map_err(|e| format!("cannot mount '{}' at '{}': {e}", mount.host.display(), mount.guest))?;
            preopens.push((mount.guest.clone(), mount.writable));
        }
        Ok(Self { fs: Arc::new(root), mounts: preopens })
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
                    p.directory(guest).read(true).write(writable).create(writable)
                })
                .map_err(|e| e.to_string())?;
        }
        builder.finalize(store).map_err(|e| e.to_string())
    }
}

/// True if every component of `path` is a plain name (the root and `.` are allowed).
fn is_local(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::RootDir | Component::CurDir | Component::Normal(_)))
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
        if is_local(path) { Ok(()) } else { Err(FsError::PermissionDenied) }
    }
    fn check_write(&self, path: &Path) -> FsResult<()> {
        self.check(path)?;
        if self.writable { Ok(()) } else { Err(FsError::PermissionDenied) }
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
        self.inner.new_open_options().options(conf.clone()).open(path)
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
        f.debug_struct("LogFile").field("plugin", &self.plugin).field("stream", &self.stream).finish()
    }
}

impl LogFile {
    fn new(plugin: &str, stream: &'static str) -> Self {
        Self { plugin: plugin.into(), stream, line: Vec::new(), total: 0 }
    }

    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        let text = text.trim_end_matches(['\n', '\r']);
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
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
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
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut tokio::io::ReadBuf<'_>) -> Poll<io::Result<()>> {
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
