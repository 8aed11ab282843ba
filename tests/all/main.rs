//! End-to-end tests of a whole node: the three units wired by `aos::Node`, driven through the real
//! HTTP API on a loopback port the OS picks.

mod adversarial;
mod anywhere;
mod bad_input;
mod blueprints;
mod crank;
mod cron;
mod examples;
mod hot_memory;
mod http_flow;
mod limits;
mod modules;
mod network;
mod recovery;
mod route;
mod shutdown;
mod support;
