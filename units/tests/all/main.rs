//! Integration tests of `aos-units`, gathered into one binary to save link time.

mod cron;
mod cu;
mod message_props;
mod store_close;
mod store_faults;
mod su;
mod support;
mod tidy;
