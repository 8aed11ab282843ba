//! `aos.outbox`: the tags `ao.send` makes of a message's fields, in native code. In the guest
//! the Lua loop (`pairs`, two `type`s and a `tostring` a field, a sort, a table a tag) was about
//! a quarter of a token Transfer's work; here it is one call.
//!
//! `fieldTags(msg, notTags)` answers exactly what `lua/ao.lua`'s loop builds — for each string
//! key of `msg` not in `notTags` whose value is not a function or a table, `{ name = key, value =
//! tostring(value) }`, sorted by key — made with the same calls in the same order, so the tables
//! are alike down to their layout. It answers nil, and the Lua loop runs instead, when it could
//! not be sure of that: a value that is not a string, number or boolean (its `tostring` may run
//! a metamethod), or more than [`MAX_FIELDS`] fields. The caller checks the rest: `msg` has no
//! metatable, `tostring` is the library's and strings have no `__tostring`.

use std::ffi::c_int;

use mlua::{Lua, Result, Table, ffi};

/// Fields handled here; a message with more is left to the Lua loop (its keys are sorted on the
/// native stack, which has room for this many).
pub const MAX_FIELDS: usize = 64;

pub fn create(lua: &Lua) -> Result<Table> {
    let module = lua.create_table()?;
    // SAFETY: `field_tags` follows the C function protocol and holds nothing that needs dropping
    // (a Lua error, e.g. out of memory, may unwind through it).
    module.set("fieldTags", unsafe { lua.create_c_function(field_tags)? })?;
    Ok(module)
}

/// A saved key: its bytes and its stack slot.
#[derive(Clone, Copy)]
struct Key {
    ptr: *const u8,
    len: usize,
    slot: c_int,
}

impl Key {
    /// # Safety
    /// The string is still on the stack.
    unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: the caller's contract: Lua keeps a string's bytes while it is on the stack.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// # Safety
/// Called by Lua as a C function.
unsafe extern "C-unwind" fn field_tags(state: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): the C function protocol; every push is preceded by a check for room,
    // and the stack is laid out as commented.
    unsafe {
        if ffi::lua_type(state, 1) != ffi::LUA_TTABLE || ffi::lua_type(state, 2) != ffi::LUA_TTABLE
        {
            ffi::lua_pushnil(state);
            return 1;
        }
        ffi::lua_settop(state, 2);
        // Stack: 1 msg, 2 notTags, then the kept keys (3 ..), then `lua_next`'s key on top.
        let mut keys = [Key {
            ptr: std::ptr::null(),
            len: 0,
            slot: 0,
        }; MAX_FIELDS];
        let mut n = 0;
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, 1) != 0 {
            ffi::luaL_checkstack(state, 4, std::ptr::null());
            let kept = match ffi::lua_type(state, -1) {
                _ if ffi::lua_type(state, -2) != ffi::LUA_TSTRING => false,
                ffi::LUA_TFUNCTION | ffi::LUA_TTABLE => false,
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER | ffi::LUA_TBOOLEAN => {
                    ffi::lua_pushvalue(state, -2);
                    ffi::lua_rawget(state, 2);
                    let excluded = ffi::lua_toboolean(state, -1) != 0;
                    ffi::lua_pop(state, 1);
                    !excluded
                }
                _ => {
                    ffi::lua_pushnil(state);
                    return 1;
                }
            };
            ffi::lua_pop(state, 1); // the value
            if kept {
                if n == MAX_FIELDS {
                    ffi::lua_pushnil(state);
                    return 1;
                }
                // The key stays where it is, kept; a copy above it goes on with `lua_next`.
                let slot = ffi::lua_gettop(state);
                let mut len = 0;
                let ptr = ffi::lua_tolstring(state, slot, &mut len).cast::<u8>();
                keys[n] = Key { ptr, len, slot };
                n += 1;
                ffi::lua_pushvalue(state, slot);
            }
        }
        // Lua compares strings as their bytes (the module's C locale), so this is `table.sort`'s
        // order; keys are distinct, so any sort gives it.
        let keys = &mut keys[..n];
        keys.sort_unstable_by(|a, b| a.bytes().cmp(b.bytes()));
        ffi::lua_createtable(state, 0, 0);
        let tags = ffi::lua_gettop(state);
        for (i, key) in keys.iter().enumerate() {
            ffi::luaL_checkstack(state, 4, std::ptr::null());
            // `{ name = k, value = v }`: a table with room for two fields, set in that order.
            ffi::lua_createtable(state, 0, 2);
            ffi::lua_pushvalue(state, key.slot);
            ffi::lua_setfield(state, -2, c"name".as_ptr());
            ffi::lua_pushvalue(state, key.slot);
            ffi::lua_rawget(state, 1);
            if ffi::lua_type(state, -1) != ffi::LUA_TSTRING {
                // `tostring` of a number or boolean: the same conversion, with no metamethod.
                ffi::luaL_tolstring(state, -1, std::ptr::null_mut());
                ffi::lua_remove(state, -2);
            }
            ffi::lua_setfield(state, -2, c"value".as_ptr());
            ffi::lua_rawseti(state, tags, i as ffi::lua_Integer + 1);
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use mlua::{Function, Lua, LuaString, Table, Value};

    /// The Lua loop `ao.send` had, with its `NOT_TAGS`.
    const REFERENCE: &str = r#"
        local NOT_TAGS = { Target = true, Data = true, Anchor = true, Tags = true, From = true }
        local function lua_tags(msg)
          local tags, names = {}, {}
          for k, v in pairs(msg) do
            if type(k) == "string" and not NOT_TAGS[k]
              and type(v) ~= "function" and type(v) ~= "table" then
              names[#names + 1] = k
            end
          end
          table.sort(names)
          for _, k in ipairs(names) do tags[#tags + 1] = { name = k, value = tostring(msg[k]) } end
          return tags
        end
        return NOT_TAGS, lua_tags
    "#;

    /// `fieldTags`, the reference loop and its `NOT_TAGS`, and the messages `source` returns.
    fn setup(lua: &Lua, source: &str) -> (Function, Function, Table, Vec<Table>) {
        let field_tags = super::create(lua)
            .unwrap()
            .get::<Function>("fieldTags")
            .unwrap();
        let (not_tags, lua_tags): (Table, Function) = lua.load(REFERENCE).eval().unwrap();
        let messages: Table = lua.load(source).eval().unwrap();
        let messages = messages
            .sequence_values()
            .collect::<mlua::Result<_>>()
            .unwrap();
        (field_tags, lua_tags, not_tags, messages)
    }

    #[test]
    fn the_tags_are_the_lua_loops_built_alike() {
        let lua = Lua::new();
        let (field_tags, lua_tags, not_tags, messages) = setup(
            &lua,
            r#"
            local many = {}
            for i = 1, 64 do many["Field-" .. i] = i end
            local with_all = { Target = "t", Data = "d", Anchor = "a", From = "f", Tags = {} }
            for k, v in pairs({ Action = "Hi", N = 3, F = 1.0, G = 1e100, H = -0.5, B = true,
                                C = false, Fn = print, T = {}, [1] = "array", [2.5] = "x",
                                [("long-key-"):rep(10)] = ("long value "):rep(20),
                                ["\xff\xfekey"] = "bytes\0inside", [""] = "empty" }) do
              with_all[k] = v
            end
            return { {}, { Action = "Transfer", Quantity = "1", Recipient = "r" }, with_all,
                     many, { Target = "only" } }
            "#,
        );
        let dump: Function = lua.load(crate::LAYOUT_DUMP).eval().unwrap();
        let mut counts = Vec::new();
        for message in &messages {
            let native: Table = field_tags.call((message, &not_tags)).unwrap();
            let reference: Table = lua_tags.call(message).unwrap();
            counts.push(native.raw_len());
            let (native, reference): (LuaString, LuaString) =
                (dump.call(native).unwrap(), dump.call(reference).unwrap());
            assert_eq!(native.as_bytes(), reference.as_bytes());
        }
        // Not alike by being empty: every string-keyed field but functions, tables and NOT_TAGS.
        assert_eq!(counts, [0, 3, 10, 64, 0]);
    }

    #[test]
    fn what_it_cannot_be_sure_of_is_left_to_the_lua_loop() {
        let lua = Lua::new();
        let (field_tags, _, not_tags, cases) = setup(
            &lua,
            r#"
            local too_many = {}
            for i = 1, 65 do too_many["Field-" .. i] = i end
            return { too_many, { Co = coroutine.create(print) }, { U = io.stdout } }
            "#,
        );
        for message in cases {
            let native: Value = field_tags.call((message, &not_tags)).unwrap();
            assert!(native.is_nil());
        }
    }
}
