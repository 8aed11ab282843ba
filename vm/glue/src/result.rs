//! The Lua result table → JSON, the one way a result leaves the Lua state.
//!
//! Lua strings are bytes; JSON strings are Unicode. A string that is not UTF-8 (a print of
//! `"\xff"`, binary `Data`, a notice cut in the middle of a character) must never fail its
//! message, so every string is converted *lossily*: each invalid byte sequence becomes U+FFFD,
//! valid UTF-8 is kept as it is. This is what a JavaScript client decoding aos's output as UTF-8
//! sees too. Processes that need binary data out should encode it (base64, hex) themselves.
//!
//! Tables follow the rules the runtime always had: a table with a border (`#t > 0`) is an array
//! of `t[1..#t]` (holes are `null`), any other table an object with sorted keys (number keys
//! become their decimal text); functions and other values without a JSON form are `null`.
//!
//! The walk reads the table on the Lua stack (`lua_next`, `lua_rawgeti`) rather than through
//! mlua `Value`s, each of which anchors and releases a reference: with those, reading a result
//! cost more than building it. `tests::read_as_mlua_reads_it` holds it to the `Value` walk.

use std::ffi::c_int;

use mlua::{Lua, Value, ffi};
use serde_json::{Map, Number, Value as Json};

/// How deep a result may nest before it is taken for a cycle.
const MAX_DEPTH: usize = 128;

/// Converts a Lua value to JSON; `Err` for a result nested deeper than `MAX_DEPTH` (or, with a
/// heap at its limit, no room to walk it).
pub fn to_json(lua: &Lua, value: &Value) -> Result<Json, String> {
    let mut out = None;
    // SAFETY: `exec_raw` runs the closure in a protected call with `value` at stack index 1 and
    // restores the stack afterwards; the walk only reads (no key is ever converted in place,
    // which would break `lua_next`) and keeps the stack within the room it checks for.
    let walked = unsafe {
        lua.exec_raw::<()>(value.clone(), |state| {
            out = Some(convert(state, 1, 0));
        })
    };
    walked.map_err(|e| e.to_string())?;
    out.unwrap_or(Ok(Json::Null))
}

/// A Lua string's bytes as text: invalid UTF-8 sequences become U+FFFD.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// # Safety
/// `state` is inside a protected call and `index` an absolute index of a live stack slot.
unsafe fn convert(state: *mut ffi::lua_State, index: c_int, depth: usize) -> Result<Json, String> {
    // SAFETY (whole body): the caller's contract.
    unsafe {
        Ok(match ffi::lua_type(state, index) {
            ffi::LUA_TNIL => Json::Null,
            ffi::LUA_TBOOLEAN => Json::Bool(ffi::lua_toboolean(state, index) != 0),
            ffi::LUA_TNUMBER if ffi::lua_isinteger(state, index) != 0 => {
                Json::from(ffi::lua_tointeger(state, index))
            }
            ffi::LUA_TNUMBER => {
                Number::from_f64(ffi::lua_tonumber(state, index)).map_or(Json::Null, Json::Number)
            }
            ffi::LUA_TSTRING => Json::String(lossy(string_at(state, index))),
            ffi::LUA_TTABLE => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "the result nests deeper than {MAX_DEPTH} tables (does it contain a cycle?)"
                    ));
                }
                table(state, index, depth + 1)?
            }
            _ => Json::Null,
        })
    }
}

/// # Safety
/// As for [`convert`], and the slot holds a table.
unsafe fn table(state: *mut ffi::lua_State, index: c_int, depth: usize) -> Result<Json, String> {
    // SAFETY (whole body): the caller's contract; room for a key and a value is checked first,
    // and each value pushed is popped before the next.
    unsafe {
        ffi::luaL_checkstack(state, 3, std::ptr::null());
        let len = ffi::lua_rawlen(state, index);
        if len > 0 {
            let mut out = Vec::with_capacity(len);
            for i in 1..=len {
                ffi::lua_rawgeti(state, index, i as ffi::lua_Integer);
                let item = convert(state, ffi::lua_gettop(state), depth);
                ffi::lua_pop(state, 1);
                out.push(item?);
            }
            return Ok(Json::Array(out));
        }
        let mut map = Map::new();
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, index) != 0 {
            let key = match ffi::lua_type(state, -2) {
                ffi::LUA_TSTRING => lossy(string_at(state, -2)),
                ffi::LUA_TNUMBER if ffi::lua_isinteger(state, -2) != 0 => {
                    ffi::lua_tointeger(state, -2).to_string()
                }
                ffi::LUA_TNUMBER => ffi::lua_tonumber(state, -2).to_string(),
                _ => {
                    ffi::lua_pop(state, 1);
                    continue;
                }
            };
            let value = convert(state, ffi::lua_gettop(state), depth);
            ffi::lua_pop(state, 1);
            map.insert(key, value?);
        }
        Ok(Json::Object(map))
    }
}

/// The bytes of the string at `index`, valid while it stays on the stack.
///
/// # Safety
/// `index` holds a string (so `lua_tolstring` converts nothing).
unsafe fn string_at<'a>(state: *mut ffi::lua_State, index: c_int) -> &'a [u8] {
    // SAFETY: the caller's contract; Lua keeps the bytes alive while the string is on the stack.
    unsafe {
        let mut len = 0;
        let ptr = ffi::lua_tolstring(state, index, &mut len);
        std::slice::from_raw_parts(ptr.cast(), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Table;

    /// The walk this module did through mlua `Value`s, kept as the reference.
    fn reference(value: &Value, depth: usize) -> Result<Json, String> {
        Ok(match value {
            Value::Nil => Json::Null,
            Value::Boolean(b) => Json::Bool(*b),
            Value::Integer(i) => Json::from(*i),
            Value::Number(n) => Number::from_f64(*n).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(lossy(&s.as_bytes())),
            Value::Table(t) => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "the result nests deeper than {MAX_DEPTH} tables (does it contain a cycle?)"
                    ));
                }
                reference_table(t, depth + 1)?
            }
            _ => Json::Null,
        })
    }

    fn reference_table(t: &Table, depth: usize) -> Result<Json, String> {
        let len = t.raw_len();
        if len > 0 {
            let mut out = Vec::with_capacity(len);
            for i in 1..=len {
                let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                out.push(reference(&v, depth)?);
            }
            return Ok(Json::Array(out));
        }
        let mut map = Map::new();
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair.map_err(|e| e.to_string())?;
            let key = match &k {
                Value::String(s) => lossy(&s.as_bytes()),
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            map.insert(key, reference(&v, depth)?);
        }
        Ok(Json::Object(map))
    }

    #[test]
    fn read_as_mlua_reads_it() {
        let lua = Lua::new();
        let values: Vec<Value> = lua
            .load(
                r#"
                local cycle = {}
                cycle.self = cycle
                local deep = {}
                local at = deep
                for _ = 1, 127 do at.next = {}; at = at.next end
                local too_deep = { deep, deep }
                local print = print
                return {
                  { Output = { data = "hi\xff", print = true }, Messages = {}, n = 1, f = 1.5,
                    inf = math.huge, nan = 0/0, fn = print, [true] = "skipped", [{}] = "skipped" },
                  { 1, nil, "three", { x = { 2.0, -0.0 } } },
                  { [2] = "b", ["2"] = "c", [1.5] = "d", [1e300] = "e", [-7] = "f" },
                  { [1] = "a border", [3] = "past it" },
                  "plain", 42, 0.25, false, print, coroutine.create(print),
                  deep, too_deep, cycle,
                }
            "#,
            )
            .eval::<Table>()
            .unwrap()
            .sequence_values()
            .collect::<mlua::Result<_>>()
            .unwrap();
        assert_eq!(values.len(), 13);
        for value in &values {
            assert_eq!(to_json(&lua, value), reference(value, 0), "{value:?}");
        }
        assert!(to_json(&lua, &values[10]).is_ok());
        assert!(
            to_json(&lua, &values[11])
                .unwrap_err()
                .contains("deeper than 128")
        );
        assert!(to_json(&lua, &values[12]).unwrap_err().contains("cycle"));
        assert_eq!(
            to_json(&lua, &values[0]).unwrap()["Output"]["data"],
            "hi\u{fffd}"
        );
    }
}
