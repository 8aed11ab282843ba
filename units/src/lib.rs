//! `aos-units` owns the three units of an AO-style computer — the messenger (MU), the scheduler (SU)
//! and the compute unit (CU) — together with the wire format they exchange (`message`: ANS-104 data
//! items), the node's keys (`wallet`), their redb store and their HTTP API.
//!
//! It never touches the terminal, and it computes nothing itself: evaluation belongs to `aos-vm`.

#![warn(clippy::unwrap_used)]

pub mod cron;
pub mod cu;
pub mod http;
pub mod message;
pub mod mu;
pub mod store;
pub mod su;
pub mod wallet;
