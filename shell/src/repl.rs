//! The interactive shell: a rustyline loop that signs each chunk as an Eval, prints the Output
//! (errors in red), follows the process's prompt, and shows live messages above the prompt.
//! Ctrl-C while waiting for a result stops the wait (the message is scheduled already), and input
//! typed meanwhile is kept for the next prompt (rustyline's `buffer-redux` keeps what it read).

use std::borrow::Cow;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use aos_units::result::ProcessResult;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter, Helper};
use tokio::runtime::Handle;

use crate::dot::{self, DOT_COMMANDS};
use crate::live::{self, Shared, lock};
use crate::session::Session;
use crate::style::{Style, strip_ansi};
use crate::syntax::{self, Completeness};
use crate::{blueprints, bundle};

type LineEditor = Editor<ShellHelper, rustyline::history::DefaultHistory>;

struct ShellHelper {
    globals: Arc<Mutex<Vec<String>>>,
    live: Shared,
    style: Style,
    /// The styled main prompt this readline was given; a live prompt replaces only that one.
    shown: Mutex<String>,
    dry_run: Mutex<bool>,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .map_or(0, |i| i + 1);
        let word = &head[start..];
        let mut out = Vec::new();
        if start == 0 && word.starts_with('.') {
            for (cmd, _) in DOT_COMMANDS {
                if cmd.starts_with(word) {
                    out.push(Pair {
                        display: (*cmd).to_owned(),
                        replacement: format!("{cmd} "),
                    });
                }
            }
        } else if !word.is_empty() {
            for name in self.globals.lock().expect("globals lock").iter() {
                if name.starts_with(word) {
                    out.push(Pair {
                        display: name.clone(),
                        replacement: name.clone(),
                    });
                }
            }
        }
        Ok((start, out))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        // The [Inbox:N] of a message that arrived while this line is being typed. (rustyline
        // keeps the cursor column of the prompt it started with; a count that gains a digit
        // shifts the cursor by one until the next prompt.)
        let main_prompt = default && *prompt == *self.shown.lock().expect("prompt lock");
        if main_prompt && let Some(newer) = lock(&self.live).prompt.clone() {
            let dry = *self.dry_run.lock().expect("dry-run lock");
            return Cow::Owned(self.style.prompt(&decorate(&newer, dry)));
        }
        Cow::Borrowed(prompt)
    }
}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

fn decorate(prompt: &str, dry_run: bool) -> String {
    if dry_run {
        format!("[dry-run] {prompt}")
    } else {
        prompt.to_owned()
    }
}

/// How waiting for a result ended.
enum Waited {
    Done(ProcessResult),
    /// Ctrl-C: the wait stopped, the message stays scheduled.
    Interrupted,
}

/// Waits for `result`, with a spinner naming `id` after 300 ms, until it is done or Ctrl-C.
async fn wait_for(
    id: Option<&str>,
    interrupts: &mut tokio::signal::unix::Signal,
    result: impl std::future::Future<Output = Result<ProcessResult>>,
) -> Result<Waited> {
    tokio::pin!(result);
    let show_spinner = tokio::time::sleep(Duration::from_millis(300));
    tokio::pin!(show_spinner);
    let mut spinner: Option<indicatif::ProgressBar> = None;
    let outcome = loop {
        tokio::select! {
            done = &mut result => break done.map(Waited::Done),
            _ = interrupts.recv() => break Ok(Waited::Interrupted),
            () = &mut show_spinner, if spinner.is_none() => {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_message(match id {
                    Some(id) => format!("waiting for the result of {id} (Ctrl-C stops waiting)"),
                    None => "waiting for the dry-run (Ctrl-C stops waiting)".to_owned(),
                });
                bar.enable_steady_tick(Duration::from_millis(100));
                spinner = Some(bar);
            }
        }
    };
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    outcome
}

/// A Ctrl-C pressed while no wait was running (during a `.monitor`, say) must not stop the next.
fn forget_old_interrupts(interrupts: &mut tokio::signal::unix::Signal) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    while let std::task::Poll::Ready(Some(())) = interrupts.poll_recv(&mut cx) {}
}

/// Runs the REPL until `.exit` or Ctrl-D.
pub fn run(session: &Arc<Session>, rt: &Handle) -> Result<ExitCode> {
    let style = Style::detect();
    println!(
        "aos {} — process {} ({})",
        env!("CARGO_PKG_VERSION"),
        session.process,
        session.name
    );
    println!("wallet {}", session.wallet.address());
    println!("node {} — {}", session.info.address, session.info.location);
    println!("type Lua to evaluate it in your process; .help for commands, .exit to leave\n");

    // From here on Ctrl-C outside the line editor (which reads it as a key) stops a wait
    // instead of killing the shell.
    let mut interrupts = {
        let _guard = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?
    };
    let globals = Arc::new(Mutex::new(Vec::new()));
    let live_state = Shared::default();
    let mut editor: LineEditor = Editor::new()?;
    editor.set_helper(Some(ShellHelper {
        globals: globals.clone(),
        live: live_state.clone(),
        style,
        shown: Mutex::new(String::new()),
        dry_run: Mutex::new(false),
    }));
    let history = session
        .data_dir
        .join("history")
        .join(format!("{}.txt", session.process));
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.load_history(&history);

    let mut prompt = rt
        .block_on(session.dry_eval(GLOBALS_PROBE))
        .ok()
        .map(|result| {
            *globals.lock().expect("globals lock") = names_of(&result);
            result
                .prompt()
                .map(str::to_owned)
                .unwrap_or_else(|| "aos> ".into())
        })
        .unwrap_or_else(|| "aos> ".into());

    if let Ok(mut printer) = editor.create_external_printer() {
        rt.spawn(live::follow(
            session.clone(),
            live_state.clone(),
            style,
            move |notice| {
                let _ = printer.print(format!("{notice}\n"));
            },
        ));
    }
    let lua = mlua::Lua::new();
    let mut dry_run = false;
    loop {
        let raw = strip_ansi(&decorate(&prompt, dry_run));
        let styled = style.prompt(&decorate(&prompt, dry_run));
        if let Some(helper) = editor.helper() {
            *helper.shown.lock().expect("prompt lock") = styled.clone();
            *helper.dry_run.lock().expect("dry-run lock") = dry_run;
        }
        // A prompt from before this readline is no news to the highlighter.
        lock(&live_state).prompt = None;
        let mut chunk = match editor.readline(&(raw.as_str(), styled.as_str())) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if let Some(newer) = lock(&live_state).prompt.take() {
            prompt = newer;
        }
        let continuation = format!("{}... ", " ".repeat(raw.len().saturating_sub(4)));
        while syntax::check(&lua, &chunk) == Completeness::Incomplete {
            match editor.readline(&continuation) {
                Ok(more) => {
                    chunk.push('\n');
                    chunk.push_str(&more);
                }
                Err(ReadlineError::Interrupted) => {
                    chunk.clear();
                    break;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            }
        }
        let line = chunk.trim();
        if line.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(chunk.as_str());
        // Saved as we go: a shell that dies later keeps what was typed.
        let _ = editor.append_history(&history);
        let code = if line.starts_with('.') {
            let (cmd, arg) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(c, a)| (c, a.trim()));
            match cmd {
                ".exit" => break,
                ".help" => {
                    print!("{}", dot::help());
                    continue;
                }
                ".dryrun" => {
                    dry_run = !dry_run;
                    println!(
                        "dry-run mode {}",
                        if dry_run {
                            "on: evals change nothing"
                        } else {
                            "off"
                        }
                    );
                    continue;
                }
                ".live" => {
                    let queued = {
                        let mut live = lock(&live_state);
                        live.paused = false;
                        std::mem::take(&mut live.queued)
                    };
                    println!("live feed on");
                    for notice in queued {
                        println!("{notice}");
                    }
                    continue;
                }
                ".pause" => {
                    lock(&live_state).paused = true;
                    println!("live feed paused: messages are queued until .live");
                    continue;
                }
                ".monitor" | ".unmonitor" => {
                    let on = cmd == ".monitor";
                    match rt.block_on(session.monitor(on)) {
                        Ok(()) => println!(
                            "{}",
                            if on {
                                "monitoring: cron ticks run as they fall due"
                            } else {
                                "not monitoring: ticks wait for the next message"
                            }
                        ),
                        Err(e) => println!("{}", style.error(&format!("{e:#}"))),
                    }
                    continue;
                }
                ".load" => match dot::load_path(arg)
                    .map_err(anyhow::Error::msg)
                    .and_then(|path| bundle::bundle(&path))
                {
                    Ok(bundle) => {
                        println!(
                            "loading {}",
                            bundle
                                .files
                                .iter()
                                .map(|f| f.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                        bundle.code
                    }
                    Err(e) => {
                        println!("{}", style.error(&format!("{e:#}")));
                        continue;
                    }
                },
                ".load-blueprint" => match blueprints::source(arg) {
                    Some(src) => src.to_owned(),
                    None => {
                        println!(
                            "{}",
                            style.error(&format!(
                                "no blueprint {arg:?}; there are: {}",
                                blueprints::names().join(", ")
                            ))
                        );
                        continue;
                    }
                },
                ".editor" => match read_editor(&mut editor)? {
                    Some(code) => code,
                    None => continue,
                },
                ".inbox" => match dot::inbox_code(arg) {
                    Ok(code) => code,
                    Err(e) => {
                        println!("{}", style.error(&e));
                        continue;
                    }
                },
                other => {
                    println!(
                        "{}",
                        style.error(&format!("unknown command {other}; .help lists them"))
                    );
                    continue;
                }
            }
        } else {
            chunk.clone()
        };
        let outcome = rt.block_on(async {
            forget_old_interrupts(&mut interrupts);
            if dry_run {
                return wait_for(None, &mut interrupts, session.dry_eval(&code)).await;
            }
            let item = session.eval_item(&code)?;
            let id = session.conn.submit(&item).await?;
            if let Ok(Some(slot)) = session.conn.slot_of(&id, &session.process).await {
                lock(&live_state).own_slots.insert(slot);
            }
            let waited = wait_for(
                Some(&id),
                &mut interrupts,
                session.conn.result(&id, &session.process),
            )
            .await?;
            if matches!(waited, Waited::Interrupted) {
                println!(
                    "\nstopped waiting for {id}: it is scheduled and still runs (nothing is undone)"
                );
            }
            Ok(waited)
        });
        match outcome {
            Ok(Waited::Done(result)) => {
                let text = result.output_text();
                if !text.is_empty() {
                    println!("{}", style.output(&text));
                }
                if let Some(error) = result.error_text() {
                    println!("{}", style.error(&error));
                }
                if let Some(next) = result.prompt().map(str::to_owned) {
                    prompt = next;
                }
                if !dry_run {
                    refresh_globals(rt, session, &globals);
                }
            }
            Ok(Waited::Interrupted) => {}
            Err(e) => println!("{}", style.error(&format!("{e:#}"))),
        }
    }
    let _ = editor.append_history(&history);
    Ok(ExitCode::SUCCESS)
}

const GLOBALS_PROBE: &str = "local names = {} for k in pairs(_G) do if type(k) == 'string' then names[#names + 1] = k end end table.sort(names) return table.concat(names, ' ')";

fn names_of(probe: &ProcessResult) -> Vec<String> {
    probe
        .output_text()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Re-reads the process's global names in the background (a dry-run, so nothing changes), so
/// that what the last eval defined completes on Tab.
fn refresh_globals(rt: &Handle, session: &Arc<Session>, globals: &Arc<Mutex<Vec<String>>>) {
    let (session, globals) = (session.clone(), globals.clone());
    rt.spawn(async move {
        if let Ok(probe) = session.dry_eval(GLOBALS_PROBE).await {
            *globals.lock().expect("globals lock") = names_of(&probe);
        }
    });
}

/// aos's `.editor`: lines until `.done` (send) or `.cancel` (drop); `.print` shows what is
/// there, `.delete` drops the last line.
fn read_editor(editor: &mut LineEditor) -> Result<Option<String>> {
    println!("editor mode: .done sends, .cancel drops, .print shows, .delete drops the last line");
    let mut lines: Vec<String> = Vec::new();
    loop {
        match editor.readline("| ") {
            Ok(line) => match line.trim() {
                ".done" => return Ok(Some(lines.join("\n"))),
                ".cancel" => return Ok(None),
                ".print" => {
                    for (i, line) in lines.iter().enumerate() {
                        println!("{:>3}| {line}", i + 1);
                    }
                }
                ".delete" => match lines.pop() {
                    Some(line) => println!("deleted: {line}"),
                    None => println!("nothing to delete"),
                },
                _ => lines.push(line),
            },
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}
