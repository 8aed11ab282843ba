//! The blueprints of `lua/blueprints/`, embedded at build time so the binary needs no source tree.

include!(concat!(env!("OUT_DIR"), "/blueprints.rs"));

/// The source of blueprint `name`.
pub fn source(name: &str) -> Option<&'static str> {
    let name = name.trim().trim_end_matches(".lua");
    BLUEPRINTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
}

pub fn names() -> Vec<&'static str> {
    BLUEPRINTS.iter().map(|(n, _)| *n).collect()
}
