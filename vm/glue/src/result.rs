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

use mlua::{Table, Value};
use serde_json::{Map, Number, Value as Json};

/// How deep a result may nest before it is taken for a cycle.
const MAX_DEPTH: usize = 128;

/// Converts a Lua value to JSON; `Err` only for a result nested deeper than `MAX_DEPTH`.
pub fn to_json(value: &Value) -> Result<Json, String> {
    convert(value, 0)
}

/// A Lua string's bytes as text: invalid UTF-8 sequences become U+FFFD.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn convert(value: &Value, depth: usize) -> Result<Json, String> {
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
            table(t, depth + 1)?
        }
        _ => Json::Null,
    })
}

fn table(t: &Table, depth: usize) -> Result<Json, String> {
    let len = t.raw_len();
    if len > 0 {
        let mut out = Vec::with_capacity(len);
        for i in 1..=len {
            let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
            out.push(convert(&v, depth)?);
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
        map.insert(key, convert(&v, depth)?);
    }
    Ok(Json::Object(map))
}
