//! Batch mode (contract): `aos NAME --run 'LUA'` or Lua on stdin. The whole input is one Eval;
//! the Output goes to stdout and exit 0, an error goes to stderr and exit 1. Before exiting, wait
//! (bounded) until what the eval sent has been delivered and computed.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::connection::{Crank, Feed};
use aos_units::result::ProcessResult;

use crate::session::Session;

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub json: bool,
    pub wait: Option<Duration>,
    /// Evaluate read-only (`--dry-run`): nothing is stored or sent.
    pub dry_run: bool,
}

pub async fn run(session: &Session, code: &str, opts: &BatchOptions) -> Result<ExitCode> {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("evaluating");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    if opts.dry_run {
        let result = session.dry_eval(code).await?;
        if let Some(bar) = spinner {
            bar.finish_and_clear();
        }
        return report(&result, opts.json);
    }
    let (id, result) = session.eval(code).await?;
    let mut crank = Crank {
        done: true,
        ..Crank::default()
    };
    if let Some(timeout) = opts.wait {
        if let Some(bar) = &spinner {
            bar.set_message("delivering");
        }
        crank = session.wait_cranked(&id, timeout).await?;
    }
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    if !crank.done {
        eprintln!("aos: messages sent by this eval were still being delivered after the wait");
    }
    for (target, reason) in &crank.undeliverable {
        eprintln!("aos: not delivered to {target}: {reason}");
    }
    // Only a script that waits on a reply has more to say later; any other script's later
    // results are other messages' business (notices of its own sends, say).
    let receives = code.contains("receive(") || code.contains("Receive(");
    let later = match opts.wait {
        Some(_) if receives && !opts.json => printed_after(session, &id).await,
        _ => Vec::new(),
    };
    let code = report(&result, opts.json)?;
    for text in later {
        println!("{text}");
    }
    Ok(code)
}

/// What the process printed in the messages after the eval, up to now: the part of an eval
/// after `.receive()` runs when the reply arrives, in the reply's own result.
async fn printed_after(session: &Session, eval: &str) -> Vec<String> {
    let Ok(Some(slot)) = session.conn.slot_of(eval, &session.process).await else {
        return Vec::new();
    };
    let Ok(later) = session
        .conn
        .results_after(&session.process, Some(slot), Feed::Messages)
        .await
    else {
        return Vec::new();
    };
    later
        .iter()
        .filter(|(_, result)| result.printed())
        .map(|(_, result)| result.output_text())
        .filter(|text| !text.is_empty())
        .collect()
}

/// Prints a result's Output (or all of it as JSON) and its error; exit 1 on an error.
fn report(result: &ProcessResult, json: bool) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(&result.to_value())?);
    } else {
        let text = result.output_text();
        if !text.is_empty() {
            println!("{text}");
        }
    }
    match result.error_text() {
        Some(error) => {
            eprintln!("{error}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
