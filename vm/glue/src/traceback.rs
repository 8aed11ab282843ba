//! `debug.traceback` without the `debug` library: the sandbox must not offer `getlocal`,
//! `setupvalue`, `sethook` and the rest (they reach into other functions' state and the
//! interpreter's hooks), but error messages want a traceback as aos prints one. This builds
//! Lua 5.4's `luaL_traceback` text from mlua's stack inspection: sources, lines and names
//! only, never an address, so the text is the same on every machine and every replay.

use std::ffi::{CStr, c_char, c_int};

use mlua::{Lua, MultiValue, Result, Thread, Value, ffi};

/// Frames shown from the top and from the bottom of a deep stack (Lua's LEVELS1/LEVELS2).
const TOP: usize = 10;
const BOTTOM: usize = 11;
/// Inspection stops here: deeper stacks are reported as skipped.
const MAX_LEVELS: usize = 10_000;

/// Installs the global `debug` table holding `traceback` and nothing else.
pub fn install(lua: &Lua) -> Result<()> {
    let debug = lua.create_table()?;
    debug.set("traceback", lua.create_function(traceback)?)?;
    lua.globals().set("debug", debug)
}

/// What a traceback line says about one frame.
struct Frame {
    short_src: String,
    current_line: Option<usize>,
    name_what: Option<String>,
    name: Option<String>,
    what: String,
    line_defined: usize,
    tail_call: bool,
}

impl Frame {
    /// The line, as `luaL_traceback` writes it.
    fn line(&self) -> String {
        let src = &self.short_src;
        let mut line = match self.current_line {
            Some(n) => format!("\n\t{src}:{n}: in "),
            None => format!("\n\t{src}: in "),
        };
        match (self.name_what.as_deref(), self.name.as_deref()) {
            (Some("global"), Some(name)) => line.push_str(&format!("function '{name}'")),
            (Some(what), Some(name)) if !what.is_empty() => {
                line.push_str(&format!("{what} '{name}'"))
            }
            _ if self.what == "main" => line.push_str("main chunk"),
            _ if self.what != "C" => {
                line.push_str(&format!("function <{src}:{}>", self.line_defined))
            }
            _ => line.push('?'),
        }
        if self.tail_call {
            line.push_str("\n\t(...tail calls...)");
        }
        line
    }
}

/// The frame at `level` of the running thread, or `None` above the stack's end.
fn frame(lua: &Lua, level: usize) -> Option<String> {
    lua.inspect_stack(level, |d| {
        let source = d.source();
        let names = d.names();
        Frame {
            short_src: source.short_src.as_deref().unwrap_or("?").to_owned(),
            current_line: d.current_line(),
            name_what: names.name_what.map(str::to_owned),
            name: names.name.map(|n| n.into_owned()),
            what: source.what.to_owned(),
            line_defined: source.line_defined.unwrap_or(0),
            tail_call: d.is_tail_call(),
        }
        .line()
    })
}

/// The frame at `level` of another coroutine (a handler's, after it failed): mlua inspects
/// only the running thread, so this reads it with the C API, as `luaL_traceback` does.
fn thread_frame(thread: &Thread, level: usize) -> Option<String> {
    let state = thread.state();
    let level = c_int::try_from(level).ok()?;
    let text = |p: *const c_char| {
        // SAFETY: lua_getinfo points these at NUL-terminated strings Lua owns (names and
        // literals), alive while the thread is; a null pointer means "no name".
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    // SAFETY: `state` is the coroutine's own lua_State, kept alive by `thread` for this call.
    // lua_getstack and lua_getinfo only read its call information into `ar` (zeroed, as
    // lua_getstack expects); the options "Slnt" push nothing on any stack.
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(state, level, &mut ar) == 0
            || ffi::lua_getinfo(state, c"Slnt".as_ptr(), &mut ar) == 0
        {
            return None;
        }
        Some(
            Frame {
                short_src: CStr::from_ptr(ar.short_src.as_ptr())
                    .to_string_lossy()
                    .into_owned(),
                current_line: usize::try_from(ar.currentline).ok().filter(|n| *n > 0),
                name_what: text(ar.namewhat),
                name: text(ar.name),
                what: text(ar.what).unwrap_or_default(),
                line_defined: usize::try_from(ar.linedefined).unwrap_or(0),
                tail_call: ar.istailcall != 0,
            }
            .line(),
        )
    }
}

/// `debug.traceback([thread,] [message [, level]])`, as Lua's: a message that is neither a
/// string nor a number nor nil comes back untouched; `level` counts from the caller (default 1)
/// or, for another coroutine, from its top (default 0).
fn traceback(lua: &Lua, args: MultiValue) -> Result<Value> {
    let mut args = args.into_iter().peekable();
    let thread = match args.peek() {
        Some(Value::Thread(t)) => {
            let t = t.clone();
            args.next();
            Some(t)
        }
        _ => None,
    };
    let message = args.next().unwrap_or(Value::Nil);
    let text = match &message {
        Value::Nil => None,
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(_) | Value::Number(_) => Some(message.to_string()?),
        _ => return Ok(message),
    };
    let level = match args.next() {
        Some(Value::Integer(n)) => usize::try_from(n).unwrap_or(0),
        Some(Value::Number(n)) if n >= 0.0 => n as usize,
        _ => usize::from(thread.is_none()),
    };
    let mut out = text.map(|t| format!("{t}\n")).unwrap_or_default();
    out.push_str("stack traceback:");
    let frames: Vec<String> = (level..level + MAX_LEVELS)
        .map_while(|l| match &thread {
            Some(t) => thread_frame(t, l),
            None => frame(lua, l),
        })
        .collect();
    if frames.len() > TOP + BOTTOM {
        frames[..TOP].iter().for_each(|f| out.push_str(f));
        let skipped = frames.len() - TOP - BOTTOM;
        out.push_str(&format!("\n\t...\t(skipping {skipped} levels)"));
        frames[frames.len() - BOTTOM..]
            .iter()
            .for_each(|f| out.push_str(f));
    } else {
        frames.iter().for_each(|f| out.push_str(f));
    }
    Ok(Value::String(lua.create_string(out)?))
}

#[cfg(test)]
mod tests {
    use mlua::Lua;

    fn lua() -> Lua {
        let lua = Lua::new();
        lua.globals().set("debug", mlua::Value::Nil).unwrap();
        super::install(&lua).unwrap();
        lua
    }

    #[test]
    fn names_files_lines_and_nothing_else() {
        let lua = lua();
        let text: String = lua
            .load(
                "local function inner() return debug.traceback('boom') end\n\
                 function outer() return (inner()) end\n\
                 local text = outer()\n\
                 return text",
            )
            .set_name("@demo.lua")
            .eval()
            .unwrap();
        assert_eq!(
            text,
            "boom\nstack traceback:\n\
             \tdemo.lua:1: in upvalue 'inner'\n\
             \tdemo.lua:2: in function 'outer'\n\
             \tdemo.lua:3: in main chunk"
        );
        assert!(!text.contains("0x"));
    }

    #[test]
    fn levels_tables_and_deep_stacks_as_lua_does() {
        let lua = lua();
        let skip_one: String = lua
            .load("local function f() return debug.traceback(nil, 2) end return (f())")
            .set_name("=x")
            .eval()
            .unwrap();
        assert!(
            skip_one.starts_with("stack traceback:\n\tx:1: in main chunk"),
            "{skip_one}"
        );
        let untouched: bool = lua
            .load("local t = {} return debug.traceback(t) == t")
            .eval()
            .unwrap();
        assert!(untouched);
        let deep: String = lua
            .load("local function r(n) if n == 0 then return debug.traceback() end return (r(n - 1)) end return r(50)")
            // r(50)..r(0) are 51 frames (the main chunk's `return r(50)` is a tail call).
            .set_name("=deep")
            .eval()
            .unwrap();
        assert!(deep.contains("\n\t...\t(skipping 30 levels)"), "{deep}");
        // The header, 10 frames, the skip, 11 frames and the last frame's tail-call marker.
        assert_eq!(deep.lines().count(), 1 + 10 + 1 + 11 + 1);
        let dead: String = lua
            .load(
                "local function fails() error('in a coroutine') end\n\
                 local co = coroutine.create(function() fails() end)\n\
                 coroutine.resume(co)\n\
                 return debug.traceback(co, 'why')",
            )
            .set_name("=co")
            .eval()
            .unwrap();
        assert_eq!(
            dead,
            "why\nstack traceback:\n\t[C]: in function 'error'\n\tco:1: in upvalue 'fails'\n\tco:2: in function <co:2>"
        );
        let only: mlua::Table = lua.globals().get("debug").unwrap();
        assert_eq!(
            only.pairs::<String, mlua::Value>().count(),
            1,
            "debug holds only traceback"
        );
    }
}
