//! Module items (DESIGN.md §10): a module is an ANS-104 data item as AO has it — tags
//! `Data-Protocol=ao`, `Type=Module`, `Module-Format`, `Input-Encoding`, `Output-Encoding`, and
//! optionally `Memory-Limit` and `Compute-Limit`; data = the wasm; module id = the item id.
//!
//! This file owns what such an item means: which tags it must carry and the [`ModuleOptions`]
//! they give. The MU checks an item with it before storing; the CU loads a process's module with
//! the same options, so what was checked is what runs. Tags are read from the signed item on
//! every load, never from a separate record, so nothing can drift from what the owner signed.

use aos_vm::{ModuleFormat, ModuleOptions, parse_memory_limit};
use serde_json::{Value, json};
use thiserror::Error;

use crate::message::DataItem;

/// Why an item is not a module this node can run. Every variant is the sender's fault (a 4xx).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleItemError {
    #[error("a module item needs the tag {0}={1}")]
    MissingTag(&'static str, &'static str),
    #[error("a module item needs a {0} tag")]
    Missing(&'static str),
    #[error(
        "Module-Format {0:?} is not one this node runs (it runs {AOS_FORMATS}); nothing was stored"
    )]
    UnknownFormat(String),
    #[error("Memory-Limit {0:?} is not a size like 500-mb, 1-gb or a number of bytes")]
    BadMemoryLimit(String),
    #[error("Compute-Limit {0:?} is not a whole number")]
    BadComputeLimit(String),
    #[error("a module item's data is the wasm module, and this one has none")]
    NoData,
    #[error("the data does not load as a {format} module: {why}")]
    BadWasm { format: String, why: String },
}

/// The formats named in errors, for a sender who guessed wrong.
const AOS_FORMATS: &str = "wasm32-wasip1-aos, wasm32-unknown-emscripten[2|3|4], \
                           wasm64-unknown-emscripten-draft_2024_02_15";

/// Whether `item` presents itself as a module (`Type=Module`), valid or not.
pub fn is_module(item: &DataItem) -> bool {
    item.tag("Type") == Some("Module")
}

/// The options a module item's tags give, or why they do not describe a module this node runs.
/// Checks tags only; whether the wasm loads under them is the VM's to say.
pub fn options(item: &DataItem) -> Result<ModuleOptions, ModuleItemError> {
    if item.tag("Data-Protocol") != Some("ao") {
        return Err(ModuleItemError::MissingTag("Data-Protocol", "ao"));
    }
    if !is_module(item) {
        return Err(ModuleItemError::MissingTag("Type", "Module"));
    }
    let format = item
        .tag("Module-Format")
        .ok_or(ModuleItemError::Missing("Module-Format"))?;
    let format = ModuleFormat::from_tag(format)
        .ok_or_else(|| ModuleItemError::UnknownFormat(format.to_owned()))?;
    // aoconnect's spawn refuses a module without them; so does this node, before storing it.
    for required in ["Input-Encoding", "Output-Encoding"] {
        if item.tag(required).is_none() {
            return Err(ModuleItemError::Missing(required));
        }
    }
    let memory_limit = item
        .tag("Memory-Limit")
        .map(|text| {
            parse_memory_limit(text)
                .filter(|bytes| *bytes > 0)
                .ok_or_else(|| ModuleItemError::BadMemoryLimit(text.to_owned()))
        })
        .transpose()?;
    let compute_limit = item
        .tag("Compute-Limit")
        .map(|text| {
            text.trim()
                .parse::<u64>()
                .ok()
                .filter(|fuel| *fuel > 0)
                .ok_or_else(|| ModuleItemError::BadComputeLimit(text.to_owned()))
        })
        .transpose()?;
    if item.data().is_empty() {
        return Err(ModuleItemError::NoData);
    }
    Ok(ModuleOptions {
        format: Some(format),
        compute_limit,
        memory_limit,
    })
}

/// How a module appears to a process (`ao.env.Module`) and on `/graphql`: its id, owner and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleMeta {
    pub id: String,
    /// The address that signed the module item; for a built-in module, the node.
    pub owner: Option<String>,
    /// `[{name, value}]`, in the item's order.
    pub tags: Value,
}

impl ModuleMeta {
    /// A module item as signed.
    pub fn of_item(item: &DataItem) -> Self {
        Self {
            id: item.id(),
            owner: Some(item.owner_address()),
            tags: json!(item.tags()),
        }
    }

    /// A module known by the sha256 of its wasm (the node's built-in module, and modules of
    /// stores older than module items): no item, so its tags are the node's description of it.
    pub fn of_hash(id: &str, format: ModuleFormat) -> Self {
        Self {
            id: id.to_owned(),
            owner: None,
            tags: builtin_tags(format),
        }
    }
}

/// The `Module-Format` tag naming `format` (for emscripten modules, the newest of its names).
pub fn format_tag(format: ModuleFormat) -> &'static str {
    match format {
        ModuleFormat::Emscripten32 => "wasm32-unknown-emscripten4",
        ModuleFormat::Emscripten64 => "wasm64-unknown-emscripten-draft_2024_02_15",
        _ => aos_vm::AOS_FORMAT,
    }
}

/// The tags of a module known only by its hash. They are constants, not the node's `VmConfig`,
/// because a process sees them (`ao.env.Module.Tags`): two nodes tuned differently must still
/// hand a process the same env. The limits are the runtime defaults, which bind such modules.
pub fn builtin_tags(format: ModuleFormat) -> Value {
    json!([
        {"name": "Data-Protocol", "value": "ao"},
        {"name": "Variant", "value": "ao.TN.1"},
        {"name": "Type", "value": "Module"},
        {"name": "Module-Format", "value": format_tag(format)},
        {"name": "Input-Encoding", "value": "JSON-1"},
        {"name": "Output-Encoding", "value": "JSON-1"},
        {"name": "Memory-Limit", "value": "256-mb"},
        {"name": "Compute-Limit", "value": "10000000000"},
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Ed25519Signer, ItemDraft, Signer};

    fn module(tags: &[(&str, &str)], data: &[u8]) -> DataItem {
        let mut draft = ItemDraft::new(data.to_vec());
        for (name, value) in tags {
            draft = draft.tag(*name, *value);
        }
        Ed25519Signer::from_secret([9; 32]).sign(draft).unwrap()
    }

    const GOOD: [(&str, &str); 7] = [
        ("Data-Protocol", "ao"),
        ("Type", "Module"),
        (
            "Module-Format",
            "wasm64-unknown-emscripten-draft_2024_02_15",
        ),
        ("Input-Encoding", "JSON-1"),
        ("Output-Encoding", "JSON-1"),
        ("Memory-Limit", "1-gb"),
        ("Compute-Limit", "9000000000000"),
    ];

    fn with(name: &str, value: &str) -> Vec<(&'static str, String)> {
        GOOD.iter()
            .map(|(n, v)| (*n, if *n == name { value } else { v }.to_owned()))
            .collect()
    }

    fn check(tags: &[(&str, String)]) -> Result<ModuleOptions, ModuleItemError> {
        let tags: Vec<(&str, &str)> = tags.iter().map(|(n, v)| (*n, v.as_str())).collect();
        options(&module(&tags, b"\0asm"))
    }

    #[test]
    fn tags_give_the_options() {
        let options = options(&module(&GOOD, b"\0asm")).unwrap();
        assert_eq!(options.format, Some(ModuleFormat::Emscripten64));
        assert_eq!(options.memory_limit, Some(1 << 30));
        assert_eq!(options.compute_limit, Some(9_000_000_000_000));
        let bare = module(&GOOD[..5], b"\0asm");
        assert_eq!(super::options(&bare).unwrap().memory_limit, None);
    }

    #[test]
    fn every_format_tag_names_its_format() {
        for format in [
            ModuleFormat::Aos,
            ModuleFormat::Emscripten32,
            ModuleFormat::Emscripten64,
        ] {
            assert_eq!(ModuleFormat::from_tag(format_tag(format)), Some(format));
        }
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        assert_eq!(
            check(&with("Module-Format", "wasm32-wasi")),
            Err(ModuleItemError::UnknownFormat("wasm32-wasi".into()))
        );
        assert_eq!(
            check(&with("Memory-Limit", "lots")),
            Err(ModuleItemError::BadMemoryLimit("lots".into()))
        );
        assert_eq!(
            check(&with("Memory-Limit", "0-mb")),
            Err(ModuleItemError::BadMemoryLimit("0-mb".into()))
        );
        assert_eq!(
            check(&with("Compute-Limit", "-1")),
            Err(ModuleItemError::BadComputeLimit("-1".into()))
        );
        assert_eq!(
            check(&with("Type", "Process")),
            Err(ModuleItemError::MissingTag("Type", "Module"))
        );
        let no_encoding: Vec<_> = with("", "")
            .into_iter()
            .filter(|(n, _)| *n != "Input-Encoding")
            .collect();
        assert_eq!(
            check(&no_encoding),
            Err(ModuleItemError::Missing("Input-Encoding"))
        );
        assert_eq!(options(&module(&GOOD, b"")), Err(ModuleItemError::NoData));
    }
}
