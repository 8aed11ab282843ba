//! `aos` is the composition root: it wires the messenger, scheduler and compute units of `aos-units`
//! into one node (embedded mode, used by the shell) and owns node configuration.
//!
//! It holds no unit logic of its own and knows nothing of the terminal.

pub use aos_units as units;
pub use aos_vm as vm;
