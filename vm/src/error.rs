//! Host failures. A Lua error, a runaway loop or an exhausted heap is *not* one of these: it is a
//! normal result with `Error` set.

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VmError {
    #[error("wasmtime: {0}")]
    Wasmtime(String),
    #[error("the module does not export {0}")]
    MissingExport(&'static str),
    #[error("the module imports {0}, which this runtime does not provide")]
    UnknownImport(String),
    #[error("the process could not start: {0}")]
    Init(String),
    #[error("the guest broke the protocol: {0}")]
    Protocol(String),
    #[error("snapshot: {0}")]
    Snapshot(String),
    #[error("{0} is not supported")]
    Unsupported(&'static str),
    #[error("wrong module format: {0}")]
    WrongFormat(String),
    #[error("native lua: {0}")]
    Native(String),
}

impl From<wasmtime::Error> for VmError {
    fn from(e: wasmtime::Error) -> Self {
        VmError::Wasmtime(format!("{e:#}"))
    }
}
