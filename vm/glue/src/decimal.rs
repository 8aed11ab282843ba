//! `aos.decimal`: sums and differences of decimal integer strings (token balances) in native
//! code, behind `utils.add` and `utils.subtract`. In the guest each `bint` operation on a
//! 22-digit balance costs tens of thousands of wasm instructions (trimming, limb parsing,
//! formatting); this costs a few hundred. Only plain decimal text (`[+-]?[0-9]{1,38}`) whose
//! result fits an i128 is handled here; anything else answers nil and the caller falls back to
//! `bint`, so the result is always exactly `tostring(bint(a) ± bint(b))`.

use mlua::{Lua, LuaString, Result, Table};

/// Most digits an i128 always holds (10^38 - 1 < 2^127).
const MAX_DIGITS: usize = 38;

fn parse(text: &[u8]) -> Option<i128> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > MAX_DIGITS {
        return None;
    }
    let mut value: i128 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i128::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}

/// `a + b` (or `a - b`) as canonical decimal text, if both are plain decimal integers.
pub fn combine(a: &[u8], b: &[u8], subtract: bool) -> Option<String> {
    let (a, b) = (parse(a)?, parse(b)?);
    let result = if subtract {
        a.checked_sub(b)?
    } else {
        a.checked_add(b)?
    };
    Some(result.to_string())
}

/// The `aos.decimal` table: `add(a, b)` and `sub(a, b)` on strings, nil when not handled.
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    for (name, subtract) in [("add", false), ("sub", true)] {
        t.set(
            name,
            lua.create_function(move |_, (a, b): (LuaString, LuaString)| {
                Ok(combine(&a.as_bytes(), &b.as_bytes(), subtract))
            })?,
        )?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::combine;

    #[test]
    fn canonical_results_like_bint() {
        let add = |a: &str, b: &str| combine(a.as_bytes(), b.as_bytes(), false);
        let sub = |a: &str, b: &str| combine(a.as_bytes(), b.as_bytes(), true);
        assert_eq!(
            add("1000000000000000000000", "1").as_deref(),
            Some("1000000000000000000001")
        );
        assert_eq!(
            sub("1", "1000000000000000000000").as_deref(),
            Some("-999999999999999999999")
        );
        assert_eq!(add("007", "+3").as_deref(), Some("10"));
        assert_eq!(sub("-0", "0").as_deref(), Some("0"));
        // Not plain decimal text, or too long: the caller's bint decides.
        for text in ["", "-", "1.0", " 1", "1e3", "0x10", &"9".repeat(39)] {
            assert_eq!(add(text, "1"), None, "{text:?}");
        }
        // 38 digits parse; a sum beyond i128 is bint's too.
        let max = "9".repeat(38);
        assert_eq!(sub(&max, &max).as_deref(), Some("0"));
        assert_eq!(add(&max, &max), None);
    }
}
