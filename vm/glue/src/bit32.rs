//! `bit32`, Lua 5.2's bitwise library, as Lua 5.3 still offers it (`LUA_COMPAT_BITLIB`): operands
//! are integers (a float must have an exact integer value), taken modulo 2^32; results are the
//! unsigned 32-bit value as a non-negative integer.

use mlua::{Lua, Result, Table, Variadic};

const ALL_ONES: u64 = 0xffff_ffff;

fn trim(x: i64) -> u64 {
    (x as u64) & ALL_ONES
}

fn out(x: u64) -> i64 {
    (x & ALL_ONES) as i64
}

/// Logical shift left by `disp` (right when negative); 32 or more bits away gives 0.
fn shift(x: u64, disp: i64) -> i64 {
    if disp <= -32 || disp >= 32 {
        0
    } else if disp >= 0 {
        out(x << disp)
    } else {
        out(x >> -disp)
    }
}

fn rotate(x: u64, disp: i64) -> i64 {
    let d = (disp & 31) as u32;
    out(u64::from((x as u32).rotate_left(d)))
}

/// The (field, width) pair of `extract`/`replace`, checked as Lua 5.2 does.
fn field_args(field: i64, width: Option<i64>) -> Result<(u32, u32)> {
    let width = width.unwrap_or(1);
    if field < 0 {
        return Err(mlua::Error::runtime(
            "bad argument to 'extract' (field cannot be negative)",
        ));
    }
    if width <= 0 {
        return Err(mlua::Error::runtime(
            "bad argument to 'extract' (width must be positive)",
        ));
    }
    if field + width > 32 {
        return Err(mlua::Error::runtime("trying to access non-existent bits"));
    }
    Ok((field as u32, width as u32))
}

fn mask(width: u32) -> u64 {
    ALL_ONES >> (32 - width)
}

fn fold(args: &[i64], start: u64, op: fn(u64, u64) -> u64) -> u64 {
    args.iter().fold(start, |acc, x| op(acc, trim(*x)))
}

/// The `bit32` table.
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "band",
        lua.create_function(|_, a: Variadic<i64>| Ok(out(fold(&a, ALL_ONES, |x, y| x & y))))?,
    )?;
    t.set(
        "bor",
        lua.create_function(|_, a: Variadic<i64>| Ok(out(fold(&a, 0, |x, y| x | y))))?,
    )?;
    t.set(
        "bxor",
        lua.create_function(|_, a: Variadic<i64>| Ok(out(fold(&a, 0, |x, y| x ^ y))))?,
    )?;
    t.set(
        "btest",
        lua.create_function(|_, a: Variadic<i64>| Ok(fold(&a, ALL_ONES, |x, y| x & y) != 0))?,
    )?;
    t.set("bnot", lua.create_function(|_, x: i64| Ok(out(!trim(x))))?)?;
    t.set(
        "lshift",
        lua.create_function(|_, (x, d): (i64, i64)| Ok(shift(trim(x), d)))?,
    )?;
    t.set(
        "rshift",
        lua.create_function(|_, (x, d): (i64, i64)| Ok(shift(trim(x), d.saturating_neg())))?,
    )?;
    t.set(
        "arshift",
        lua.create_function(|_, (x, d): (i64, i64)| {
            let x = trim(x);
            if d < 0 || x & 0x8000_0000 == 0 {
                return Ok(shift(x, d.saturating_neg()));
            }
            // Negative: shift in ones from the left.
            if d >= 32 {
                return Ok(out(ALL_ONES));
            }
            Ok(out((x >> d) | !(ALL_ONES >> d)))
        })?,
    )?;
    t.set(
        "lrotate",
        lua.create_function(|_, (x, d): (i64, i64)| Ok(rotate(trim(x), d)))?,
    )?;
    t.set(
        "rrotate",
        lua.create_function(|_, (x, d): (i64, i64)| Ok(rotate(trim(x), d.wrapping_neg())))?,
    )?;
    t.set(
        "extract",
        lua.create_function(|_, (x, field, width): (i64, i64, Option<i64>)| {
            let (field, width) = field_args(field, width)?;
            Ok(out((trim(x) >> field) & mask(width)))
        })?,
    )?;
    t.set(
        "replace",
        lua.create_function(|_, (x, v, field, width): (i64, i64, i64, Option<i64>)| {
            let (field, width) = field_args(field, width)?;
            let m = mask(width);
            let cleared = trim(x) & !(m << field);
            Ok(out(cleared | ((trim(v) & m) << field)))
        })?,
    )?;
    Ok(t)
}
