//! The interactive shell: a rustyline loop that signs each chunk as an Eval, prints the Output
//! (errors in red), follows the process's prompt, and shows live messages above the prompt.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, ExternalPrinter, Helper};
use serde_json::Value;
use tokio::runtime::Handle;

use crate::connection::Feed;
use crate::session::{Session, error_of, output_text, prompt_of};
use crate::syntax::{self, Completeness};
use crate::{blueprints, bundle};

const DOT_COMMANDS: &[(&str, &str)] = &[
    (
        ".load",
        "FILE       evaluate a Lua file and the local files it requires",
    ),
    (
        ".load-blueprint",
        "NAME  evaluate a bundled blueprint (token, chatroom, voting, staking)",
    ),
    (
        ".editor",
        "           enter several lines; .done sends, .cancel drops",
    ),
    (
        ".inbox",
        "[N]         show the last N messages in the process's Inbox",
    ),
    (
        ".dryrun",
        "           toggle read-only mode (evals change nothing)",
    ),
    (
        ".live",
        "             show messages reaching the process as they arrive",
    ),
    (".pause", "            stop showing live messages"),
    (
        ".monitor",
        "          run the process's cron ticks as they fall due",
    ),
    (".unmonitor", "        stop real-time cron ticks"),
    (".help", "             this list"),
    (".exit", "             leave (also Ctrl-D)"),
];

struct ShellHelper {
    globals: Arc<Mutex<Vec<String>>>,
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
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

/// Runs the REPL until `.exit` or Ctrl-D.
pub fn run(session: Session, rt: &Handle) -> Result<ExitCode> {
    let color = std::io::stdout().is_terminal();
    println!(
        "aos {} — process {} ({})",
        env!("CARGO_PKG_VERSION"),
        session.process,
        session.name
    );
    println!("node {} — {}", session.info.address, session.info.location);
    println!("type Lua to evaluate it in your process; .help for commands, .exit to leave\n");

    let globals = Arc::new(Mutex::new(Vec::new()));
    let mut editor: Editor<ShellHelper, rustyline::history::DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(ShellHelper {
        globals: globals.clone(),
    }));
    let history = session
        .data_dir
        .join("history")
        .join(format!("{}.txt", session.process));
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.load_history(&history);

    let session = Arc::new(session);
    let mut prompt = rt
        .block_on(session.dry_eval(GLOBALS_PROBE))
        .ok()
        .map(|result| {
            *globals.lock().expect("globals lock") = names_of(&result);
            prompt_of(&result).unwrap_or_else(|| "aos> ".into())
        })
        .unwrap_or_else(|| "aos> ".into());

    let live = Arc::new(std::sync::atomic::AtomicBool::new(true));
    if let Ok(printer) = editor.create_external_printer() {
        start_live_feed(rt, session.clone(), live.clone(), printer);
    }
    let lua = mlua::Lua::new();
    let mut dry_run = false;
    loop {
        let shown = if dry_run {
            format!("[dry-run] {prompt}")
        } else {
            prompt.clone()
        };
        let mut chunk = match editor.readline(&shown) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        while syntax::check(&lua, &chunk) == Completeness::Incomplete {
            match editor.readline(&format!(
                "{}... ",
                " ".repeat(shown.len().saturating_sub(4))
            )) {
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
        let code = if line.starts_with('.') {
            let (cmd, arg) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(c, a)| (c, a.trim()));
            match cmd {
                ".exit" => break,
                ".help" => {
                    for (name, text) in DOT_COMMANDS {
                        println!("  {name} {text}");
                    }
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
                ".live" | ".pause" => {
                    live.store(cmd == ".live", std::sync::atomic::Ordering::Relaxed);
                    println!("live feed {}", if cmd == ".live" { "on" } else { "paused" });
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
                        Err(e) => print_error(color, &format!("{e:#}")),
                    }
                    continue;
                }
                ".load" => match bundle::bundle(std::path::Path::new(arg)) {
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
                        print_error(color, &format!("{e:#}"));
                        continue;
                    }
                },
                ".load-blueprint" => match blueprints::source(arg) {
                    Some(src) => src.to_owned(),
                    None => {
                        print_error(
                            color,
                            &format!(
                                "no blueprint {arg:?}; there are: {}",
                                blueprints::names().join(", ")
                            ),
                        );
                        continue;
                    }
                },
                ".editor" => match read_editor(&mut editor)? {
                    Some(code) => code,
                    None => continue,
                },
                ".inbox" => inbox_code(arg),
                other => {
                    print_error(color, &format!("unknown command {other}; .help lists them"));
                    continue;
                }
            }
        } else {
            chunk.clone()
        };
        let outcome = if dry_run {
            rt.block_on(session.dry_eval(&code))
        } else {
            rt.block_on(session.eval(&code)).map(|(_, result)| result)
        };
        match outcome {
            Ok(result) => {
                let text = output_text(&result);
                if !text.is_empty() {
                    println!("{text}");
                }
                if let Some(error) = error_of(&result) {
                    print_error(color, &error);
                }
                if let Some(next) = prompt_of(&result) {
                    prompt = next;
                }
                if !dry_run {
                    refresh_globals(rt, &session, &globals);
                }
            }
            Err(e) => print_error(color, &format!("{e:#}")),
        }
    }
    let _ = editor.save_history(&history);
    Ok(ExitCode::SUCCESS)
}

const GLOBALS_PROBE: &str = "local names = {} for k in pairs(_G) do if type(k) == 'string' then names[#names + 1] = k end end table.sort(names) return table.concat(names, ' ')";

fn names_of(probe: &Value) -> Vec<String> {
    output_text(probe)
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

fn inbox_code(arg: &str) -> String {
    let n: usize = arg.parse().unwrap_or(10);
    format!(
        "local out = {{}} local first = math.max(1, #Inbox - {n} + 1) \
         for i = first, #Inbox do local m = Inbox[i] \
         out[#out + 1] = string.format('%d: from %s, Action = %s, Data = %s', i, tostring(m.From), tostring(m.Action), tostring(m.Data)) end \
         if #out == 0 then return 'Inbox is empty' end return table.concat(out, '\\n')"
    )
}

fn read_editor(
    editor: &mut Editor<ShellHelper, rustyline::history::DefaultHistory>,
) -> Result<Option<String>> {
    println!("editor mode: .done sends, .cancel drops");
    let mut lines = Vec::new();
    loop {
        match editor.readline("| ") {
            Ok(line) if line.trim() == ".done" => return Ok(Some(lines.join("\n"))),
            Ok(line) if line.trim() == ".cancel" => return Ok(None),
            Ok(line) => lines.push(line),
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}

fn print_error(color: bool, text: &str) {
    if color {
        println!("\x1b[31m{text}\x1b[0m");
    } else {
        println!("{text}");
    }
}

/// Polls the process's results and prints what was printed by messages that reached it.
fn start_live_feed(
    rt: &Handle,
    session: Arc<Session>,
    live: Arc<std::sync::atomic::AtomicBool>,
    mut printer: impl ExternalPrinter + Send + 'static,
) {
    rt.spawn(async move {
        // Start after what is there already: only what arrives from now on is news.
        let mut cursors = [(Feed::Messages, None), (Feed::Cron, None)];
        for (feed, cursor) in &mut cursors {
            if let Ok(newest) = session.conn.newest_key(&session.process, *feed).await {
                *cursor = newest;
            }
        }
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
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
                    let printed = result
                        .get("Output")
                        .and_then(|o| o.get("print"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    if printed && live.load(std::sync::atomic::Ordering::Relaxed) {
                        let text = output_text(&result);
                        if !text.is_empty() {
                            let _ = printer.print(format!("{text}\n"));
                        }
                    }
                }
            }
        }
    });
}
