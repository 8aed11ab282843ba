//! Integration tests of `aos-units`, gathered into one binary to save link time.

mod message_props;
mod su;
