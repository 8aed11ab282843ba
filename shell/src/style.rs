//! The shell's own colours (prompt, notices, errors), kept apart from whatever colours the
//! process puts in its output. Colour is on only on a terminal and without `NO_COLOR`
//! (no-color.org: set and not empty); when it is off, the process's escape codes are removed too.

use std::io::IsTerminal;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const BLUE: &str = "\x1b[34m";
const YELLOW: &str = "\x1b[33m";
const GRAY: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }

    pub fn error(self, text: &str) -> String {
        self.paint(RED, text)
    }

    /// What the process printed: passed through, or stripped of escape codes without colour.
    pub fn output(self, text: &str) -> String {
        if self.color {
            text.to_owned()
        } else {
            strip_ansi(text)
        }
    }

    /// A live notice: the process's text, marked in yellow unless it brings its own colours.
    pub fn notice(self, text: &str) -> String {
        if text.contains('\x1b') {
            self.output(text)
        } else {
            self.paint(YELLOW, text)
        }
    }

    /// The process's prompt; a plain `name@aos-…[Inbox:N]> ` gets aos's colours.
    pub fn prompt(self, prompt: &str) -> String {
        if !self.color {
            return strip_ansi(prompt);
        }
        if prompt.contains('\x1b') {
            return prompt.to_owned();
        }
        // The palette of aos's own `Prompt()` (and of lua/process.lua's), so a plain prompt
        // looks like the coloured one a current process sends.
        let Some((name, rest)) = prompt.split_once('@') else {
            return prompt.to_owned();
        };
        let inbox = rest.find("[Inbox:").and_then(|at| {
            let count = &rest[at + "[Inbox:".len()..];
            let close = count.find(']')?;
            Some((&rest[..at], &count[..close], &count[close + 1..]))
        });
        match inbox {
            Some((host, count, tail)) => format!(
                "{GREEN}{name}{GRAY}@{BLUE}{host}{GRAY}[Inbox:{RED}{count}{GRAY}]{RESET}{tail}"
            ),
            None => format!("{GREEN}{name}{GRAY}@{BLUE}{rest}{RESET}"),
        }
    }

    fn paint(self, colour: &str, text: &str) -> String {
        if self.color {
            format!("{colour}{text}{RESET}")
        } else {
            strip_ansi(text)
        }
    }
}

/// `text` without ANSI escape sequences (CSI `ESC [ … letter` and two-character `ESC x`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() || c == '~' {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_colour_escape_codes_are_stripped() {
        let off = Style { color: false };
        assert_eq!(off.output("\x1b[32mok\x1b[0m"), "ok");
        assert_eq!(off.error("bad"), "bad");
        assert_eq!(
            off.prompt("\x1b[1ma@aos-1[Inbox:2]> \x1b[0m"),
            "a@aos-1[Inbox:2]> "
        );
    }

    #[test]
    fn with_colour_a_plain_prompt_gets_the_colours_of_aos_prompt_and_keeps_its_text() {
        let on = Style { color: true };
        let prompt = on.prompt("alice@aos-2.0[Inbox:3]> ");
        // Exactly what lua/process.lua's Prompt() makes of the same text.
        assert_eq!(
            prompt,
            "\x1b[32malice\x1b[90m@\x1b[34maos-2.0\x1b[90m[Inbox:\x1b[31m3\x1b[90m]\x1b[0m> "
        );
        assert_eq!(strip_ansi(&prompt), "alice@aos-2.0[Inbox:3]> ");
        assert_eq!(
            strip_ansi(&on.prompt("bob@aos> ")),
            "bob@aos> ",
            "without an Inbox count"
        );
        assert_eq!(on.prompt("> "), "> ");
        assert_eq!(on.error("x"), format!("{RED}x{RESET}"));
    }
}
