//! The live feed: polls a process's results and shows what reaches it while you sit at the
//! prompt — what its handlers printed, and their errors in red — and keeps the prompt (its
//! `[Inbox:N]`) up to date. `.pause` queues notices, `.live` prints the queue and resumes.
//! `aos --watch=ID` is this feed alone, on any process.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aos_units::result::ProcessResult;

use crate::connection::Feed;
use crate::session::Session;
use crate::style::Style;

const POLL: Duration = Duration::from_millis(300);

/// What the feed and the REPL share.
#[derive(Debug, Default)]
pub struct LiveState {
    pub paused: bool,
    /// Notices that arrived while paused, in order.
    pub queued: Vec<String>,
    /// The newest prompt a result carried.
    pub prompt: Option<String>,
    /// Slots of this shell's own evals: the REPL shows their output and errors itself.
    pub own_slots: BTreeSet<u64>,
}

pub type Shared = Arc<Mutex<LiveState>>;

pub fn lock(state: &Shared) -> std::sync::MutexGuard<'_, LiveState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The notices one result makes: what was printed, then its error.
pub fn notices_of(result: &ProcessResult, style: Style) -> Vec<String> {
    let mut out = Vec::new();
    if result.printed() {
        let text = result.output_text();
        if !text.is_empty() {
            out.push(style.notice(&text));
        }
    }
    if let Some(error) = result.error_text() {
        out.push(style.error(&format!("handler error: {error}")));
    }
    out
}

/// Polls `session`'s process from its newest result on and hands each notice to `show`.
pub async fn follow(
    session: Arc<Session>,
    state: Shared,
    style: Style,
    mut show: impl FnMut(String) + Send + 'static,
) {
    // Start after what is there already: only what arrives from now on is news.
    let mut cursors = [(Feed::Messages, None), (Feed::Cron, None)];
    for (feed, cursor) in &mut cursors {
        if let Ok(newest) = session.conn.newest_key(&session.process, *feed).await {
            *cursor = newest;
        }
    }
    loop {
        tokio::time::sleep(POLL).await;
        for (feed, cursor) in &mut cursors {
            let Ok(fresh) = session
                .conn
                .results_after(&session.process, *cursor, *feed)
                .await
            else {
                continue;
            };
            for (key, result) in fresh {
                *cursor = Some(key);
                // Shown outside the lock: the line editor takes it to redraw the prompt.
                let shown = {
                    let mut live = lock(&state);
                    if let Some(prompt) = result.prompt().map(str::to_owned) {
                        live.prompt = Some(prompt);
                    }
                    if *feed == Feed::Messages && live.own_slots.remove(&key) {
                        continue;
                    }
                    let notices = notices_of(&result, style);
                    if live.paused {
                        live.queued.extend(notices);
                        continue;
                    }
                    notices
                };
                for notice in shown {
                    show(notice);
                }
            }
        }
    }
}

/// `aos --watch=ID`: the live feed of any process on stdout until Ctrl-C.
pub async fn watch(session: &Arc<Session>, style: Style) -> anyhow::Result<()> {
    println!(
        "watching {} on {} (read-only; Ctrl-C to stop)",
        session.process, session.info.location
    );
    let feed = tokio::spawn(follow(
        session.clone(),
        Shared::default(),
        style,
        |notice| println!("{notice}"),
    ));
    let _ = tokio::signal::ctrl_c().await;
    feed.abort();
    let _ = feed.await;
    Ok(())
}
