//! `aos-units` owns the three units of an AO-style computer — the messenger (MU), the scheduler (SU)
//! and the compute unit (CU) — together with the wire format they exchange (`message`: ANS-104 data
//! items), the node's keys (`wallet`), their redb store and their HTTP API.
//!
//! It never touches the terminal, and it computes nothing itself: evaluation belongs to `aos-vm`.
//!
//! Arweave's RSA-PSS signatures (type 1 items, Arweave wallet files) go through RustCrypto's `rsa`
//! crate: a well-kept RSA-PSS implementation with constant-time bignum arithmetic and blinding,
//! where hand-rolled 4096-bit bignum code would be slow and easy to get subtly wrong.
//!
//! Nodes read each other (a remote schedule in `schedule::remote`, peers' Scheduler-Location
//! records in `location`) through `reqwest`, already in the tree for the shell, built without
//! default features: plain HTTP only for now, because reqwest 0.13's `rustls` feature brings
//! aws-lc-rs, a C build this project avoids; HTTPS peers want `rustls-no-provider` plus `ring`.

#![warn(clippy::unwrap_used)]

pub mod api;
pub mod crank;
pub mod cron;
pub mod cu;
pub mod http;
pub mod limits;
pub mod location;
pub mod message;
pub mod module;
pub mod mu;
pub mod result;
pub mod schedule;
pub mod store;
pub mod su;
pub mod tasks;
pub mod wallet;
