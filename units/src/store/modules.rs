//! The module tables: modules known by the sha256 of their wasm (`MODULES`: the node's built-in
//! module, and every module of stores older than module items) and module items known by their
//! item id (`MODULE_ITEMS`: the signed item exactly as received, wasm included, so its owner's
//! signature can be checked again and its tags answered as signed).
//!
//! The two id spaces never meet: an item id hashes a signature, a module hash hashes wasm.

use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

use super::{MODULES, Store, StoreError};

/// Module item id → the signed module item.
pub(crate) const MODULE_ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("module_items");

/// Creates the module tables (at open, so readers never meet a missing one).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(MODULES)?;
    txn.open_table(MODULE_ITEMS)?;
    Ok(())
}

/// Stores a module item in the writer's transaction; storing the same id again changes nothing.
pub(crate) fn put_item(
    txn: &WriteTransaction,
    id: &[u8; 32],
    item: &[u8],
) -> Result<(), StoreError> {
    let mut table = txn.open_table(MODULE_ITEMS)?;
    if redb::ReadableTable::get(&table, &id[..])?.is_none() {
        table.insert(&id[..], item)?;
    }
    Ok(())
}

impl Store {
    /// The wasm of the module whose sha256 is `id`.
    pub fn module(&self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(MODULES)?;
        Ok(redb::ReadableTable::get(&table, &id[..])?.map(|v| v.value().to_vec()))
    }

    pub fn put_module(&self, id: &[u8; 32], bytes: &[u8]) -> Result<(), StoreError> {
        let txn = self.db().begin_write()?;
        txn.open_table(MODULES)?.insert(&id[..], bytes)?;
        txn.commit()?;
        Ok(())
    }

    /// The signed module item with this id.
    pub fn module_item(&self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(MODULE_ITEMS)?;
        Ok(redb::ReadableTable::get(&table, &id[..])?.map(|v| v.value().to_vec()))
    }
}
