//! Reading and patching built wasm modules: the import and export lists (with function
//! signatures) for `index.json` and `wasm-info`, and the one post-link fix-up the fixtures need,
//! renaming `nd_export_<name>` exports to `<name>` (see [`strip_export_prefix`]).

use anyhow::{Context, bail};
use wasmparser::{ExternalKind, FuncType, Parser, Payload, TypeRef};

/// Exports whose names start with this are renamed to the rest of the name after linking.
/// It lets a fixture export a name that is also a libc symbol, such as `exit`.
pub const RENAME_PREFIX: &str = "nd_export_";

/// An import or an export. `kind` is the signature for a function, written like
/// `(i64, i64) -> i64`, and otherwise `memory`, `global`, `table` or `tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub module: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Default)]
pub struct ModuleInfo {
    /// In declaration order; `module` is set.
    pub imports: Vec<Item>,
    /// In declaration order; `module` is empty.
    pub exports: Vec<Item>,
}

impl ModuleInfo {
    pub fn parse(bytes: &[u8]) -> anyhow::Result<Self> {
        let mut info = Self::default();
        let mut types: Vec<FuncType> = Vec::new();
        // Type index of every function, imported ones first (the function index space).
        let mut funcs: Vec<u32> = Vec::new();
        let mut exports = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        types.push(ty?);
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let kind = match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                funcs.push(t);
                                signature(&types, t)?
                            }
                            TypeRef::Memory(_) => "memory".to_string(),
                            TypeRef::Global(_) => "global".to_string(),
                            TypeRef::Table(_) => "table".to_string(),
                            TypeRef::Tag(_) => "tag".to_string(),
                        };
                        info.imports.push(Item {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            kind,
                        });
                    }
                }
                Payload::FunctionSection(reader) => {
                    for t in reader {
                        funcs.push(t?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                _ => {}
            }
        }
        // The export section comes after the function section, so resolve signatures last.
        for (name, kind, index) in exports {
            let kind = match kind {
                ExternalKind::Func | ExternalKind::FuncExact => {
                    let t = funcs.get(index as usize).with_context(|| {
                        format!("export `{name}` names function {index}, which does not exist")
                    })?;
                    signature(&types, *t)?
                }
                ExternalKind::Memory => "memory".to_string(),
                ExternalKind::Global => "global".to_string(),
                ExternalKind::Table => "table".to_string(),
                ExternalKind::Tag => "tag".to_string(),
            };
            info.exports.push(Item {
                module: String::new(),
                name,
                kind,
            });
        }
        Ok(info)
    }

    /// Names of the exported functions, sorted.
    pub fn function_exports(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .exports
            .iter()
            .filter(|e| e.kind.starts_with('('))
            .map(|e| e.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }
}

fn signature(types: &[FuncType], index: u32) -> anyhow::Result<String> {
    let ty = types
        .get(index as usize)
        .with_context(|| format!("no function type {index}"))?;
    let list = |tys: &[wasmparser::ValType]| {
        tys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(format!(
        "({}) -> {}",
        list(ty.params()),
        match ty.results() {
            [] => "()".to_string(),
            [one] => one.to_string(),
            many => format!("({})", list(many)),
        }
    ))
}

/// Renames every export `nd_export_<name>` to `<name>`, rewriting only the export section, and
/// returns the new module and the new names. Fails if `<name>` is already exported.
///
/// Rust gives a wasm export the name of its symbol, so an export cannot be named like a libc
/// function that the link also pulls in (wasi-libc's `exit`); this step is the way around that.
pub fn strip_export_prefix(module: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    if module.len() < 8 || module[..4] != *b"\0asm" {
        bail!("not a wasm module");
    }
    let mut out = module[..8].to_vec();
    let mut renamed = Vec::new();
    let mut pos = 8;
    while pos < module.len() {
        let id = module[pos];
        let mut cursor = pos + 1;
        let size = read_u32(module, &mut cursor)? as usize;
        let end = cursor.checked_add(size).filter(|e| *e <= module.len());
        let end = end.with_context(|| format!("section at offset {pos} runs past the end"))?;
        if id == 7 {
            let (section, names) = rename_exports(&module[cursor..end])?;
            out.push(7);
            write_u32(&mut out, u32::try_from(section.len())?);
            out.extend_from_slice(&section);
            renamed = names;
        } else {
            out.extend_from_slice(&module[pos..end]);
        }
        pos = end;
    }
    Ok((out, renamed))
}

/// Re-encodes the contents of an export section with the prefix stripped from names.
fn rename_exports(contents: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    let mut cursor = 0;
    let count = read_u32(contents, &mut cursor)?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let len = read_u32(contents, &mut cursor)? as usize;
        let name = contents
            .get(cursor..cursor + len)
            .context("export name runs past the end")?;
        let name = std::str::from_utf8(name)
            .context("export name is not UTF-8")?
            .to_string();
        cursor += len;
        let kind = *contents.get(cursor).context("export kind missing")?;
        cursor += 1;
        let index = read_u32(contents, &mut cursor)?;
        entries.push((name, kind, index));
    }
    if cursor != contents.len() {
        bail!(
            "export section has {} trailing bytes",
            contents.len() - cursor
        );
    }
    let mut renamed = Vec::new();
    for i in 0..entries.len() {
        let Some(new) = entries[i].0.strip_prefix(RENAME_PREFIX).map(str::to_string) else {
            continue;
        };
        if new.is_empty() || entries.iter().any(|(name, ..)| *name == new) {
            bail!("cannot rename export `{}` to `{new}`", entries[i].0);
        }
        entries[i].0 = new.clone();
        renamed.push(new);
    }
    let mut out = Vec::new();
    write_u32(&mut out, count);
    for (name, kind, index) in &entries {
        write_u32(&mut out, u32::try_from(name.len())?);
        out.extend_from_slice(name.as_bytes());
        out.push(*kind);
        write_u32(&mut out, *index);
    }
    Ok((out, renamed))
}

fn read_u32(bytes: &[u8], pos: &mut usize) -> anyhow::Result<u32> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos).context("LEB128 number runs past the end")?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value).context("LEB128 number does not fit in u32");
        }
    }
    bail!("LEB128 number is too long")
}

fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests;
