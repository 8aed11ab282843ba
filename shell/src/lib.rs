//! `aos-shell` is the user's seat: the `aos` command. It parses arguments, keeps the user's wallet,
//! runs the interactive REPL and batch scripts against a node (embedded or remote), and offers the
//! item tools (`aos item sign|inspect`).
//!
//! It never computes a result itself: every evaluation is a signed message to a node.

pub mod cli;
pub mod item_cmd;
