//! Module items arriving at the messenger (`POST /mu` with `Type=Module`).
//!
//! AO's own MU refuses them (its `Type` must be `Process` or `Message`): on AO a module goes to
//! Arweave through a bundler, and CUs fetch it from a gateway. A node has no Arweave behind it, so
//! its MU takes the module item itself, checks it (signature, tags, that the wasm loads under its
//! format) and stores it, answering as AO's MU answers any item it accepted (`202 {id, message}`).
//! From then on the node's gateway route answers the item like a gateway would, and spawns may
//! name it as their `Module`.

use super::{Messenger, MuError};
use crate::message::DataItem;

impl Messenger {
    /// Verifies, checks and stores a module item; returns its id (the module id). Nothing is
    /// stored when any check fails.
    pub async fn add_module(&self, item: &DataItem) -> Result<String, MuError> {
        item.verify().map_err(MuError::BadSignature)?;
        tracing::debug!(module = %item.id(), "module item");
        Ok(self.inner.cu.add_module_item(item).await?)
    }
}
