//! `aos-units` owns the three units of an AO-style computer — the messenger (MU), the scheduler (SU)
//! and the compute unit (CU) — together with the wire format they exchange (`message`: ANS-104 data
//! items), the node's keys (`wallet`), their redb store and their HTTP API.
//!
//! It never touches the terminal, and it computes nothing itself: evaluation belongs to `aos-vm`.
//!
//! Arweave's RSA-PSS signatures (type 1 items, Arweave wallet files) go through RustCrypto's `rsa`
//! crate: a well-kept RSA-PSS implementation with constant-time bignum arithmetic and blinding,
//! where hand-rolled 4096-bit bignum code would be slow and easy to get subtly wrong.

#![warn(clippy::unwrap_used)]

pub mod crank;
pub mod cron;
pub mod cu;
pub mod http;
pub mod message;
pub mod module;
pub mod mu;
pub mod store;
pub mod su;
pub mod wallet;
