//! A process's own limits: a spawn's `Compute-Limit` (fuel one message may burn) and
//! `Memory-Limit` (its memory ceiling, in AO's notation: `512-mb`, `1-gb`, or bytes), as aos
//! processes carry them.
//!
//! They are honoured within the node's caps (the VM's `fuel_per_message` and `memory_limit`): a
//! limit above the cap is the cap, one below it is the process's. A value that is not a limit at
//! all refuses the spawn at the scheduler, as a bad `Cron-Interval` does, so that every stored
//! process has limits the compute unit can apply.

use thiserror::Error;

use crate::message::Tag;

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitError {
    #[error(
        "bad Compute-Limit {0:?}: expected a whole number of fuel units per message, at least 1"
    )]
    BadCompute(String),
    #[error(
        "bad Memory-Limit {0:?}: expected bytes or N-UNIT with UNIT one of kb, mb, gb, tb (e.g. 512-mb)"
    )]
    BadMemory(String),
    #[error(
        "Memory-Limit {value:?} is {bytes} bytes, below the {min} bytes a process needs to start"
    )]
    MemoryTooSmall { value: String, bytes: u64, min: u64 },
}

/// The smallest `Memory-Limit` a spawn may ask for: our module starts in it with room to work.
pub const MIN_MEMORY: u64 = 16 << 20;

/// What a spawn asked for; `None` leaves the node's (or the module's) limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessLimits {
    pub compute: Option<u64>,
    pub memory: Option<u64>,
}

impl ProcessLimits {
    /// The limits a spawn's tags ask for, or why they are not limits.
    pub fn of_tags(tags: &[Tag]) -> Result<Self, LimitError> {
        let tag = |name: &str| {
            tags.iter()
                .find(|t| t.name == name)
                .map(|t| t.value.as_str())
        };
        let compute = tag("Compute-Limit")
            .map(|value| {
                let trimmed = value.trim();
                match trimmed.parse::<u64>() {
                    Ok(fuel) if fuel > 0 && trimmed.bytes().all(|b| b.is_ascii_digit()) => Ok(fuel),
                    _ => Err(LimitError::BadCompute(value.to_owned())),
                }
            })
            .transpose()?;
        let memory = tag("Memory-Limit")
            .map(|value| {
                let bytes = aos_vm::parse_memory_limit(value)
                    .ok_or_else(|| LimitError::BadMemory(value.to_owned()))?;
                if bytes < MIN_MEMORY {
                    return Err(LimitError::MemoryTooSmall {
                        value: value.to_owned(),
                        bytes,
                        min: MIN_MEMORY,
                    });
                }
                Ok(bytes)
            })
            .transpose()?;
        Ok(Self { compute, memory })
    }

    /// `module` under these limits (each only lowers what the module and the node allow).
    pub fn apply(&self, module: &aos_vm::Module) -> aos_vm::Module {
        module.limited(self.compute, self.memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
        pairs
            .iter()
            .map(|(name, value)| Tag {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect()
    }

    #[test]
    fn limits_are_read_in_aos_notation() {
        let limits = ProcessLimits::of_tags(&tags(&[
            ("Compute-Limit", "9000000000000"),
            ("Memory-Limit", "1-gb"),
        ]))
        .unwrap();
        assert_eq!(limits.compute, Some(9_000_000_000_000));
        assert_eq!(limits.memory, Some(1 << 30));
        assert_eq!(
            ProcessLimits::of_tags(&[]).unwrap(),
            ProcessLimits::default()
        );
    }

    #[test]
    fn values_that_are_not_limits_are_refused_with_what_was_expected() {
        for bad in ["", "0", "-5", "1e12", "lots", "+7"] {
            let err = ProcessLimits::of_tags(&tags(&[("Compute-Limit", bad)])).unwrap_err();
            assert_eq!(err, LimitError::BadCompute(bad.into()));
            assert!(err.to_string().contains("Compute-Limit"), "{err}");
        }
        for bad in ["", "lots", "1-pb", "x-mb"] {
            let err = ProcessLimits::of_tags(&tags(&[("Memory-Limit", bad)])).unwrap_err();
            assert_eq!(err, LimitError::BadMemory(bad.into()));
        }
        let err = ProcessLimits::of_tags(&tags(&[("Memory-Limit", "1-mb")])).unwrap_err();
        assert!(err.to_string().contains("below"), "{err}");
    }
}
