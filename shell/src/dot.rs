//! Dot-commands typed at the REPL: parsing their arguments, and the Lua they send.

use std::path::PathBuf;

pub const DOT_COMMANDS: &[(&str, &str)] = &[
    (
        ".load",
        "FILE       evaluate a Lua file and the local files it requires",
    ),
    (".load-blueprint", "NAME  evaluate a bundled blueprint"),
    (
        ".editor",
        "           enter several lines; .done sends, .cancel drops, .print shows, .delete drops the last",
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
        "             show live messages again, and those queued while paused",
    ),
    (
        ".pause",
        "            queue live messages instead of showing them",
    ),
    (
        ".monitor",
        "          run the process's cron ticks as they fall due",
    ),
    (".unmonitor", "        stop real-time cron ticks"),
    (".help", "             this list"),
    (".exit", "             leave (also Ctrl-D)"),
];

/// What `.help` prints: one line per dot-command; `.load-blueprint`'s names the bundled
/// blueprints, taken from the binary so the list follows `lua/blueprints/`.
pub fn help() -> String {
    DOT_COMMANDS
        .iter()
        .map(|(name, text)| match *name {
            ".load-blueprint" => format!(
                "  {name} {text}: {}\n",
                crate::blueprints::names().join(", ")
            ),
            _ => format!("  {name} {text}\n"),
        })
        .collect()
}

/// `.load`'s argument: a path, optionally in quotes as aos users type it.
pub fn load_path(arg: &str) -> Result<PathBuf, String> {
    let arg = arg.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| arg.strip_prefix(*q).and_then(|a| a.strip_suffix(*q)))
        .unwrap_or(arg);
    if unquoted.is_empty() {
        return Err(".load needs a file: .load FILE".into());
    }
    Ok(PathBuf::from(unquoted))
}

/// The Lua that lists the last `n` Inbox messages (`arg` empty: 10).
pub fn inbox_code(arg: &str) -> Result<String, String> {
    let n: usize = match arg.trim() {
        "" => 10,
        n => n
            .parse()
            .map_err(|_| format!(".inbox takes a number of messages, not {n:?}"))?,
    };
    Ok(format!(
        "local out = {{}} local first = math.max(1, #Inbox - {n} + 1) \
         for i = first, #Inbox do local m = Inbox[i] \
         out[#out + 1] = string.format('%d: from %s, Action = %s, Data = %s', i, tostring(m.From), tostring(m.Action), tostring(m.Data)) end \
         if #out == 0 then return 'Inbox is empty' end return table.concat(out, '\\n')"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_takes_quoted_and_bare_paths_and_needs_one() {
        assert_eq!(load_path("\"f.lua\""), Ok(PathBuf::from("f.lua")));
        assert_eq!(load_path("'a b.lua'"), Ok(PathBuf::from("a b.lua")));
        assert_eq!(load_path("f.lua"), Ok(PathBuf::from("f.lua")));
        assert!(load_path("").is_err());
        assert!(load_path("\"\"").is_err());
    }

    #[test]
    fn help_names_every_blueprint_in_lua_blueprints() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lua/blueprints");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.unwrap().path();
                let lua = path.extension().is_some_and(|x| x == "lua");
                lua.then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
            })
            .collect();
        names.sort();
        assert!(names.len() >= 7, "{names:?}");
        let line = help()
            .lines()
            .find(|l| l.trim_start().starts_with(".load-blueprint"))
            .unwrap()
            .to_owned();
        assert!(line.ends_with(&format!(": {}", names.join(", "))), "{line}");
    }

    #[test]
    fn inbox_takes_a_count_or_nothing() {
        assert!(inbox_code("").unwrap().contains("#Inbox - 10 + 1"));
        assert!(inbox_code("3").unwrap().contains("#Inbox - 3 + 1"));
        assert_eq!(
            inbox_code("foo"),
            Err(".inbox takes a number of messages, not \"foo\"".into())
        );
    }
}
