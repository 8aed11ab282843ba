//! JSON values → Lua tables for a message and its env, pushed straight onto the Lua stack.
//!
//! mlua's serde serializer builds the same tables, but through mlua `Value`s: every string and
//! table it makes is first anchored in mlua's reference thread, then pushed again to be stored,
//! then released. For a message and its env that was most of the work of getting them into Lua
//! (more than parsing their JSON). Here each value is pushed once and stored with `lua_rawset`.
//!
//! The tables must be exactly the ones the serializer made, down to how they were built, because
//! the order `pairs` walks a table in depends on its sizes and the order its keys went in, and a
//! handler's output may depend on that order:
//! - an array is created with room for its length and filled from index 1; a `null` element is
//!   stored as `nil`, leaving a hole;
//! - an object is created with room for its length (its `null` members included) and filled in
//!   the map's order; a `null` member stores nothing;
//! - numbers become integers when they fit an `i64` and floats otherwise; no metatables.
//! - nesting deeper than 128 levels is refused with the serializer's error.
//!
//! `tests::built_like_the_serializer` holds this against mlua's serializer.

use mlua::{Lua, Value, ffi};
use serde_json::Value as Json;

/// How deep a value may nest, as mlua's serializer allows by default.
const RECURSION_LIMIT: usize = 128;

/// `a` and `b` as Lua values, built in one protected call. A memory error (the heap's limit) is
/// an `Err`, as it was through the serializer.
pub fn pair(lua: &Lua, a: &Json, b: &Json) -> mlua::Result<(Value, Value)> {
    let mut too_deep = false;
    // SAFETY: `exec_raw` runs the closure in a protected call on a stack it restores afterwards.
    // `push` keeps the stack balanced (one value per call, room checked before each table), and
    // holds nothing that needs dropping if a Lua error unwinds through it.
    let values = unsafe {
        lua.exec_raw::<(Value, Value)>((), |state| {
            too_deep = !push(state, a, RECURSION_LIMIT) || !push(state, b, RECURSION_LIMIT);
        })
    }?;
    if too_deep {
        return Err(mlua::Error::SerializeError(
            "recursion limit exceeded".into(),
        ));
    }
    Ok(values)
}

/// Pushes `value` (exactly one stack slot). False when it nests deeper than `depth` allows; what
/// was pushed is then incomplete and must not be used.
///
/// # Safety
/// `state` is a Lua state inside a protected call.
unsafe fn push(state: *mut ffi::lua_State, value: &Json, depth: usize) -> bool {
    // SAFETY (whole body): the caller's contract; each table gets room for itself, a key and a
    // value before anything is pushed onto it.
    unsafe {
        match value {
            Json::Null => ffi::lua_pushnil(state),
            Json::Bool(b) => ffi::lua_pushboolean(state, i32::from(*b)),
            Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => ffi::lua_pushinteger(state, i),
                (None, Some(u)) => ffi::lua_pushnumber(state, u as f64),
                (None, None) => ffi::lua_pushnumber(state, n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => push_str(state, s),
            Json::Array(items) => {
                let Some(depth) = depth.checked_sub(1) else {
                    ffi::lua_pushnil(state);
                    return false;
                };
                ffi::luaL_checkstack(state, 3, std::ptr::null());
                ffi::lua_createtable(state, len(items.len()), 0);
                for (i, item) in items.iter().enumerate() {
                    let ok = push(state, item, depth);
                    ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
                    if !ok {
                        return false;
                    }
                }
            }
            Json::Object(members) => {
                let Some(depth) = depth.checked_sub(1) else {
                    ffi::lua_pushnil(state);
                    return false;
                };
                ffi::luaL_checkstack(state, 3, std::ptr::null());
                ffi::lua_createtable(state, 0, len(members.len()));
                for (key, member) in members {
                    push_str(state, key);
                    let ok = push(state, member, depth);
                    ffi::lua_rawset(state, -3);
                    if !ok {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// # Safety
/// `state` is a Lua state inside a protected call, with room for one more value.
unsafe fn push_str(state: *mut ffi::lua_State, s: &str) {
    // SAFETY: the caller's contract; Lua copies the bytes.
    unsafe {
        ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len());
    }
}

/// A size hint for `lua_createtable` (Lua grows the table past it if ever needed).
fn len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::LuaSerdeExt;
    use serde_json::json;

    fn serializer(lua: &Lua, value: &Json) -> mlua::Result<Value> {
        let options = mlua::serde::SerializeOptions::new()
            .serialize_none_to_null(false)
            .serialize_unit_to_null(false)
            .set_array_metatable(false);
        lua.to_value_with(value, options)
    }

    fn walk(lua: &Lua, value: Value) -> String {
        let dump: mlua::Function = lua.load(crate::LAYOUT_DUMP).eval().unwrap();
        dump.call(value).unwrap()
    }

    #[test]
    fn built_like_the_serializer() {
        let lua = Lua::new();
        let id = "x".repeat(43);
        let message = json!({
            "Id": id, "From": id, "Tags": [{"name": "Action", "value": "Eval"},
                                           {"name": "Data-Protocol", "value": "ao"}],
            "Data": "1 + 1", "Anchor": null, "Timestamp": 1_700_000_000_000u64, "Nonce": -3,
            "Big": u64::MAX, "Float": 1.5, "Whole": 2.0, "Cron": false, "Read-Only": true,
            "Holes": [1, null, 3, null], "Empty": [], "Nothing": {},
            "Deep": {"a": {"b": [{"c": [null, {"d": "e"}]}]}},
            "Many": (0..40).map(|i| (format!("k{i}"), json!(i))).collect::<serde_json::Map<_, _>>(),
        });
        let env = json!({"Process": {"Id": id, "Tags": [{"name": "Scheduler", "value": id}]},
                         "Module": {"Id": id, "Tags": []}});
        let (m, e) = pair(&lua, &message, &env).unwrap();
        let (m2, e2) = (
            serializer(&lua, &message).unwrap(),
            serializer(&lua, &env).unwrap(),
        );
        assert_eq!(walk(&lua, m.clone()), walk(&lua, m2));
        assert_eq!(walk(&lua, e), walk(&lua, e2));
        let m = m.as_table().unwrap();
        assert_eq!(m.get::<String>("Id").unwrap(), id);
        assert_eq!(m.get::<Value>("Anchor").unwrap(), Value::Nil);
        assert!(matches!(m.get::<Value>("Big").unwrap(), Value::Number(n) if n == u64::MAX as f64));
        assert!(matches!(m.get::<Value>("Whole").unwrap(), Value::Number(n) if n == 2.0));
        assert!(matches!(
            m.get::<Value>("Nonce").unwrap(),
            Value::Integer(-3)
        ));
    }

    #[test]
    fn nesting_past_the_limit_is_refused_as_the_serializer_refuses_it() {
        let lua = Lua::new();
        let nest = |levels: usize| (0..levels).fold(json!(1), |inner, _| json!([inner]));
        assert!(pair(&lua, &nest(128), &json!({})).is_ok());
        let ours = pair(&lua, &json!({}), &nest(129)).unwrap_err();
        let theirs = serializer(&lua, &nest(129)).unwrap_err();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert!(serializer(&lua, &nest(128)).is_ok());
    }

    #[test]
    fn a_heap_at_its_limit_is_a_memory_error() {
        let lua = Lua::new();
        lua.set_memory_limit(lua.used_memory() + 4096).unwrap();
        let big = Json::Array((0..10_000).map(|i| json!({"n": i})).collect());
        let err = pair(&lua, &big, &json!({})).unwrap_err();
        assert!(matches!(err, mlua::Error::MemoryError(_)), "{err:?}");
        lua.set_memory_limit(0).unwrap();
        assert_eq!(lua.load("return 1 + 1").eval::<i64>().unwrap(), 2);
    }
}
