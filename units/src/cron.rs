//! Cron: a process spawned with `Cron-Interval` gets tick messages on a fixed schedule.
//!
//! Ticks are not in the scheduler's log; they are computed from the spawn alone. Tick `k` (k ≥ 1)
//! falls at `spawn timestamp + k × interval`, and it is evaluated just before the first log message
//! whose timestamp is at or after it. A tick after the last message is evaluated only once the
//! scheduler has promised (a durable "fence", see `Scheduler::advance`) that every later message
//! gets a later timestamp — so the order of ticks and messages is a pure function of the log and a
//! replay anywhere reaches the same state. Monitoring a process just moves its fence forward in
//! real time, so its ticks run when they are due instead of when the next message comes.
//!
//! Ticks cost an evaluation and a stored result each, so a node bounds them ([`CronLimits`]): a
//! minimum interval for spawns, and a number of results kept per process.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::message::{Tag, b64};
use crate::store::{ProcessId, ProcessRecord};

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CronError {
    #[error(
        "bad Cron-Interval {0:?}: expected N-UNIT with N ≥ 1 and UNIT one of milliseconds, seconds, minutes, hours, days, weeks, months, years"
    )]
    BadInterval(String),
    #[error(
        "Cron-Interval {interval:?} is {interval_ms} ms, shorter than this node's minimum of {min_ms} ms"
    )]
    TooShort {
        interval: String,
        interval_ms: u64,
        min_ms: u64,
    },
    #[error(
        "only the owner of process {process} (or the node) may start or stop its cron; {requester} is not"
    )]
    NotOwner { process: String, requester: String },
}

/// The node-wide minimum `Cron-Interval` (ms) unless configured otherwise. Every tick is an
/// evaluation and a stored result, so a 1 ms interval costs a core and gigabytes a day.
pub const DEFAULT_MIN_INTERVAL_MS: u64 = 1_000;

/// Cron results kept per process: older ones are pruned (`store::results`). At the
/// minimum interval this is close to three hours of ticks.
pub const RESULTS_KEPT: usize = 10_000;

/// What a node allows of cron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronLimits {
    /// Spawns with a shorter `Cron-Interval` are refused.
    pub min_interval_ms: u64,
    /// Newest cron results kept per process.
    pub results_kept: usize,
}

impl Default for CronLimits {
    fn default() -> Self {
        Self {
            min_interval_ms: DEFAULT_MIN_INTERVAL_MS,
            results_kept: RESULTS_KEPT,
        }
    }
}

/// When a process's ticks fall and what they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// The spawn's timestamp (ms); tick k falls at `start + k × interval_ms`.
    pub start: u64,
    pub interval_ms: u64,
    /// `Cron-Tag-X: V` on the spawn becomes `X: V` on every tick.
    pub tags: Vec<Tag>,
}

/// Milliseconds in one `unit` of a `Cron-Interval`. Months and years are fixed lengths (30 and
/// 365 days): a calendar would make tick times depend on a time-zone database.
fn unit_ms(unit: &str) -> Option<u64> {
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    Some(match unit {
        "millisecond" => 1,
        "second" => 1_000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 7 * 86_400_000,
        "month" => 30 * 86_400_000,
        "year" => 365 * 86_400_000,
        _ => return None,
    })
}

/// Parses `10-seconds`, `1-minute`, `500-milliseconds`…
pub fn parse_interval(text: &str) -> Result<u64, CronError> {
    let bad = || CronError::BadInterval(text.to_owned());
    let (count, unit) = text.trim().split_once('-').ok_or_else(bad)?;
    let count: u64 = count.trim().parse().map_err(|_| bad())?;
    let unit = unit_ms(&unit.trim().to_ascii_lowercase()).ok_or_else(bad)?;
    match count.checked_mul(unit) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(bad()),
    }
}

/// Checks a spawn's `Cron-Interval` tag, if it has one, against [`DEFAULT_MIN_INTERVAL_MS`].
pub fn check_spawn_tags(tags: &[Tag]) -> Result<(), CronError> {
    check_spawn_tags_with(tags, DEFAULT_MIN_INTERVAL_MS)
}

/// Checks a spawn's `Cron-Interval` tag, if it has one: well formed and at least `min_ms`.
pub fn check_spawn_tags_with(tags: &[Tag], min_ms: u64) -> Result<(), CronError> {
    let Some(tag) = tags.iter().find(|t| t.name == "Cron-Interval") else {
        return Ok(());
    };
    let interval_ms = parse_interval(&tag.value)?;
    if interval_ms < min_ms {
        return Err(CronError::TooShort {
            interval: tag.value.clone(),
            interval_ms,
            min_ms,
        });
    }
    Ok(())
}

/// Who may start or stop a process's real-time cron: its owner, or the node itself. Monitoring
/// changes no outcome, but it costs the node a tick loop, and stopping it is the owner's call.
pub fn check_controller(
    record: &ProcessRecord,
    requester: &str,
    node: &str,
) -> Result<(), CronError> {
    if requester == record.owner || requester == node {
        Ok(())
    } else {
        Err(CronError::NotOwner {
            process: record.id.clone(),
            requester: requester.to_owned(),
        })
    }
}

impl CronSchedule {
    /// The process's schedule, or `None` when it has no (valid) `Cron-Interval`. The scheduler
    /// refuses spawns with a bad one, so `None` here means the process has no cron.
    pub fn of(record: &ProcessRecord) -> Option<Self> {
        let interval = record
            .tags
            .iter()
            .find(|t| t.name == "Cron-Interval")
            .and_then(|t| parse_interval(&t.value).ok())?;
        let tags = record
            .tags
            .iter()
            .filter_map(|t| {
                t.name
                    .strip_prefix("Cron-Tag-")
                    .filter(|name| !name.is_empty())
                    .map(|name| Tag::new(name, t.value.clone()))
            })
            .collect();
        Some(Self {
            start: record.timestamp,
            interval_ms: interval,
            tags,
        })
    }

    /// The ticks with `after < timestamp <= through`, as (ordinal, timestamp), in order.
    pub fn ticks(&self, after: u64, through: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let first = match after.checked_sub(self.start) {
            Some(elapsed) => elapsed / self.interval_ms + 1,
            None => 1,
        };
        (first..)
            .map_while(move |k| {
                let at = self.start.checked_add(k.checked_mul(self.interval_ms)?)?;
                Some((k, at))
            })
            .take_while(move |&(_, at)| at <= through)
    }

    /// The timestamp of the first tick after `after`.
    pub fn next_after(&self, after: u64) -> Option<u64> {
        self.ticks(after, u64::MAX).next().map(|(_, at)| at)
    }
}

/// A tick's id: a hash of the process and the ordinal, so every node names it alike.
pub fn tick_id(process: &ProcessId, ordinal: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"aos-cron-tick");
    hasher.update(process.0);
    hasher.update(ordinal.to_be_bytes());
    b64::encode(hasher.finalize())
}

/// The message JSON of tick `ordinal` at `timestamp`. Like AO's cron messages it comes from the
/// process's owner, has no slot and no hash-chain link, and says `Cron = true`.
pub fn tick_message(
    record: &ProcessRecord,
    schedule: &CronSchedule,
    process: &ProcessId,
    ordinal: u64,
    timestamp: u64,
) -> Value {
    json!({
        "Id": tick_id(process, ordinal),
        "From": record.owner,
        "Owner": record.owner,
        "Target": record.id,
        "Tags": schedule.tags,
        "Data": "",
        "Anchor": null,
        "Timestamp": timestamp,
        "Block-Height": crate::su::block_height(timestamp),
        "Epoch": 0,
        "Module": record.module,
        "Cron": true,
        "Read-Only": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(start: u64, interval: u64) -> CronSchedule {
        CronSchedule {
            start,
            interval_ms: interval,
            tags: vec![],
        }
    }

    #[test]
    fn intervals_parse_like_aos() {
        assert_eq!(parse_interval("10-seconds"), Ok(10_000));
        assert_eq!(parse_interval("1-minute"), Ok(60_000));
        assert_eq!(parse_interval("2-Hours"), Ok(7_200_000));
        assert_eq!(parse_interval("250-milliseconds"), Ok(250));
        assert_eq!(parse_interval("1-day"), Ok(86_400_000));
        for bad in [
            "",
            "10",
            "seconds",
            "0-seconds",
            "-1-seconds",
            "1-blocks",
            "x-minutes",
            "99999999999999999999-years",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn intervals_below_the_node_minimum_are_refused() {
        let tags = |interval: &str| vec![Tag::new("Cron-Interval", interval)];
        assert!(check_spawn_tags(&tags("1-second")).is_ok());
        assert!(check_spawn_tags(&[]).is_ok());
        let err = check_spawn_tags(&tags("1-millisecond")).unwrap_err();
        assert_eq!(
            err,
            CronError::TooShort {
                interval: "1-millisecond".into(),
                interval_ms: 1,
                min_ms: DEFAULT_MIN_INTERVAL_MS,
            }
        );
        assert!(err.to_string().contains("minimum of 1000 ms"), "{err}");
        assert!(check_spawn_tags(&tags("999-milliseconds")).is_err());
        assert!(check_spawn_tags_with(&tags("5-milliseconds"), 5).is_ok());
        assert!(check_spawn_tags_with(&tags("4-milliseconds"), 5).is_err());
        assert!(matches!(
            check_spawn_tags_with(&tags("5-blocks"), 1),
            Err(CronError::BadInterval(_))
        ));
    }

    #[test]
    fn only_the_owner_or_the_node_controls_cron() {
        let record = ProcessRecord {
            id: "P".repeat(43),
            owner: "O".repeat(43),
            module: "M".repeat(43),
            scheduler: "S".repeat(43),
            tags: vec![],
            timestamp: 0,
            next_slot: 1,
            last_timestamp: 0,
            last_hash_chain: String::new(),
        };
        let node = "N".repeat(43);
        assert!(check_controller(&record, &record.owner, &node).is_ok());
        assert!(check_controller(&record, &node, &node).is_ok());
        let err = check_controller(&record, &"X".repeat(43), &node).unwrap_err();
        assert!(matches!(err, CronError::NotOwner { .. }), "{err}");
    }

    #[test]
    fn ticks_fall_on_the_schedule_and_not_at_the_spawn() {
        let s = schedule(1_000, 100);
        let all: Vec<_> = s.ticks(0, 1_350).collect();
        assert_eq!(all, vec![(1, 1_100), (2, 1_200), (3, 1_300)]);
        // Half-open on the left, closed on the right: no tick is evaluated twice or skipped.
        assert_eq!(s.ticks(1_100, 1_200).collect::<Vec<_>>(), vec![(2, 1_200)]);
        assert_eq!(s.ticks(1_199, 1_200).collect::<Vec<_>>(), vec![(2, 1_200)]);
        assert_eq!(s.ticks(1_200, 1_299).count(), 0);
        assert_eq!(s.next_after(1_200), Some(1_300));
        assert_eq!(s.next_after(0), Some(1_100));
    }

    #[test]
    fn cron_tags_become_tick_tags() {
        let record = ProcessRecord {
            id: "P".repeat(43),
            owner: "O".repeat(43),
            module: "M".repeat(43),
            scheduler: "S".repeat(43),
            tags: vec![
                Tag::new("Cron-Interval", "1-minute"),
                Tag::new("Cron-Tag-Action", "Cron"),
                Tag::new("Cron-Tag-", "ignored"),
                Tag::new("Name", "x"),
            ],
            timestamp: 5,
            next_slot: 1,
            last_timestamp: 5,
            last_hash_chain: String::new(),
        };
        let s = CronSchedule::of(&record).unwrap();
        assert_eq!(s.start, 5);
        assert_eq!(s.interval_ms, 60_000);
        assert_eq!(s.tags, vec![Tag::new("Action", "Cron")]);
        let p = ProcessId([1; 32]);
        let msg = tick_message(&record, &s, &p, 2, 120_005);
        assert_eq!(msg["Cron"], true);
        assert_eq!(msg["Timestamp"], 120_005);
        assert_eq!(msg["From"], record.owner);
        assert_eq!(msg["Tags"][0]["name"], "Action");
        assert_eq!(msg["Id"], tick_id(&p, 2));
        assert_ne!(tick_id(&p, 2), tick_id(&p, 3));
        assert_ne!(tick_id(&p, 2), tick_id(&ProcessId([2; 32]), 2));
    }
}
