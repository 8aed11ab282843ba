//! Batch mode (contract): `aos NAME --run 'LUA'` or Lua on stdin. The whole input is one Eval;
//! the Output goes to stdout and exit 0, an error goes to stderr and exit 1. Before exiting, wait
//! (bounded) until what the eval sent has been delivered and computed.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::connection::Crank;
use crate::session::{Session, error_of, output_text};

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub json: bool,
    pub wait: Option<Duration>,
}

pub async fn run(session: &Session, code: &str, opts: &BatchOptions) -> Result<ExitCode> {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("evaluating");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
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
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        let text = output_text(&result);
        if !text.is_empty() {
            println!("{text}");
        }
    }
    match error_of(&result) {
        Some(error) => {
            eprintln!("{error}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
