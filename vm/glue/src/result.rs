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

use std::borrow::Cow;
use std::ffi::c_int;
use std::ops::Range;

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
            let Some(key) = key_at(state, -2) else {
                ffi::lua_pop(state, 1);
                continue;
            };
            let key = key.into_owned();
            let value = convert(state, ffi::lua_gettop(state), depth);
            ffi::lua_pop(state, 1);
            map.insert(key, value?);
        }
        Ok(Json::Object(map))
    }
}

/// The members of the table `value`, each value written as JSON text (the bytes
/// `serde_json::to_vec` gives of [`to_json`]'s tree; `tests::bytes_are_the_json_tree_serialised`
/// holds the writer to it), to be changed before the object is written; `None` when `value` is not an object (not a table, or a table with a
/// border, which is an array). The keys borrow the table's strings: nothing may change the
/// table while the object lives.
pub(crate) fn object<'a>(lua: &Lua, value: &'a Value) -> Result<Option<Object<'a>>, String> {
    let Value::Table(table) = value else {
        return Ok(None);
    };
    if table.raw_len() > 0 {
        return Ok(None);
    }
    let mut writer = Writer::default();
    let mut read = Ok(0);
    // SAFETY: as for `to_json`: a protected call, `value` at index 1, a walk that only reads.
    let walked = unsafe {
        lua.exec_raw::<()>(value.clone(), |state| {
            read = writer.members(state, 1, 1);
        })
    };
    walked.map_err(|e| e.to_string())?;
    read.map(|_| Some(Object { writer }))
}

/// A result object read from Lua, its members' values already JSON text.
pub(crate) struct Object<'a> {
    writer: Writer<'a>,
}

impl Object<'_> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.writer.members.binary_search_by(|m| (*m.key).cmp(key))
    }

    /// The value of `key` as JSON text.
    pub(crate) fn get(&self, key: &str) -> Option<&[u8]> {
        let at = self.find(key).ok()?;
        Some(&self.writer.out[self.writer.members[at].value.clone()])
    }

    /// Sets `key` to the JSON text `json`, in its place among the keys.
    pub(crate) fn set(&mut self, key: &str, json: &[u8]) {
        let start = self.writer.out.len();
        self.writer.out.extend_from_slice(json);
        let value = start..self.writer.out.len();
        match self.find(key) {
            Ok(at) => self.writer.members[at].value = value,
            Err(at) => self.writer.members.insert(
                at,
                Member {
                    key: Cow::Owned(key.to_owned()),
                    value,
                },
            ),
        }
    }

    /// The object as JSON text.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        let from = self.writer.out.len();
        self.writer.emit(0);
        let mut out = self.writer.out;
        out.drain(..from);
        out
    }
}

/// One member of an object being written: its key and where its value's text is.
struct Member<'a> {
    key: Cow<'a, str>,
    value: Range<usize>,
}

/// A walk's scratch: the text so far, and the members of the objects being read, nested ones
/// after their parents'. Reused all through the walk, so that neither a string nor a table
/// costs an allocation of its own (most of what reading a result cost through the tree).
struct Writer<'a> {
    out: Vec<u8>,
    members: Vec<Member<'a>>,
}

impl Default for Writer<'_> {
    /// Room for a small message's result, so that most walks never grow either.
    fn default() -> Self {
        Self {
            out: Vec::with_capacity(2048),
            members: Vec::with_capacity(64),
        }
    }
}

impl Writer<'_> {
    /// Writes the value at `index` as [`convert`] would convert it and serde_json serialise it.
    ///
    /// # Safety
    /// As for [`convert`].
    unsafe fn value(
        &mut self,
        state: *mut ffi::lua_State,
        index: c_int,
        depth: usize,
    ) -> Result<(), String> {
        // SAFETY (whole body): the caller's contract.
        unsafe {
            let out = &mut self.out;
            match ffi::lua_type(state, index) {
                ffi::LUA_TBOOLEAN if ffi::lua_toboolean(state, index) != 0 => {
                    out.extend_from_slice(b"true")
                }
                ffi::LUA_TBOOLEAN => out.extend_from_slice(b"false"),
                ffi::LUA_TNUMBER if ffi::lua_isinteger(state, index) != 0 => {
                    write_integer(out, ffi::lua_tointeger(state, index))
                }
                ffi::LUA_TNUMBER => write_float(out, ffi::lua_tonumber(state, index)),
                ffi::LUA_TSTRING => {
                    let bytes = string_at(state, index);
                    match std::str::from_utf8(bytes) {
                        Ok(text) => write_str(out, text),
                        Err(_) => write_str(out, &lossy(bytes)),
                    }
                }
                ffi::LUA_TTABLE => {
                    if depth >= MAX_DEPTH {
                        return Err(format!(
                            "the result nests deeper than {MAX_DEPTH} tables (does it contain a cycle?)"
                        ));
                    }
                    let len = ffi::lua_rawlen(state, index);
                    if len > 0 {
                        ffi::luaL_checkstack(state, 3, std::ptr::null());
                        self.out.push(b'[');
                        for i in 1..=len {
                            if i > 1 {
                                self.out.push(b',');
                            }
                            ffi::lua_rawgeti(state, index, i as ffi::lua_Integer);
                            let written = self.value(state, ffi::lua_gettop(state), depth + 1);
                            ffi::lua_pop(state, 1);
                            written?;
                        }
                        self.out.push(b']');
                    } else {
                        // The members' values are written first, then the object in key order
                        // after them, which is then moved to where the object starts.
                        let start = self.out.len();
                        let base = self.members(state, index, depth + 1)?;
                        let text = self.out.len();
                        self.emit(base);
                        self.members.truncate(base);
                        self.out.copy_within(text.., start);
                        self.out.truncate(start + (self.out.len() - text));
                    }
                }
                _ => out.extend_from_slice(b"null"),
            }
        }
        Ok(())
    }

    /// Reads the members of the table at `index` (no border) as `table` reads an object: their
    /// values are written, and they are left sorted by key, one per key (the last read), from
    /// the returned position of `members` on.
    ///
    /// # Safety
    /// As for [`convert`], and the slot holds a table.
    unsafe fn members(
        &mut self,
        state: *mut ffi::lua_State,
        index: c_int,
        depth: usize,
    ) -> Result<usize, String> {
        let base = self.members.len();
        // SAFETY (whole body): as in `table`.
        unsafe {
            ffi::luaL_checkstack(state, 3, std::ptr::null());
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, index) != 0 {
                // The table holds a key string: it outlives the walk.
                let Some(key) = key_at(state, -2) else {
                    ffi::lua_pop(state, 1);
                    continue;
                };
                let start = self.out.len();
                let written = self.value(state, ffi::lua_gettop(state), depth);
                ffi::lua_pop(state, 1);
                if let Err(e) = written {
                    ffi::lua_pop(state, 1); // the key: the walk stops here, as `table`'s does
                    return Err(e);
                }
                self.members.push(Member {
                    key,
                    value: start..self.out.len(),
                });
            }
        }
        // A map keeps one value per key, the last inserted: values were written in the order
        // they were read, so among equal keys the one written last is kept.
        let read = &mut self.members[base..];
        read.sort_unstable_by(|a, b| a.key.cmp(&b.key).then(a.value.start.cmp(&b.value.start)));
        let mut kept = base;
        for at in base..self.members.len() {
            if kept > base && self.members[kept - 1].key == self.members[at].key {
                self.members.swap(kept - 1, at);
            } else {
                self.members.swap(kept, at);
                kept += 1;
            }
        }
        self.members.truncate(kept);
        Ok(base)
    }

    /// Appends the object of the members from `base` on.
    fn emit(&mut self, base: usize) {
        let Writer { out, members } = self;
        out.push(b'{');
        for (i, member) in members[base..].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, &member.key);
            out.push(b':');
            out.extend_from_within(member.value.clone());
        }
        out.push(b'}');
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing JSON into a Vec cannot fail");
}

fn write_integer(out: &mut Vec<u8>, n: i64) {
    serde_json::to_writer(&mut *out, &n).expect("writing JSON into a Vec cannot fail");
}

/// serde_json writes a float that is not finite as `null`, as `convert` makes it.
fn write_float(out: &mut Vec<u8>, x: f64) {
    serde_json::to_writer(&mut *out, &x).expect("writing JSON into a Vec cannot fail");
}

/// An object key as JSON text: a string (invalid UTF-8 made U+FFFD) or a number's decimal text;
/// `None` for keys an object leaves out. A string key is borrowed, valid while it is on the stack
/// or in its table.
///
/// # Safety
/// `state` is inside a protected call and `index` holds a live value.
unsafe fn key_at<'a>(state: *mut ffi::lua_State, index: c_int) -> Option<Cow<'a, str>> {
    // SAFETY (whole body): the caller's contract; a string key is read, never converted.
    unsafe {
        Some(match ffi::lua_type(state, index) {
            ffi::LUA_TSTRING => {
                let bytes = string_at(state, index);
                match std::str::from_utf8(bytes) {
                    Ok(text) => Cow::Borrowed(text),
                    Err(_) => Cow::Owned(lossy(bytes)),
                }
            }
            ffi::LUA_TNUMBER if ffi::lua_isinteger(state, index) != 0 => {
                Cow::Owned(ffi::lua_tointeger(state, index).to_string())
            }
            ffi::LUA_TNUMBER => Cow::Owned(ffi::lua_tonumber(state, index).to_string()),
            _ => return None,
        })
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

    /// The writer's bytes for any value (the result object's members are written the same way).
    fn to_json_bytes(lua: &Lua, value: &Value) -> Result<Vec<u8>, String> {
        let mut writer = Writer::default();
        let mut written = Ok(());
        // SAFETY: as for `to_json`: a protected call, `value` at index 1, a walk that only reads.
        let walked = unsafe {
            lua.exec_raw::<()>(value.clone(), |state| {
                written = writer.value(state, 1, 0);
            })
        };
        walked.map_err(|e| e.to_string())?;
        written.map(|()| writer.out)
    }

    /// The values of the list `source` returns.
    fn values(lua: &Lua, source: &str) -> Vec<Value> {
        lua.load(source)
            .eval::<Table>()
            .unwrap()
            .sequence_values()
            .collect::<mlua::Result<_>>()
            .unwrap()
    }

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
        let values = values(
            &lua,
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
        );
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
        for value in &values {
            assert_eq!(
                to_json_bytes(&lua, value),
                to_json(&lua, value).map(|json| serde_json::to_vec(&json).unwrap()),
                "{value:?}"
            );
        }
        assert_eq!(
            to_json(&lua, &values[0]).unwrap()["Output"]["data"],
            "hi\u{fffd}"
        );
    }

    #[test]
    fn bytes_are_the_json_tree_serialised() {
        let lua = Lua::new();
        let values = values(
            &lua,
            r#"
                local out = {
                  { a = { b = { c = { "x", 1, 2.5, -0.0, 1e300, -1e-300, math.mininteger } } } },
                  { ["\xff\xfe"] = "bad key", ["z"] = "\"quoted\"\n\t\0", [""] = "" },
                  { [1] = "one", [2] = "two", [4] = "past a hole" },
                  { [2] = "int", ["2"] = "text" },
                  { ["2"] = "text", [2] = "int" },
                  { [0.5] = "half", [-1] = "minus", [math.maxinteger] = "max" },
                  { {}, { {} }, { x = {} } },
                  { Messages = {}, Spawns = { { Tags = { { name = "n", value = "v" } } } } },
                  { s = ("long "):rep(100), u = "ünïcödé ✓", mixed = "ok\xffok" },
                }
                for i = 1, 50 do out[#out + 1] = { ["k" .. i] = i % 3 == 0 and {i} or ("v" .. i) } end
                return out
            "#,
        );
        for value in &values {
            let tree = serde_json::to_vec(&to_json(&lua, value).unwrap()).unwrap();
            assert_eq!(
                to_json_bytes(&lua, value).unwrap(),
                tree,
                "{}",
                String::from_utf8_lossy(&tree)
            );
        }
    }
}
