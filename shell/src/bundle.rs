//! `.load FILE`: the file and the local files it `require`s, bundled into one Eval.
//!
//! Each file travels as a string and is compiled inside the process with `load(src, "@path")`, so a
//! syntax or runtime error names the file and the line *in that file* — not a line of the bundle.
//! Required files become `package.preload` entries (and leave `package.loaded`, so a second
//! `.load` picks up edits).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A bundle ready to send as Eval data, with the files it holds.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub code: String,
    pub files: Vec<PathBuf>,
}

/// Reads `entry` and every local module it requires (transitively).
pub fn bundle(entry: &Path) -> Result<Bundle> {
    let entry_src = std::fs::read_to_string(entry)
        .with_context(|| format!("cannot read {}", entry.display()))?;
    let base = entry.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut modules: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    let mut queue: Vec<String> = requires(&entry_src);
    while let Some(name) = queue.pop() {
        if modules.contains_key(&name) {
            continue;
        }
        let Some(path) = resolve(&base, &name) else {
            continue; // not a local file: a library module the process provides
        };
        let src = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} (required as {name:?})", path.display()))?;
        queue.extend(requires(&src));
        modules.insert(name, (path, src));
    }
    let mut code = String::from(
        "local __aos_chunk = function(src, name)\n  local fn, err = load(src, name)\n  if not fn then error(err, 0) end\n  return fn\nend\n",
    );
    let mut files = Vec::new();
    for (name, (path, src)) in &modules {
        let label = display_name(&base, path);
        code.push_str(&format!(
            "package.loaded[ {name} ] = nil\npackage.preload[ {name} ] = __aos_chunk({src}, {chunk})\n",
            name = lua_string(name)?,
            src = lua_string(src)?,
            chunk = lua_string(&format!("@{label}"))?,
        ));
        files.push(path.clone());
    }
    code.push_str(&format!(
        "return __aos_chunk({src}, {chunk})()\n",
        src = lua_string(&entry_src)?,
        chunk = lua_string(&format!("@{}", display_name(&base, entry)))?
    ));
    files.insert(0, entry.to_path_buf());
    Ok(Bundle { code, files })
}

/// The module names a chunk passes to `require` as string literals.
pub fn requires(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("require") {
        let before = &rest[..at];
        rest = &rest[at + "require".len()..];
        // Skip identifiers that merely end in "require" (e.g. `myrequire`).
        if before
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == ':')
        {
            continue;
        }
        let trimmed = rest.trim_start();
        let trimmed = trimmed.strip_prefix('(').map_or(trimmed, str::trim_start);
        let Some(quote) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = trimmed[1..].find(quote) {
            out.push(trimmed[1..1 + end].to_owned());
        }
    }
    out
}

/// `a.b` → `base/a/b.lua` or `base/a/b/init.lua`, if such a file exists.
fn resolve(base: &Path, name: &str) -> Option<PathBuf> {
    if name.starts_with('.') || name.is_empty() {
        return None; // `.json`, `.bint`…: the process library's own modules
    }
    let relative = name.replace('.', "/");
    [
        base.join(format!("{relative}.lua")),
        base.join(&relative).join("init.lua"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn display_name(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A Lua long-bracket literal that cannot be closed by the text inside it.
pub fn lua_string(text: &str) -> Result<String> {
    for level in 0..64 {
        let close = format!("]{}]", "=".repeat(level));
        if !text.contains(&close) && !text.ends_with(&format!("]{}", "=".repeat(level))) {
            let open = format!("[{}[", "=".repeat(level));
            // A long bracket drops a first newline: keep it by adding one.
            let lead = if text.starts_with('\n') || text.starts_with('\r') {
                "\n"
            } else {
                ""
            };
            return Ok(format!("{open}{lead}{text}{close}"));
        }
    }
    bail!("cannot quote this text as a Lua string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_required_names_in_every_call_form() {
        let src = r#"local a = require("lib.a")
local b = require 'b'
local c = require"c"
local j = require(".json") -- library module
local x = myrequire("no")
"#;
        assert_eq!(requires(src), vec!["lib.a", "b", "c", ".json"]);
    }

    #[test]
    fn long_brackets_never_close_early() {
        let nasty = "x = [[a]] .. [==[b]==]";
        let quoted = lua_string(nasty).unwrap();
        assert!(
            quoted.starts_with("[=[") || quoted.starts_with("[===["),
            "{quoted}"
        );
        assert_eq!(lua_string("\nlead").unwrap(), "[[\n\nlead]]");
    }

    #[test]
    fn bundles_local_requires_transitively_and_skips_library_modules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(
            dir.path().join("main.lua"),
            "local a = require('lib.a')\nlocal j = require('.json')\nreturn a.name",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("lib/a.lua"),
            "local b = require('b')\nreturn { name = 'a' .. b }",
        )
        .unwrap();
        std::fs::write(dir.path().join("b.lua"), "return 'b'").unwrap();
        let bundle = bundle(&dir.path().join("main.lua")).unwrap();
        assert_eq!(bundle.files.len(), 3);
        assert!(bundle.code.contains("package.preload[ [[lib.a]] ]"));
        assert!(bundle.code.contains("package.preload[ [[b]] ]"));
        assert!(bundle.code.contains("[[@lib/a.lua]]"));
        assert!(!bundle.code.contains("[[.json]]"));
    }

    #[test]
    fn missing_entry_is_a_clear_error() {
        let err = bundle(Path::new("/definitely/not/here.lua")).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
