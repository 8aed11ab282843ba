//! The native `json` (preloaded as `aos.json`, wrapped by `lua/json.lua`): the same behaviour as
//! the pure-Lua codec it replaces, at native speed.
//!
//! Encoding: object keys sorted bytewise; a table is an array when its keys are exactly 1..n (an
//! empty table is `[]`); integers as `%d`, floats with an integer value below 2^53 as integers,
//! other floats as `%.14g`; NaN and infinities, cycles, functions and keys that are neither
//! strings nor numbers are errors; strings are bytes: `"`, `\` and control characters are
//! escaped, everything else (even bytes that are not UTF-8) is copied. A `bint` is its decimal
//! string. Tables are read raw (metamethods other than bint's `__tostring` are not consulted).
//!
//! Decoding: standard JSON plus what the Lua codec tolerated (raw control characters in strings,
//! leading zeros); numbers with an exact integer value become integers; `null` is nil; errors
//! name the line and column.

use mlua::{Function, Lua, LuaString, Result, Table, Value};

/// Deepest nesting either direction accepts: keeps native recursion far from the stack's end.
const MAX_DEPTH: usize = 512;

fn fail(text: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(text.into())
}

// Encoding ----------------------------------------------------------------------------------

struct Encoder<'a> {
    lua: &'a Lua,
    out: Vec<u8>,
    /// Tables on the current path, to refuse cycles.
    path: Vec<*const std::ffi::c_void>,
    tostring: &'a Function,
}

fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// C's `%.14g`.
pub fn format_g14(n: f64) -> String {
    const P: i32 = 14;
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.into();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", (P - 1) as usize, n);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let strip = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if (-4..P).contains(&exp) {
        strip(format!("{:.*}", (P - 1 - exp) as usize, n))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa.to_owned()), exp.abs())
    }
}

fn push_number(out: &mut Vec<u8>, n: f64) -> Result<()> {
    if !n.is_finite() {
        return Err(fail(format!("cannot encode {} as JSON", format_g14(n))));
    }
    if n == n.floor() && n.abs() < 9_007_199_254_740_992.0 {
        out.extend_from_slice((n as i64).to_string().as_bytes());
    } else {
        out.extend_from_slice(format_g14(n).as_bytes());
    }
    Ok(())
}

/// `Some(n)` when the keys of `t` are exactly 1..n.
fn array_len(t: &Table) -> Result<Option<usize>> {
    let mut count = 0usize;
    let mut max = 0i64;
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        match k {
            Value::Integer(i) if i >= 1 => {
                count += 1;
                max = max.max(i);
            }
            _ => return Ok(None),
        }
    }
    Ok((max as usize == count).then_some(count))
}

fn key_text(k: &Value) -> Result<Vec<u8>> {
    match k {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(i) => Ok(i.to_string().into_bytes()),
        Value::Number(n) => Ok(lua_number_text(*n).into_bytes()),
        other => Err(fail(format!(
            "JSON object keys must be strings or numbers, not {}",
            other.type_name()
        ))),
    }
}

/// `tostring` of a Lua float (`%.14g`, with `.0` added when it reads as an integer).
fn lua_number_text(n: f64) -> String {
    let text = format_g14(n);
    if n.is_finite() && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        format!("{text}.0")
    } else {
        text
    }
}

impl Encoder<'_> {
    fn value(&mut self, v: &Value) -> Result<()> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(i) => self.out.extend_from_slice(i.to_string().as_bytes()),
            Value::Number(n) => push_number(&mut self.out, *n)?,
            Value::String(s) => push_string(&mut self.out, &s.as_bytes()),
            Value::Table(t) => self.table(t)?,
            other => {
                return Err(fail(format!(
                    "cannot encode a {} as JSON",
                    other.type_name()
                )));
            }
        }
        Ok(())
    }

    fn table(&mut self, t: &Table) -> Result<()> {
        let id = t.to_pointer();
        if self.path.contains(&id) {
            return Err(fail("circular reference in JSON encode"));
        }
        if self.path.len() >= MAX_DEPTH {
            return Err(fail("JSON encode: tables nest too deep"));
        }
        if let Some(mt) = t.metatable() {
            let is_bint = mt.raw_get::<Value>("__tostring")?.is_function()
                && mt
                    .raw_get::<Option<LuaString>>("__name")?
                    .is_some_and(|n| n == "bint");
            if is_bint {
                let text: LuaString = self.tostring.call(t.clone())?;
                push_string(&mut self.out, &text.as_bytes());
                return Ok(());
            }
        }
        self.path.push(id);
        if let Some(n) = array_len(t)? {
            self.out.push(b'[');
            for i in 1..=n {
                if i > 1 {
                    self.out.push(b',');
                }
                self.value(&t.raw_get::<Value>(i)?)?;
            }
            self.out.push(b']');
        } else {
            let mut entries = Vec::new();
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, _) = pair?;
                let text = key_text(&k)?;
                // As json.lua looked values up: by the key's text, else by that text as a number
                // (so a float key whose text loses digits, or inf, finds nothing: null).
                let mut v: Value = t.raw_get(self.lua.create_string(&text)?)?;
                if v.is_nil()
                    && let Some(n) = text_number(&text)
                {
                    v = t.raw_get(n)?;
                }
                entries.push((text, v));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            self.out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                push_string(&mut self.out, k);
                self.out.push(b':');
                self.value(v)?;
            }
            self.out.push(b'}');
        }
        self.path.pop();
        Ok(())
    }
}

/// `json.encode(value)`.
pub fn encode(lua: &Lua, value: &Value) -> Result<Vec<u8>> {
    let tostring: Function = lua.globals().get("tostring")?;
    let mut encoder = Encoder {
        lua,
        out: Vec::new(),
        path: Vec::new(),
        tostring: &tostring,
    };
    encoder.value(value)?;
    Ok(encoder.out)
}

// Decoding ----------------------------------------------------------------------------------

struct Decoder<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    depth: usize,
}

impl Decoder<'_> {
    /// An error at byte offset `i` (0-based), with the line and column json.lua reported.
    fn error(&self, i: usize, what: &str) -> mlua::Error {
        let (mut line, mut col) = (1, 1);
        for &b in &self.s[..i.min(self.s.len())] {
            col += 1;
            if b == b'\n' {
                line += 1;
                col = 1;
            }
        }
        fail(format!("{what} at line {line} col {col}"))
    }

    fn skip(&self, mut i: usize) -> usize {
        while i < self.s.len() && matches!(self.s[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn value(&mut self, i: usize) -> Result<(Value, usize)> {
        let i = self.skip(i);
        match self.at(i) {
            Some(b'{') => self.nested(i, Self::object),
            Some(b'[') => self.nested(i, Self::array),
            Some(b'"') => {
                let (s, next) = self.string(i)?;
                Ok((Value::String(self.lua.create_string(s)?), next))
            }
            _ if self.s[i..].starts_with(b"true") => Ok((Value::Boolean(true), i + 4)),
            _ if self.s[i..].starts_with(b"false") => Ok((Value::Boolean(false), i + 5)),
            _ if self.s[i..].starts_with(b"null") => Ok((Value::Nil, i + 4)),
            Some(b'-' | b'0'..=b'9') => self.number(i),
            other => {
                let c = other.map(|b| String::from_utf8_lossy(&[b]).into_owned());
                Err(self.error(
                    i,
                    &format!("unexpected character '{}'", c.unwrap_or_default()),
                ))
            }
        }
    }

    fn nested(
        &mut self,
        i: usize,
        read: fn(&mut Self, usize) -> Result<(Value, usize)>,
    ) -> Result<(Value, usize)> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(i, "JSON nests too deep"));
        }
        self.depth += 1;
        let out = read(self, i);
        self.depth -= 1;
        out
    }

    fn object(&mut self, i: usize) -> Result<(Value, usize)> {
        let obj = self.lua.create_table()?;
        let mut i = self.skip(i + 1);
        if self.at(i) == Some(b'}') {
            return Ok((Value::Table(obj), i + 1));
        }
        loop {
            i = self.skip(i);
            if self.at(i) != Some(b'"') {
                return Err(self.error(i, "expected a string key"));
            }
            let (key, next) = self.string(i)?;
            i = self.skip(next);
            if self.at(i) != Some(b':') {
                return Err(self.error(i, "expected ':'"));
            }
            let (value, next) = self.value(i + 1)?;
            obj.raw_set(self.lua.create_string(key)?, value)?;
            i = self.skip(next);
            match self.at(i) {
                Some(b'}') => return Ok((Value::Table(obj), i + 1)),
                Some(b',') => i += 1,
                _ => return Err(self.error(i, "expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, i: usize) -> Result<(Value, usize)> {
        let arr = self.lua.create_table()?;
        let mut i = self.skip(i + 1);
        if self.at(i) == Some(b']') {
            return Ok((Value::Table(arr), i + 1));
        }
        let mut n = 0i64;
        loop {
            n += 1;
            let (value, next) = self.value(i)?;
            arr.raw_set(n, value)?;
            i = self.skip(next);
            match self.at(i) {
                Some(b']') => return Ok((Value::Table(arr), i + 1)),
                Some(b',') => i += 1,
                _ => return Err(self.error(i, "expected ',' or ']'")),
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.s.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    /// The string starting at the quote at `i`: its bytes and the offset after its closing quote.
    fn string(&self, i: usize) -> Result<(Vec<u8>, usize)> {
        let mut out = Vec::new();
        let mut j = i + 1;
        loop {
            match self.at(j) {
                None => return Err(self.error(i, "unterminated string")),
                Some(b'"') => return Ok((out, j + 1)),
                Some(b'\\') => {
                    let simple = match self.at(j + 1) {
                        Some(b'b') => Some(8),
                        Some(b'f') => Some(12),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        Some(c @ (b'"' | b'\\' | b'/')) => Some(c),
                        _ => None,
                    };
                    if let Some(c) = simple {
                        out.push(c);
                        j += 2;
                    } else if self.at(j + 1) == Some(b'u') {
                        let Some(mut n) = self.hex4(j + 2) else {
                            return Err(self.error(j, "bad unicode escape"));
                        };
                        j += 6;
                        if (0xD800..=0xDBFF).contains(&n)
                            && self.s[j..].starts_with(b"\\u")
                            && let Some(low @ 0xDC00..=0xDFFF) = self.hex4(j + 2)
                        {
                            n = 0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00);
                            j += 6;
                        }
                        push_utf8(&mut out, n);
                    } else {
                        return Err(self.error(j, "bad escape"));
                    }
                }
                Some(_) => {
                    let rest = &self.s[j..];
                    let stop = rest
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\')
                        .unwrap_or(rest.len());
                    out.extend_from_slice(&rest[..stop]);
                    j += stop;
                }
            }
        }
    }

    /// json.lua's number grammar `-?%d+%.?%d*[eE]?[-+]?%d*`, then Lua's own conversion.
    fn number(&self, i: usize) -> Result<(Value, usize)> {
        let s = self.s;
        let digits = |mut j: usize| {
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            j
        };
        let mut j = i;
        if s.get(j) == Some(&b'-') {
            j += 1;
        }
        let int_end = digits(j);
        if int_end == j {
            return Err(self.error(i, "bad number"));
        }
        j = int_end;
        if s.get(j) == Some(&b'.') {
            j = digits(j + 1);
        }
        if matches!(s.get(j), Some(b'e' | b'E')) {
            j += 1;
        }
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        j = digits(j);
        let text = std::str::from_utf8(&s[i..j]).expect("ascii");
        let value = lua_tonumber(text).ok_or_else(|| self.error(i, "bad number"))?;
        Ok((value, j))
    }
}

/// Lua's `tonumber` of a key's text (decimal numbers only: never "inf" or "nan").
fn text_number(text: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(text).ok()?;
    let numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !numeric {
        return None;
    }
    lua_tonumber(text)
}

/// `math.tointeger(tonumber(text)) or tonumber(text)` for text of json.lua's number grammar.
fn lua_tonumber(text: &str) -> Option<Value> {
    let is_int_text = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if is_int_text && let Ok(i) = text.parse::<i64>() {
        return Some(Value::Integer(i));
    }
    // Lua's strtod accepts "1." and "1.e5" but not a dangling exponent ("1e", "1e+").
    let last = text.as_bytes().last().copied()?;
    if matches!(last, b'e' | b'E' | b'+' | b'-') {
        return None;
    }
    let cleaned = text.replacen(".e", ".0e", 1).replacen(".E", ".0E", 1);
    let cleaned = cleaned.strip_suffix('.').unwrap_or(&cleaned);
    let f: f64 = cleaned.parse().ok()?;
    // 2^63: the floats with an exact i64 value lie in [-2^63, 2^63).
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f == f.floor() && (-TWO_63..TWO_63).contains(&f) {
        return Some(Value::Integer(f as i64));
    }
    Some(Value::Number(f))
}

/// Lua 5.4's `utf8.char`: any code point below 2^31, surrogates included.
fn push_utf8(out: &mut Vec<u8>, n: u32) {
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (n >> 6) as u8, 0x80 | (n & 0x3f) as u8]),
        0x800..=0xffff => out.extend_from_slice(&[
            0xe0 | (n >> 12) as u8,
            0x80 | ((n >> 6) & 0x3f) as u8,
            0x80 | (n & 0x3f) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xf0 | (n >> 18) as u8,
            0x80 | ((n >> 12) & 0x3f) as u8,
            0x80 | ((n >> 6) & 0x3f) as u8,
            0x80 | (n & 0x3f) as u8,
        ]),
    }
}

/// `json.decode(text)`.
pub fn decode(lua: &Lua, text: &Value) -> Result<Value> {
    let Value::String(s) = text else {
        let kind = match text {
            Value::Integer(_) | Value::Number(_) => "number",
            other => other.type_name(),
        };
        return Err(fail(format!("json.decode expects a string, got {kind}")));
    };
    let bytes = s.as_bytes();
    let mut decoder = Decoder {
        lua,
        s: &bytes,
        depth: 0,
    };
    let (value, i) = decoder.value(0)?;
    let i = decoder.skip(i);
    if i < bytes.len() {
        return Err(decoder.error(i, "trailing garbage"));
    }
    Ok(value)
}

/// The `aos.json` table: `encode(v)` and `decode(text)`, each answering `value` or
/// `nil, message` (the wrapper in `lua/json.lua` raises the message).
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        crate::soft_function(lua, |lua, v: Value| {
            Ok(Value::String(lua.create_string(encode(lua, &v)?)?))
        })?,
    )?;
    t.set(
        "decode",
        crate::soft_function(lua, |lua, v: Value| decode(lua, &v))?,
    )?;
    Ok(t)
}
