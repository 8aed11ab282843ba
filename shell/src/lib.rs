//! `aos-shell` is the user's seat: the `aos` command. It parses arguments, keeps the user's wallet,
//! runs the interactive REPL and batch scripts against a node (embedded or remote), serves a node
//! (`aos node`), offers the item tools (`aos item sign|inspect`) and adds modules (`aos module add`).
//!
//! It never computes a result itself: every evaluation is a signed message to a node. The native
//! Lua it links (mlua) only parses typed input to tell a finished chunk from an unfinished one.
//!
//! While a shell holds a data dir's store, its embedded node also answers on a local port
//! (`serve`), so other shells on the same data dir share it.
//!
//! Crates beyond the design card: `reqwest` (plain-HTTP client for `--url`; no TLS, nothing to
//! build in C), `indicatif` (the spinners of batch mode and of a slow REPL result, on terminals
//! only), `tracing-subscriber` (`aos node` prints the units' background warnings on stderr,
//! filtered by `RUST_LOG`), rustyline's `buffer-redux` feature (keeps typeahead between lines).

pub mod batch;
pub mod blueprints;
pub mod bundle;
pub mod cli;
pub mod connection;
pub mod dot;
pub mod item_cmd;
pub mod live;
pub mod module_cmd;
pub mod node_cmd;
pub mod repl;
pub mod serve;
pub mod session;
pub mod style;
pub mod syntax;
