//! The Lua side of a process, shared by the wasm guest (the real runtime) and the native one
//! (`aos_vm::NativeProcess`), so that both build the same sandbox and run messages the same way.
//!
//! It owns: which standard libraries a process gets (no files, no C modules, no wall clock, text
//! chunks only), how the process library is preloaded, and how one message goes in (JSON → Lua)
//! and its result comes out (Lua → JSON with sorted keys). It must never read anything that is not
//! in the message or env.

use std::cell::{Cell, RefCell};

use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};
use serde_json::{Map, Value as Json};

pub mod bit32;
pub mod cipher;
pub mod crypto;
pub mod decimal;
pub mod isaac;
pub mod json;
pub mod morus;
pub mod norx;
pub mod outbox;
pub mod result;
pub mod sqlite;
mod sqlite_vfs;
mod to_lua;
pub mod traceback;

thread_local! {
    /// The current message's timestamp in ms: what `os.time()` answers.
    static NOW_MS: Cell<i64> = const { Cell::new(0) };
    /// The last env's bytes and their JSON. A process gets the same env with every message, so
    /// its JSON is parsed once; the Lua tables are still built fresh for each message.
    static ENV: RefCell<Option<(Vec<u8>, Json)>> = const { RefCell::new(None) };
}

/// The current message's timestamp (ms).
pub(crate) fn now_ms() -> i64 {
    NOW_MS.with(Cell::get)
}

/// Builds a process's Lua state with `library` (name, source) preloaded as `name` and `.name`,
/// runs the library's setup (`require('.process')`) and caps the Lua heap at `memory_limit` bytes.
pub fn build_state(memory_limit: usize, library: &[(&str, &str)]) -> mlua::Result<Lua> {
    let libs = StdLib::COROUTINE
        | StdLib::TABLE
        | StdLib::STRING
        | StdLib::UTF8
        | StdLib::MATH
        | StdLib::PACKAGE
        | StdLib::OS;
    let lua = Lua::new_with(libs, LuaOptions::default())?;
    let globals = lua.globals();

    // Only the message's time: os.time() is its Timestamp (ms); os.date formats a given time.
    let os: Table = globals.get("os")?;
    let date: Function = os.get("date")?;
    let difftime: Function = os.get("difftime")?;
    let new_os = lua.create_table()?;
    new_os.set(
        "time",
        lua.create_function(|_, ()| Ok(NOW_MS.with(Cell::get)))?,
    )?;
    new_os.set(
        "date",
        lua.create_function(move |_, (format, time): (Option<String>, Option<i64>)| {
            let time = time.unwrap_or_else(|| NOW_MS.with(Cell::get) / 1000);
            // "!" forces UTC, so the host's time zone never matters.
            let format = format.unwrap_or_else(|| "!%c".into());
            let format = if format.starts_with('!') {
                format
            } else {
                format!("!{format}")
            };
            date.call::<Value>((format, time))
        })?,
    )?;
    new_os.set("difftime", difftime)?;
    globals.set("os", new_os)?;

    // No files, no C modules: require finds preloaded and Lua-defined modules only.
    for name in ["dofile", "loadfile"] {
        globals.set(name, Value::Nil)?;
    }
    let package: Table = globals.get("package")?;
    let searchers: Table = package.get("searchers")?;
    for index in (2..=searchers.raw_len()).rev() {
        searchers.raw_remove(index)?;
    }
    package.set("loadlib", Value::Nil)?;
    package.set("cpath", "")?;
    package.set("path", "")?;

    // Text chunks only: precompiled bytecode can corrupt the interpreter.
    let load: Function = globals.get("load")?;
    globals.set(
        "load",
        lua.create_function(move |_, args: mlua::Variadic<Value>| {
            let chunk = args.first().cloned().unwrap_or(Value::Nil);
            let name = args.get(1).cloned().unwrap_or(Value::Nil);
            // An explicit nil env would leave the chunk without globals: pass it only if given.
            match args.get(3) {
                Some(env) if args.len() >= 4 => {
                    load.call::<mlua::MultiValue>((chunk, name, "t", env.clone()))
                }
                _ => load.call::<mlua::MultiValue>((chunk, name, "t")),
            }
        })?,
    )?;

    install_batteries(&lua, &package, memory_limit)?;
    traceback::install(&lua)?;
    let preload: Table = package.get("preload")?;
    for (name, source) in library {
        let loader = lua
            .load(*source)
            .set_name(format!("@{name}.lua"))
            .into_function()?;
        preload.set(*name, loader.clone())?;
        preload.set(format!(".{name}"), loader)?;
    }
    // The library's own setup (Handlers, ao, Inbox…) runs once, at spawn, not inside a message.
    let process: Table = lua.load("return require('.process')").eval()?;
    lua.set_named_registry_value("aos.handle", process.get::<Function>("handle")?)?;
    lua.set_memory_limit(memory_limit)?;
    Ok(lua)
}

/// The native libraries: `bit32` (global and module), `lsqlite3`, the native halves of `json`
/// and `.crypto` (`aos.json`, `aos.crypto`), which `lua/json.lua` and `lua/crypto.lua` wrap, and
/// `aos.decimal` (balance-string sums for `lua/utils.lua`) and `aos.outbox` (`ao.send`'s tags).
fn install_batteries(lua: &Lua, package: &Table, memory_limit: usize) -> mlua::Result<()> {
    let loaded: Table = package.get("loaded")?;
    let bit32 = bit32::create(lua)?;
    lua.globals().set("bit32", bit32.clone())?;
    loaded.set("bit32", bit32.clone())?;
    loaded.set(".bit32", bit32)?;
    loaded.set("aos.json", json::create(lua)?)?;
    loaded.set("aos.crypto", crypto::create(lua)?)?;
    loaded.set("aos.decimal", decimal::create(lua)?)?;
    loaded.set("aos.outbox", outbox::create(lua)?)?;
    // SQLite's pages are not Lua's: they get a share of the memory beside the Lua heap.
    let sqlite = sqlite::create(lua, (memory_limit / 4) as i64)?;
    loaded.set("lsqlite3", sqlite.clone())?;
    loaded.set(".lsqlite3", sqlite)?;
    Ok(())
}

/// A native function for a Lua wrapper: it answers `value` or, when it fails, `nil, message`, so
/// that the wrapper raises the message as a plain string (errors raised from Rust reach Lua as
/// mlua's wrapped userdata, with a traceback in their text).
pub(crate) fn soft_function<A, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: mlua::FromLuaMulti,
    F: Fn(&Lua, A) -> mlua::Result<Value> + 'static,
{
    lua.create_function(move |lua, args: A| match f(lua, args) {
        Ok(v) => Ok((v, Value::Nil)),
        Err(e) => Ok((
            Value::Nil,
            Value::String(lua.create_string(error_text(&e))?),
        )),
    })
}

/// A result that carries only an error.
pub fn error_result(message: &str) -> Json {
    let mut map = Map::new();
    map.insert("Error".into(), Json::String(message.into()));
    for key in ["Messages", "Spawns", "Assignments"] {
        map.insert(key.into(), Json::Array(Vec::new()));
    }
    map.insert("Output".into(), Json::String(String::new()));
    Json::Object(map)
}

/// Runs one message (JSON bytes) through the process library; always returns a result object.
/// `fuel_used`, when the runtime meters work, is asked once the handlers are done and its answer
/// becomes the result's `GasUsed`.
pub fn handle(lua: &Lua, msg: &[u8], env: &[u8], fuel_used: Option<&dyn Fn() -> u64>) -> Json {
    let result = match run_message(lua, msg, env) {
        Ok(value) => tree_result(lua, &value),
        Err(failed) => failed,
    };
    with_gas(result, fuel_used)
}

/// [`handle`]'s result as JSON bytes (`serde_json::to_vec` of it), and whether it is an error
/// ([`is_error`]). The result table is written straight to bytes: a result's strings then cost
/// no allocation each, which was most of reading a result.
pub fn handle_to_bytes(
    lua: &Lua,
    msg: &[u8],
    env: &[u8],
    fuel_used: Option<&dyn Fn() -> u64>,
) -> (Vec<u8>, bool) {
    let value = match run_message(lua, msg, env) {
        Ok(value) => value,
        Err(failed) => return json_bytes(with_gas(failed, fuel_used)),
    };
    let mut object = match result::object(lua, &value) {
        Ok(Some(object)) => object,
        // Not an object: the tree path answers it (with an error result).
        Ok(None) => return json_bytes(with_gas(tree_result(lua, &value), fuel_used)),
        Err(e) => return json_bytes(with_gas(error_result(&e), fuel_used)),
    };
    // `normalise`: the lists are JSON arrays even when the library left them empty.
    for key in LISTS {
        if !object.get(key).is_some_and(|v| v.starts_with(b"[")) {
            object.set(key, b"[]");
        }
    }
    if let Some(fuel_used) = fuel_used {
        object.set("GasUsed", fuel_used().to_string().as_bytes());
    }
    let failed = object.get("Error").is_some_and(|v| v != b"null");
    (object.into_bytes(), failed)
}

/// The result table through a `serde_json::Value` tree, normalised.
fn tree_result(lua: &Lua, value: &Value) -> Json {
    match result::to_json(lua, value) {
        Ok(json) => normalise(json),
        Err(e) => error_result(&e),
    }
}

/// `result` with the fuel used so far as its `GasUsed`, when the runtime meters work.
fn with_gas(mut result: Json, fuel_used: Option<&dyn Fn() -> u64>) -> Json {
    if let (Some(fuel_used), Json::Object(map)) = (fuel_used, &mut result) {
        map.insert("GasUsed".into(), Json::from(fuel_used()));
    }
    result
}

fn json_bytes(result: Json) -> (Vec<u8>, bool) {
    (
        serde_json::to_vec(&result).unwrap_or_default(),
        is_error(&result),
    )
}

/// Whether a result reports an error (its state change must be rolled back): the one place that
/// decides it. Any `Error` that is present and not `null` counts, even `""` or `false`, so that a
/// handler's `error("", 0)` rolls back like any other error.
pub fn is_error(result: &Json) -> bool {
    !matches!(result.get("Error"), None | Some(Json::Null))
}

/// The message through `handle` of the library: the table it returned, or the result of a
/// message that failed before or inside it.
fn run_message(lua: &Lua, msg: &[u8], env: &[u8]) -> Result<Value, Json> {
    let msg: Json = serde_json::from_slice(msg)
        .and_then(|msg| remember_env(env).map(|()| msg))
        .map_err(|e| error_result(&format!("input is not JSON: {e}")))?;
    let timestamp = match msg.get("Timestamp") {
        Some(Json::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Json::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
    NOW_MS.with(|now| now.set(timestamp));
    let seed_source = msg
        .get("Hash-Chain")
        .or_else(|| msg.get("Id"))
        .and_then(Json::as_str)
        .unwrap_or("");
    let seed = fnv1a(seed_source.as_bytes());
    sqlite_vfs::begin_message(seed as u64);
    run_handle(lua, &msg, seed).map_err(|e| error_result(&error_text(&e)))
}

/// Makes `env` the remembered env, parsing it only when it differs from the last one.
fn remember_env(env: &[u8]) -> serde_json::Result<()> {
    ENV.with_borrow_mut(|remembered| {
        if !remembered
            .as_ref()
            .is_some_and(|(bytes, _)| same_bytes(bytes, env))
        {
            *remembered = Some((env.to_vec(), serde_json::from_slice(env)?));
        }
        Ok(())
    })
}

/// `a == b`, eight bytes at a time: the guest's libc compares slices a byte at a time, and an
/// env is compared with every message.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("eight bytes"));
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    a.len() == b.len()
        && a_words.remainder() == b_words.remainder()
        && a_words.zip(b_words).all(|(x, y)| word(x) == word(y))
}

fn run_handle(lua: &Lua, msg: &Json, seed: i64) -> mlua::Result<Value> {
    let math: Table = lua.globals().get("math")?;
    math.get::<Function>("randomseed")?.call::<()>(seed)?;
    let (msg, env) = ENV.with_borrow(|remembered| {
        let (_, env) = remembered.as_ref().expect("remember_env succeeded before");
        to_lua::pair(lua, msg, env)
    })?;
    let handle: Function = lua.named_registry_value("aos.handle")?;
    handle.call((msg, env))
}

/// The lists of a result, JSON arrays even when the library wrote them as empty tables.
const LISTS: [&str; 3] = ["Messages", "Spawns", "Assignments"];

/// Lists the library writes as empty tables must still be JSON arrays.
fn normalise(mut result: Json) -> Json {
    let Json::Object(map) = &mut result else {
        return error_result("the process returned no result table");
    };
    for key in LISTS {
        if !matches!(map.get(key), Some(Json::Array(_))) {
            map.insert(key.into(), Json::Array(Vec::new()));
        }
    }
    result
}

/// The text of a Lua error, without mlua's wrapping.
pub fn error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(text) | mlua::Error::SyntaxError { message: text, .. } => {
            text.clone()
        }
        mlua::Error::MemoryError(text) => format!("not enough memory: {text}"),
        mlua::Error::CallbackError { cause, .. } => error_text(cause),
        other => other.to_string(),
    }
}

/// Runs a chunk in the process's state outside `handle`: `{ok, value}` or `{ok: false, error}`.
pub fn eval_script(lua: &Lua, src: &[u8]) -> Json {
    let src = String::from_utf8_lossy(src);
    let outcome = lua
        .load(&*src)
        .set_name("=script")
        .eval::<Value>()
        .map(|v| match v {
            Value::Nil => String::new(),
            other => other.to_string().unwrap_or_else(|_| format!("{other:?}")),
        });
    match outcome {
        Ok(value) => serde_json::json!({"ok": true, "value": value}),
        Err(e) => serde_json::json!({"ok": false, "error": error_text(&e)}),
    }
}

#[cfg(test)]
#[test]
fn an_env_that_is_not_json_is_refused_even_before_any_other() {
    // A fresh thread remembers no env yet: empty bytes must not pass for one.
    std::thread::spawn(|| {
        assert!(remember_env(b"").is_err());
        assert!(remember_env(b"{}").is_ok());
        assert!(remember_env(b"").is_err());
    })
    .join()
    .unwrap();
}

#[cfg(test)]
#[test]
fn same_bytes_is_slice_equality() {
    let base: Vec<u8> = (0..=40).collect();
    for len in [0, 1, 7, 8, 9, 16, 23, 41] {
        let a = &base[..len];
        assert!(same_bytes(a, a));
        for at in 0..len {
            let mut b = a.to_vec();
            b[at] ^= 1;
            assert!(!same_bytes(a, &b), "{len} {at}");
        }
        assert!(!same_bytes(a, &base[..len.saturating_sub(1)]) || len == 0);
    }
}

/// The per-message `math.random` seed: FNV-1a of the message's hash-chain link.
fn fnv1a(bytes: &[u8]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// For tests: a Lua function dumping a value with each table walked by `next` (raw order) and
/// each value's exact type, so that tables alike down to how they were built give the same text.
#[cfg(test)]
pub(crate) const LAYOUT_DUMP: &str = r#"
    local function dump(v)
      if type(v) ~= "table" then
        return math.type(v) or type(v) .. ":" .. tostring(v)
      end
      assert(getmetatable(v) == nil, "a metatable")
      local out, k, x = {"{#" .. rawlen(v) .. " "}, next(v)
      while k ~= nil do
        out[#out + 1] = tostring(k) .. "=" .. dump(x) .. ","
        k, x = next(v, k)
      end
      return table.concat(out) .. "}"
    end
    return function(v) return dump(v) end
"#;

#[cfg(test)]
#[test]
fn results_as_bytes_are_the_result_objects_serialised() {
    // A library whose `handle` answers each case's table: the shapes `normalise`, `GasUsed` and
    // `is_error` deal with, and results that are not objects or cannot be read.
    let library = [(
        "process",
        r#"
        local cycle = {}
        cycle.self = cycle
        local cases = {
          { Output = { data = "x", prompt = "> " }, Messages = {}, Spawns = {}, Assignments = {} },
          { Messages = { { Target = "a", Tags = { { name = "n", value = "v" } }, Data = "" } },
            Assignments = "not a list", Output = "" },
          { Error = "boom", Messages = {} },
          { Error = false },
          { Error = print },
          { Error = 0/0 },
          { GasUsed = 5, Output = { data = "ÿ" } },
          { [2] = "int", ["2"] = "text", Messages = { 1, 2 } },
          42,
          { 1, 2 },
          { Output = cycle },
        }
        return { handle = function(msg) return cases[msg.Case] end }
        "#,
    )];
    std::thread::spawn(move || {
        let lua = build_state(64 << 20, &library).unwrap();
        let fuel = || 7;
        for case in 1..=11 {
            let msg = format!(r#"{{"Case": {case}}}"#);
            let json = handle(&lua, msg.as_bytes(), b"{}", Some(&fuel));
            let (bytes, failed) = handle_to_bytes(&lua, msg.as_bytes(), b"{}", Some(&fuel));
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                serde_json::to_string(&json).unwrap(),
                "case {case}"
            );
            assert_eq!(failed, is_error(&json), "case {case}");
        }
        let (bytes, failed) = handle_to_bytes(&lua, b"not json", b"{}", None);
        assert!(failed && String::from_utf8_lossy(&bytes).contains("input is not JSON"));
    })
    .join()
    .unwrap();
}
