//! Dry-runs: a message evaluated on a copy of the process and forgotten, bounded per process
//! and node-wide so they cannot hold up real work.

use aos_vm::Attempt;

use super::eval::parse_result;
use super::*;

impl ComputeUnit {
    /// Evaluates `message` against the process's current state and forgets it: nothing is stored.
    /// It runs on a copy of the process, so it never holds up the process's real messages: the
    /// process is held only while its memory is copied. At most [`DRY_RUNS_PER_PROCESS`] run per
    /// process at once (more are refused with [`CuError::Busy`]) and [`DRY_RUNS_AT_ONCE`] on the
    /// node, so dry-runs cannot take every core from real work.
    pub async fn dry_run(
        &self,
        process: &ProcessId,
        mut message: Value,
    ) -> Result<ProcessResult, CuError> {
        let _slot = DryRunSlot::take(&self.inner, process)?;
        let _turn = self
            .inner
            .dry_run_turns
            .acquire()
            .await
            .map_err(|e| CuError::Vm(e.to_string()))?;
        let last = self.last_slot(process).await?;
        let slot = self.evaluate_through(process, last).await?;
        let (copy, record, env) = Self::dry_run_copy(&slot).await?;
        let (copy, record, env) = match copy {
            // A warm scratch first runs the dry-run here, on this worker, within a slice of
            // fuel too short to hold the worker up (most reads need a tenth of it): that saves
            // the hand-off to the blocking pool and back, a large part of a small dry-run's
            // cost. A longer one runs again on the blocking pool, with its whole budget, on a
            // fresh copy (the scratch that tried is spent).
            Copy::Ready(scratch) => {
                let mut tried = message.clone();
                fill_dry_run_fields(&mut tried, &record);
                match scratch
                    .dry_run_within(&tried.to_string(), &env, DRY_RUN_SLICE)
                    .map_err(vm_error)?
                {
                    Attempt::Finished(outcome, back) => {
                        self.keep_scratch(process, &slot, back).await;
                        return parse_result(&outcome);
                    }
                    Attempt::Unfinished => Self::dry_run_copy(&slot).await?,
                }
            }
            snapshot => (snapshot, record, env),
        };
        let vm = self.inner.vm.clone();
        let (outcome, back) = tokio::task::spawn_blocking(move || {
            let scratch = match copy {
                Copy::Ready(scratch) => scratch,
                Copy::Snapshot(snapshot, module) => {
                    aos_vm::Scratch::new(&vm, &module, &snapshot).map_err(vm_error)?
                }
            };
            fill_dry_run_fields(&mut message, &record);
            scratch
                .dry_run(&message.to_string(), &env)
                .map_err(vm_error)
        })
        .await
        .map_err(|e| CuError::Vm(e.to_string()))??;
        self.keep_scratch(process, &slot, back).await;
        parse_result(&outcome)
    }

    /// A copy of the hot process to dry-run on, with its record and env. The process is held
    /// only while its memory is copied into its scratch (or, when it has none to reuse, into a
    /// snapshot a new scratch is made from).
    async fn dry_run_copy(slot: &HotUse) -> Result<(Copy, ProcessRecord, Arc<str>), CuError> {
        let mut guard = slot.lock().await;
        let hot = guard
            .as_mut()
            .expect("evaluate_through leaves the process hot");
        let mut reused = hot.scratch.take();
        let fresh = match reused.as_mut() {
            Some(scratch) => hot.process.refresh_scratch(scratch).map_err(vm_error)?,
            None => false,
        };
        let copy = match reused {
            Some(scratch) if fresh => Copy::Ready(scratch),
            _ => Copy::Snapshot(
                hot.process.snapshot().map_err(vm_error)?,
                hot.process.module().clone(),
            ),
        };
        Ok((copy, hot.record.clone(), hot.env.clone()))
    }

    /// Gives a reusable scratch back to its process, if the process is still hot and has none.
    async fn keep_scratch(
        &self,
        process: &ProcessId,
        slot: &HotUse,
        scratch: Option<aos_vm::Scratch>,
    ) {
        let Some(scratch) = scratch else { return };
        let mut guard = slot.lock().await;
        if let Some(hot) = guard.as_mut()
            && hot.scratch.is_none()
        {
            hot.scratch = Some(scratch);
            let bytes = hot.bytes();
            drop(guard);
            self.note_memory(process, slot, bytes);
        }
    }
}

/// The fuel a dry-run may use on an async worker before it is moved to the blocking pool:
/// about a millisecond here (a read through `Handlers` takes 0.2–0.5 M). At most
/// [`DRY_RUNS_AT_ONCE`] run at once, so at most that many workers are held that long.
pub const DRY_RUN_SLICE: u64 = 4_000_000;

/// What a dry-run runs on: a scratch refreshed under the process's lock, or a snapshot to make
/// one from outside it.
// Moved once per dry-run: boxing the scratch would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Copy {
    Ready(aos_vm::Scratch),
    Snapshot(aos_vm::Snapshot, aos_vm::Module),
}

fn vm_error(e: aos_vm::VmError) -> CuError {
    CuError::Vm(e.to_string())
}

/// Dry-runs of one process that may run at once.
pub const DRY_RUNS_PER_PROCESS: usize = 2;

/// Dry-runs evaluating at once on the node (others wait their turn). One: on a small machine
/// the other cores stay with the processes' real messages, however many dry-runs are asked.
pub const DRY_RUNS_AT_ONCE: usize = 1;

/// One of a process's dry-run slots, given back on drop.
pub(super) struct DryRunSlot {
    inner: Arc<Inner>,
    process: ProcessId,
}

impl DryRunSlot {
    pub(super) fn take(inner: &Arc<Inner>, process: &ProcessId) -> Result<Self, CuError> {
        let mut running = inner.dry_runs.lock().expect("dry-runs lock");
        let count = running.entry(*process).or_insert(0);
        if *count >= DRY_RUNS_PER_PROCESS {
            return Err(CuError::Busy(*count, process.to_string()));
        }
        *count += 1;
        Ok(Self {
            inner: inner.clone(),
            process: *process,
        })
    }
}

impl Drop for DryRunSlot {
    fn drop(&mut self) {
        let mut running = self.inner.dry_runs.lock().expect("dry-runs lock");
        if let Some(count) = running.get_mut(&self.process) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.process);
            }
        }
    }
}

/// A dry-run message gets the fields a scheduled one would have, marked read-only.
pub(super) fn fill_dry_run_fields(message: &mut Value, record: &ProcessRecord) {
    if !message.is_object() {
        *message = Value::Object(Default::default());
    }
    let defaults = [
        ("Id", Value::String("dry-run".into())),
        ("Target", Value::String(record.id.clone())),
        ("Owner", Value::String(String::new())),
        ("Tags", Value::Array(Vec::new())),
        ("Data", Value::String(String::new())),
        ("Timestamp", Value::from(record.last_timestamp)),
        (
            "Block-Height",
            Value::from(crate::su::block_height(record.last_timestamp)),
        ),
        ("Nonce", Value::from(record.next_slot)),
        ("Module", Value::String(record.module.clone())),
    ];
    let map = message.as_object_mut().expect("made an object above");
    for (key, value) in defaults {
        map.entry(key).or_insert(value);
    }
    if !map.contains_key("From") {
        let owner = map.get("Owner").cloned().unwrap_or(Value::Null);
        map.insert("From".into(), owner);
    }
    map.insert("Read-Only".into(), Value::Bool(true));
}
