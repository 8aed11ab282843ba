//! Tests of the `aos` binary, gathered into one test binary to save link time.

mod batch;
mod examples;
mod faults;
mod flags;
mod interop;
mod item_cli;
mod module_cli;
mod network;
mod repl;
mod support;
mod terminal;
