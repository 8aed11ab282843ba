//! The compute unit's modules: registering them (raw wasm known by its hash, or a signed module
//! item known by its item id) and finding the compiled module a process runs on.
//!
//! A module item is loaded with the [`aos_vm::ModuleOptions`] its tags give
//! ([`crate::module::options`]), the same check the MU made before storing it; a module known by
//! its hash runs under the runtime's own limits, as it always has, so stores written before module
//! items replay exactly as before.

use std::sync::Arc;

use super::{ComputeUnit, CuError};
use crate::message::{DataItem, b64};
use crate::module::{self, ModuleItemError, ModuleMeta};
use crate::store;

/// A compiled module and how it presents itself.
#[derive(Clone)]
pub(super) struct Loaded {
    pub(super) module: aos_vm::Module,
    pub(super) meta: Arc<ModuleMeta>,
}

impl ComputeUnit {
    /// Registers module bytes (stored durably) and returns the module id: the sha256 of the wasm.
    pub fn add_module(&self, bytes: &[u8]) -> Result<String, CuError> {
        let module = self
            .inner
            .vm
            .load_module(bytes)
            .map_err(|e| CuError::Vm(e.to_string()))?;
        let id = module.id().to_string();
        let raw = b64::decode_32(&id).ok_or_else(|| CuError::Vm("module id".into()))?;
        if self.inner.store.module(&raw)?.is_none() {
            self.inner.store.put_module(&raw, bytes)?;
        }
        let meta = Arc::new(ModuleMeta::of_hash(&id, module.format()));
        self.remember(&id, Loaded { module, meta });
        Ok(id)
    }

    /// Registers a module item (its signature checked by the caller): its tags must describe a
    /// format this node runs, with limits that parse, and its wasm must load under them. Stored
    /// durably before this returns; nothing is stored when any check fails. Returns the item id.
    pub async fn add_module_item(&self, item: &DataItem) -> Result<String, CuError> {
        let loaded = self.compile_item(item.clone()).await?;
        let id = item.id();
        let raw = item.id_bytes();
        let bytes = item.to_bytes();
        self.inner
            .writer
            .write(move |txn| store::put_module_item(txn, &raw, &bytes))
            .await?;
        self.remember(&id, loaded);
        Ok(id)
    }

    /// Whether the module with this id (an item id or a wasm hash) is on this node.
    pub fn has_module(&self, id: &str) -> Result<bool, CuError> {
        if self.cached(id).is_some() {
            return Ok(true);
        }
        let Some(raw) = b64::decode_32(id) else {
            return Ok(false);
        };
        Ok(self.inner.store.module_item(&raw)?.is_some()
            || self.inner.store.module(&raw)?.is_some())
    }

    /// The id, owner and tags of a module on this node: what `/graphql` answers for it and what
    /// a process sees as `ao.env.Module`. A module item's come from the item, uncompiled; a
    /// module known by hash is loaded, since only its wasm tells its format.
    pub fn module_meta(&self, id: &str) -> Result<Option<Arc<ModuleMeta>>, CuError> {
        if let Some(loaded) = self.cached(id) {
            return Ok(Some(loaded.meta));
        }
        let Some(raw) = b64::decode_32(id) else {
            return Ok(None);
        };
        if let Some(bytes) = self.inner.store.module_item(&raw)? {
            let item = stored_item(id, &bytes)?;
            return Ok(Some(Arc::new(ModuleMeta::of_item(&item))));
        }
        if self.inner.store.module(&raw)?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.loaded(id)?.meta))
    }

    /// The compiled module with this id, loading it from the store on first use.
    pub(super) fn module(&self, id: &str) -> Result<aos_vm::Module, CuError> {
        Ok(self.loaded(id)?.module)
    }

    pub(super) fn loaded(&self, id: &str) -> Result<Loaded, CuError> {
        if let Some(loaded) = self.cached(id) {
            return Ok(loaded);
        }
        let raw = b64::decode_32(id).ok_or_else(|| CuError::UnknownModule(id.to_owned()))?;
        if let Some(bytes) = self.inner.store.module_item(&raw)? {
            let item = stored_item(id, &bytes)?;
            let loaded = self.load_item(&item)?;
            self.remember(id, loaded.clone());
            return Ok(loaded);
        }
        let bytes = self
            .inner
            .store
            .module(&raw)?
            .ok_or_else(|| CuError::UnknownModule(id.to_owned()))?;
        self.add_module(&bytes)?;
        self.cached(id)
            .ok_or_else(|| CuError::UnknownModule(id.to_owned()))
    }

    /// [`Self::load_item`] on a blocking thread: compiling a large module takes a while.
    async fn compile_item(&self, item: DataItem) -> Result<Loaded, CuError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.load_item(&item))
            .await
            .map_err(|e| CuError::Vm(e.to_string()))?
    }

    fn load_item(&self, item: &DataItem) -> Result<Loaded, CuError> {
        let options = module::options(item)?;
        let module = self
            .inner
            .vm
            .load_module_with(item.data(), &options)
            .map_err(|e| ModuleItemError::BadWasm {
                format: item.tag("Module-Format").unwrap_or_default().to_owned(),
                why: e.to_string(),
            })?;
        Ok(Loaded {
            module,
            meta: Arc::new(ModuleMeta::of_item(item)),
        })
    }

    fn cached(&self, id: &str) -> Option<Loaded> {
        self.inner
            .modules
            .lock()
            .expect("modules lock")
            .get(id)
            .cloned()
    }

    fn remember(&self, id: &str, loaded: Loaded) {
        self.inner
            .modules
            .lock()
            .expect("modules lock")
            .insert(id.to_owned(), loaded);
    }
}

fn stored_item(id: &str, bytes: &[u8]) -> Result<DataItem, CuError> {
    DataItem::from_bytes(bytes)
        .map_err(|e| store::StoreError::Corrupt(format!("module item {id}: {e}")).into())
}
