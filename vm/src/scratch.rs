//! Scratch copies of a process for dry-runs. A dry-run must see the process's state and leave
//! no trace, without holding the process while it runs. Instantiating a fresh copy for each one
//! costs milliseconds; a [`Scratch`] is instantiated once and, before each dry-run, only has the
//! process's memory copied into it.
//!
//! Reuse is safe because our module's whole state is its linear memory: after a call that
//! returned (even with a Lua error) the instance's globals are back where they were, so the same
//! memory gives the same behaviour as a fresh instance. A call that trapped (fuel, a wasm fault)
//! may leave globals mid-call, so that scratch is dropped. emscripten modules keep start-up state
//! in globals of their own and always get a fresh scratch.

use crate::error::VmError;
use crate::format::ModuleFormat;
use crate::instance::Instance;
use crate::process::{Outcome, Process, finish};
use crate::runtime::{Module, Vm};
use crate::snapshot::Snapshot;

/// An instance of a process's module, loaded with a copy of its memory for one dry-run at a time.
pub struct Scratch {
    vm: Vm,
    module: Module,
    instance: Instance,
    /// The process's write tracker and its scan count when this scratch last became a copy
    /// of it: while they still match, the pages either side wrote since are all that differ.
    synced: Option<(u64, u64)>,
    /// A memory below [`TRACK_WRITES_FROM`] is tracked too while the pages that change
    /// between refreshes are few (dry-runs of an otherwise idle process), where the faults
    /// cost less than a whole comparison.
    few_changes: bool,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("module", &self.module.id())
            .field("memory_len", &self.instance.memory_len())
            .finish()
    }
}

impl Scratch {
    /// A new scratch holding `snapshot`'s state.
    pub fn new(vm: &Vm, module: &Module, snapshot: &Snapshot) -> Result<Self, VmError> {
        if snapshot.module_id != module.id() {
            return Err(VmError::Snapshot(format!(
                "snapshot of module {} cannot run on module {}",
                snapshot.module_id,
                module.id()
            )));
        }
        Ok(Self {
            vm: vm.clone(),
            module: module.clone(),
            instance: Instance::with_image(vm, module, &snapshot.image)?,
            synced: None,
            few_changes: false,
        })
    }

    pub fn memory_len(&self) -> usize {
        self.instance.memory_len()
    }

    /// Whether its next refresh from the process it was last refreshed from can copy only
    /// the pages either side wrote (tests, benches).
    #[doc(hidden)]
    pub fn knows_its_writes(&self) -> bool {
        self.synced.is_some()
    }

    /// Whether its memory is byte for byte `process`'s (tests).
    #[doc(hidden)]
    pub fn same_memory_as(&self, process: &Process) -> bool {
        self.instance.memory() == process.instance().memory()
    }

    /// Evaluates a dry-run message (at most the runtime's `fuel_per_dry_run`) and hands the
    /// scratch back if it can be reused.
    pub fn dry_run(
        self,
        msg_json: &str,
        env_json: &str,
    ) -> Result<(Outcome, Option<Self>), VmError> {
        match self.dry_run_within(msg_json, env_json, u64::MAX)? {
            Attempt::Finished(outcome, back) => Ok((outcome, back)),
            Attempt::Unfinished => unreachable!("a dry-run given its whole budget finishes"),
        }
    }

    /// Like [`Self::dry_run`], but given at most `slice` fuel: a caller that cannot wait long
    /// (an async worker) tries a short run and, if it does not finish, runs it again with the
    /// whole budget elsewhere. Fuel is only counted, never seen by the process (its `GasUsed` is
    /// the fuel it used), so a run that finishes within the slice gives exactly the result a run
    /// with the whole budget would. A run that trapped within a smaller slice is
    /// [`Attempt::Unfinished`] whatever the trap: only the whole budget says what it was.
    pub fn dry_run_within(
        mut self,
        msg_json: &str,
        env_json: &str,
        slice: u64,
    ) -> Result<Attempt, VmError> {
        let config = &self.vm.inner.config;
        let budget = self
            .module
            .fuel_per_message(config)
            .min(config.fuel_per_dry_run);
        let fuel = budget.min(slice);
        let ran = self
            .instance
            .run(msg_json.as_bytes(), env_json.as_bytes(), fuel)?;
        let returned = ran.is_ok();
        if !returned && fuel < budget {
            return Ok(Attempt::Unfinished);
        }
        let outcome = finish(ran, budget)?;
        let reusable = returned && self.module.format() == ModuleFormat::Aos;
        Ok(Attempt::Finished(outcome, reusable.then_some(self)))
    }
}

/// How a dry-run given a slice of its fuel ended.
// Returned once per dry-run and matched at once: boxing the scratch would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Attempt {
    /// The result, and the scratch if it can be reused.
    Finished(Outcome, Option<Scratch>),
    /// It trapped within the slice (the scratch is spent): run it again with the whole budget.
    Unfinished,
}

/// Memories from this size on are refreshed from what the kernel says either side wrote; below
/// it, by comparing them whole. Measured (`cargo bench -p aos-vm --bench cpu`, a read after
/// each Transfer): at 1.5 MB the comparison costs ~75 µs and the faults of tracking more; at
/// 112 MB the comparison costs 22 ms and tracking ~0.1 ms. A smaller memory is tracked as well
/// while its refreshes change few pages (dry-runs of an otherwise idle process).
pub const TRACK_WRITES_FROM: usize = 4 << 20;

/// Pages a refresh found changed (the process's when tracked, both sides' when compared whole)
/// at or below which tracking a small memory pays:
/// a dry-run of a read writes ~25; a token Transfer between two dry-runs ~150 more.
const FEW_CHANGES: usize = 48;

/// Pages of a scratch left unprotected (copied at every refresh) before they are protected
/// again: 256 KiB to copy, a few µs.
const SCRATCH_UNPROTECTED: usize = 64;

impl Process {
    /// Copies this process's state into `scratch`, if it is a scratch of the same module whose
    /// memory is not larger than the process's (memory cannot shrink). `false`: make a new one.
    ///
    /// Where the kernel tracks writes ([`crate::dirty`]) and the scratch was last refreshed
    /// from this process with nothing else looking since, only the pages either side wrote
    /// are copied; otherwise the memories are compared whole, page by page.
    pub fn refresh_scratch(&mut self, scratch: &mut Scratch) -> Result<bool, VmError> {
        if scratch.module.id() != self.module().id()
            || scratch.module.format() != ModuleFormat::Aos
            || scratch.instance.memory_len() > self.memory_len()
        {
            return Ok(false);
        }
        let len = self.memory_len();
        // Below this size comparing whole memories is cheaper than the page faults tracking
        // costs (each first write to a protected page faults, ~0.5-1 µs).
        let track = len >= TRACK_WRITES_FROM || scratch.few_changes;
        let before = if track {
            self.instance_mut().writes().map(|t| t.mark())
        } else {
            None
        };
        let mut runs = Vec::new();
        // The process's scan protects its pages again: from here on its writes are seen.
        let source = track
            && self
                .instance_mut()
                .writes()
                .is_some_and(|t| t.scan(len, true, |a, b| runs.push((a, b))).is_ok());
        let from_source: usize = runs.iter().map(|(a, b)| b - a).sum();
        // The scratch's pages are left unprotected, listed and copied every time: dry-runs
        // rewrite much the same few pages, and protecting them would cost a TLB flush and a
        // fault each time. Once too many are listed, they are protected again.
        let scratch_len = scratch.instance.memory_len();
        let copy = track
            && scratch.instance.writes().is_some_and(|t| {
                t.scan(scratch_len, false, |a, b| runs.push((a, b))).is_ok()
                    && (runs.iter().map(|(a, b)| b - a).sum::<usize>() - from_source
                        <= SCRATCH_UNPROTECTED
                        || t.scan(scratch_len, true, |_, _| {}).is_ok())
            });
        let known = source && copy && before.is_some() && scratch.synced == before;
        let changed = if known {
            scratch
                .instance
                .load_pages(self.instance().memory(), &runs)?;
            from_source
        } else {
            scratch.instance.load_memory(self.instance().memory())?
        };
        scratch.few_changes = changed <= FEW_CHANGES;
        scratch.synced = if source && copy {
            self.instance_mut().writes().map(|t| t.mark())
        } else {
            None
        };
        Ok(true)
    }
}
