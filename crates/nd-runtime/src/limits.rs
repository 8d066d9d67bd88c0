//! Memory caps. Wasmer decides memory limits in the engine's `Tunables`, which are shared by
//! every store; ndp needs a per-plugin cap and needs to know, after a trap, whether the cap was
//! the cause. Both travel through thread-locals of the thread that instantiates and runs the
//! instance: [`with_memory_limit`] sets the cap for instances created inside it, and every
//! memory created under it is wrapped so that a refused `memory.grow` sets the flag [`watch_oom`] reports.

use std::cell::Cell;
use std::ptr::NonNull;

use wasmer::sys::vm::{
    LinearMemory, MemoryError, MemoryStyle, VMMemory, VMMemoryDefinition, VMSharedMemory, VMTable,
    VMTableDefinition,
};
use wasmer::sys::{BaseTunables, Tunables};
use wasmer::{MemoryType, Pages, TableStyle, TableType};

thread_local! {
    static LIMIT_PAGES: Cell<Option<u32>> = const { Cell::new(None) };
    static GROW_REFUSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with `limit_pages` as the memory cap of instances created on this thread.
pub(crate) fn with_memory_limit<R>(limit_pages: u32, f: impl FnOnce() -> R) -> R {
    let previous = LIMIT_PAGES.with(|l| l.replace(Some(limit_pages)));
    let result = f();
    LIMIT_PAGES.with(|l| l.set(previous));
    result
}

/// Runs `f` and tells whether a memory grow was refused on this thread while it ran. The
/// flag of an enclosing call (a host function re-entering the plugin) is kept intact.
pub(crate) fn watch_oom<R>(f: impl FnOnce() -> R) -> (R, bool) {
    let outer = GROW_REFUSED.with(|g| g.replace(false));
    let result = f();
    let refused = GROW_REFUSED.with(|g| g.replace(outer));
    (result, refused)
}

fn note_refused() {
    GROW_REFUSED.with(|g| g.set(true));
}

/// Tunables that cap every memory at the thread's current limit (see module docs).
#[derive(Default)]
pub(crate) struct LimitingTunables {
    base: BaseTunables,
}

impl std::fmt::Debug for LimitingTunables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LimitingTunables")
    }
}

impl LimitingTunables {
    fn adjust(&self, ty: &MemoryType) -> Result<MemoryType, MemoryError> {
        let Some(limit) = LIMIT_PAGES.with(|l| l.get()) else {
            return Ok(*ty);
        };
        let limit = Pages(limit);
        if ty.minimum > limit {
            note_refused();
            return Err(MemoryError::Generic(format!(
                "memory minimum of {} pages exceeds the limit of {} pages",
                ty.minimum.0, limit.0
            )));
        }
        let mut adjusted = *ty;
        if adjusted.maximum.is_none_or(|max| max > limit) {
            adjusted.maximum = Some(limit);
        }
        Ok(adjusted)
    }
}

impl Tunables for LimitingTunables {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        self.base.memory_style(memory)
    }

    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }

    fn create_host_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
    ) -> Result<VMMemory, MemoryError> {
        let ty = self.adjust(ty)?;
        let memory = self.base.create_host_memory(&ty, style)?;
        Ok(VMMemory(Box::new(Watched(memory))))
    }

    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        let ty = self.adjust(ty)?;
        // SAFETY: forwarded unchanged from the caller, who upholds the contract.
        let memory = unsafe {
            self.base
                .create_vm_memory(&ty, style, vm_definition_location)?
        };
        Ok(VMMemory(Box::new(Watched(memory))))
    }

    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(ty, style)
    }

    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        // SAFETY: forwarded unchanged from the caller, who upholds the contract.
        unsafe { self.base.create_vm_table(ty, style, vm_definition_location) }
    }
}

/// A memory that records refused growth in the thread's flag.
#[derive(Debug)]
struct Watched(VMMemory);

impl LinearMemory for Watched {
    fn ty(&self) -> MemoryType {
        self.0.ty()
    }
    fn size(&self) -> Pages {
        self.0.size()
    }
    fn style(&self) -> MemoryStyle {
        self.0.style()
    }
    fn grow(&mut self, delta: Pages) -> Result<Pages, MemoryError> {
        let result = self.0.grow(delta);
        if result.is_err() {
            note_refused();
        }
        result
    }
    fn grow_at_least(&mut self, min_size: u64) -> Result<(), MemoryError> {
        let result = self.0.grow_at_least(min_size);
        if result.is_err() {
            note_refused();
        }
        result
    }
    fn reset(&mut self) -> Result<(), MemoryError> {
        self.0.reset()
    }
    fn vmmemory(&self) -> NonNull<VMMemoryDefinition> {
        self.0.vmmemory()
    }
    fn try_clone(&self) -> Result<Box<dyn LinearMemory + Send + Sync + 'static>, MemoryError> {
        LinearMemory::try_clone(&self.0)
    }
    fn copy(&self) -> Result<Box<dyn LinearMemory + Send + Sync + 'static>, MemoryError> {
        self.0.copy()
    }
    fn as_shared(&self) -> Result<VMSharedMemory, MemoryError> {
        self.0.as_shared()
    }
}
