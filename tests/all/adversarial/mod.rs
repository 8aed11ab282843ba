//! The red-team suite: each test performs one attack on a real node over HTTP (or, for what
//! needs a crash, on a node dropped without shutdown and reopened) and asserts the defence.
//! docs/runtime-semantics.md says what a user can and cannot do to another user's process.

mod batch;
mod crank_tags;
mod dry_run;
mod http;
mod lanes;
mod wedge;
