//! Is a chunk of typed Lua finished? Answered by a native Lua parser (mlua), the way the Lua REPL
//! does: a syntax error at end of input means "keep reading". Nothing is executed here.

use mlua::Lua;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Send it (it may still hold a syntax error: the process reports that).
    Complete,
    /// An unfinished block or string: read another line.
    Incomplete,
}

/// Parses without running: `return <src>` first (expressions), then `<src>` (statements).
pub fn check(lua: &Lua, src: &str) -> Completeness {
    let as_expression = format!("return {src}");
    if lua.load(&as_expression).into_function().is_ok() {
        return Completeness::Complete;
    }
    match lua.load(src).into_function() {
        // A quoted string cannot span lines: another line would only turn "unfinished string
        // near <eof>" into the same error a line later. Long strings and comments may continue.
        Err(mlua::Error::SyntaxError {
            incomplete_input: true,
            message,
        }) if !message.contains("unfinished string") => Completeness::Incomplete,
        _ => Completeness::Complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_blocks_continue_and_finished_ones_send() {
        let lua = Lua::new();
        assert_eq!(check(&lua, "1 + 1"), Completeness::Complete);
        assert_eq!(check(&lua, "function f()"), Completeness::Incomplete);
        assert_eq!(
            check(&lua, "function f()\n  return 1\nend"),
            Completeness::Complete
        );
        assert_eq!(check(&lua, "x = [[long"), Completeness::Incomplete);
        assert_eq!(
            check(&lua, "Handlers.add('a', function(m)"),
            Completeness::Incomplete
        );
        // An unterminated quoted string is sent (the process names the error) rather than
        // swallowing the next line; a long string or comment continues.
        assert_eq!(check(&lua, "x = \"abc"), Completeness::Complete);
        assert_eq!(check(&lua, "print('abc"), Completeness::Complete);
        assert_eq!(check(&lua, "--[[ note"), Completeness::Incomplete);
        // A plain syntax error is complete: the process answers with the error.
        assert_eq!(check(&lua, "x = = 1"), Completeness::Complete);
    }
}
