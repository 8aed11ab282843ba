//! The process library sources, for the native runtime and the staleness check.

include!(concat!(env!("OUT_DIR"), "/library.rs"));
