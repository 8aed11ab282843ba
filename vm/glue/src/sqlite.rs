//! `lsqlite3`: SQLite (the amalgamation libsqlite3-sys bundles) behind the lsqlite3 Lua API,
//! in-memory databases only (see `sqlite_vfs.rs` for what makes it deterministic).
//!
//! Module: `open_memory()`, `open(":memory:")`, `version()`, `lversion()`, `complete(sql)` and the
//! result and type codes (`OK`, `ROW`, `DONE`, `INTEGER`, …). A database: `exec(sql [, fn [,
//! udata]])`, `prepare(sql)` (→ `stmt, tail` or `nil, code`), `nrows/rows/urows(sql)`,
//! `errcode/errmsg`, `changes`, `total_changes`, `last_insert_rowid`, `close`, `isopen`. A
//! statement: `step`, `reset`, `finalize`, `bind(i, v)`, `bind_values(...)`, `bind_names(t)`,
//! `bind_blob`, `bind_parameter_count/name`, `clear_bindings`, `columns`, `get_value(i)` (0-based),
//! `get_values`, `get_named_values`, `get_uvalues`, `get_name(i)`, `get_names`, `get_unames`,
//! `nrows/rows/urows`, `isopen`, `last_insert_rowid`. Values: INTEGER is a Lua integer, REAL a
//! float, TEXT and BLOB strings, NULL nil; binding a boolean stores 1 or 0.

use std::cell::Cell;
use std::ffi::{CStr, c_char, c_int};
use std::rc::Rc;

use libsqlite3_sys as ffi;
use mlua::{
    Function, IntoLuaMulti, Lua, LuaString, MultiValue, Result, Table, UserData, UserDataMethods,
    Value, Variadic,
};

use crate::sqlite_vfs;

fn fail(text: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(text.into())
}

/// An open connection; closed (null) after `close()` or when the last reference goes (statements
/// hold a reference, so that is after the last of them).
struct Connection {
    raw: Cell<*mut ffi::sqlite3>,
}

impl Connection {
    fn get(&self) -> Result<*mut ffi::sqlite3> {
        let raw = self.raw.get();
        if raw.is_null() {
            return Err(fail("the database is closed"));
        }
        Ok(raw)
    }

    /// `BUSY` (and still open) while statements of it are not finalized.
    fn close(&self) -> c_int {
        let raw = self.raw.get();
        if raw.is_null() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `raw` came from sqlite3_open_v2; it is forgotten only once closed.
        let rc = unsafe { ffi::sqlite3_close(raw) };
        if rc == ffi::SQLITE_OK {
            self.raw.set(std::ptr::null_mut());
        }
        rc
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close();
    }
}

fn errmsg(db: *mut ffi::sqlite3) -> String {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned()
}

struct Db(Rc<Connection>);

/// A prepared statement, holding its connection open.
struct Statement {
    raw: Cell<*mut ffi::sqlite3_stmt>,
    _db: Rc<Connection>,
}

impl Statement {
    fn get(&self) -> Result<*mut ffi::sqlite3_stmt> {
        let raw = self.raw.get();
        if raw.is_null() {
            return Err(fail("the statement is finalized"));
        }
        Ok(raw)
    }

    fn finalize(&self) -> c_int {
        let raw = self.raw.replace(std::ptr::null_mut());
        if raw.is_null() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `raw` came from sqlite3_prepare_v2 and is finalised once.
        unsafe { ffi::sqlite3_finalize(raw) }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        self.finalize();
    }
}

struct Stmt(Rc<Statement>);

/// Compiles the first statement of `sql[offset..]`: the statement (None for only whitespace or
/// comments) and the offset after it, or the error code.
fn prepare(
    db: &Rc<Connection>,
    sql: &[u8],
    offset: usize,
) -> Result<std::result::Result<(Option<Statement>, usize), c_int>> {
    let raw_db = db.get()?;
    let rest = &sql[offset..];
    let mut stmt = std::ptr::null_mut();
    let mut tail: *const c_char = std::ptr::null();
    // SAFETY: `rest` is valid for its length; SQLite writes the statement and the tail pointer,
    // which points into `rest`.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(
            raw_db,
            rest.as_ptr().cast(),
            rest.len() as c_int,
            &mut stmt,
            &mut tail,
        )
    };
    if rc != ffi::SQLITE_OK {
        return Ok(Err(rc));
    }
    let used = if tail.is_null() {
        rest.len()
    } else {
        tail as usize - rest.as_ptr() as usize
    };
    let statement = (!stmt.is_null()).then(|| Statement {
        raw: Cell::new(stmt),
        _db: db.clone(),
    });
    Ok(Ok((statement, offset + used)))
}

fn column(lua: &Lua, stmt: *mut ffi::sqlite3_stmt, i: c_int) -> Result<Value> {
    // SAFETY: `stmt` is a live statement positioned on a row and `i` is below its column count;
    // the text/blob pointer is read (for column_bytes bytes) before the next SQLite call on it.
    unsafe {
        Ok(match ffi::sqlite3_column_type(stmt, i) {
            ffi::SQLITE_INTEGER => Value::Integer(ffi::sqlite3_column_int64(stmt, i)),
            ffi::SQLITE_FLOAT => Value::Number(ffi::sqlite3_column_double(stmt, i)),
            ffi::SQLITE_TEXT | ffi::SQLITE_BLOB => {
                let ptr = ffi::sqlite3_column_blob(stmt, i);
                let len = ffi::sqlite3_column_bytes(stmt, i) as usize;
                let bytes = if ptr.is_null() || len == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(ptr.cast::<u8>(), len)
                };
                Value::String(lua.create_string(bytes)?)
            }
            _ => Value::Nil,
        })
    }
}

fn column_count(stmt: *mut ffi::sqlite3_stmt) -> c_int {
    // SAFETY: `stmt` is a live statement.
    unsafe { ffi::sqlite3_column_count(stmt) }
}

fn column_name(lua: &Lua, stmt: *mut ffi::sqlite3_stmt, i: c_int) -> Result<Value> {
    // SAFETY: `stmt` is live; the name is NUL-terminated and owned by the statement.
    let name = unsafe { ffi::sqlite3_column_name(stmt, i) };
    if name.is_null() {
        return Ok(Value::Nil);
    }
    // SAFETY: see above.
    let bytes = unsafe { CStr::from_ptr(name) }.to_bytes();
    Ok(Value::String(lua.create_string(bytes)?))
}

/// The row as an array (1-based), as a name → value table, or as multiple values.
#[derive(Clone, Copy)]
enum Shape {
    Array,
    Named,
    Unpacked,
}

fn row(lua: &Lua, stmt: *mut ffi::sqlite3_stmt, shape: Shape) -> Result<MultiValue> {
    let n = column_count(stmt);
    match shape {
        Shape::Array => {
            let t = lua.create_table()?;
            for i in 0..n {
                t.raw_set(i + 1, column(lua, stmt, i)?)?;
            }
            t.into_lua_multi(lua)
        }
        Shape::Named => {
            let t = lua.create_table()?;
            for i in 0..n {
                t.raw_set(column_name(lua, stmt, i)?, column(lua, stmt, i)?)?;
            }
            t.into_lua_multi(lua)
        }
        Shape::Unpacked => (0..n)
            .map(|i| column(lua, stmt, i))
            .collect::<Result<Vec<_>>>()
            .map(MultiValue::from_iter),
    }
}

fn step(stmt: *mut ffi::sqlite3_stmt) -> c_int {
    // SAFETY: `stmt` is a live statement.
    unsafe { ffi::sqlite3_step(stmt) }
}

/// An iterator over the rows of `statement`; at the end it resets (`reset`) or finalises it.
fn rows_iterator(lua: &Lua, statement: Rc<Statement>, shape: Shape, own: bool) -> Result<Function> {
    lua.create_function(move |lua, _: MultiValue| {
        let Ok(stmt) = statement.get() else {
            return Ok(MultiValue::new());
        };
        match step(stmt) {
            ffi::SQLITE_ROW => row(lua, stmt, shape),
            ffi::SQLITE_DONE => {
                if own {
                    statement.finalize();
                } else {
                    // SAFETY: `stmt` is live.
                    unsafe { ffi::sqlite3_reset(stmt) };
                }
                Ok(MultiValue::new())
            }
            _ => {
                // SAFETY: `stmt` is live; its connection outlives it.
                let text = errmsg(unsafe { ffi::sqlite3_db_handle(stmt) });
                if own {
                    statement.finalize();
                } else {
                    // SAFETY: as above.
                    unsafe { ffi::sqlite3_reset(stmt) };
                }
                Err(fail(text))
            }
        }
    })
}

impl Db {
    /// One statement of `sql` for an iterator, or an error with SQLite's message.
    fn single(&self, sql: &LuaString) -> Result<Rc<Statement>> {
        let bytes = sql.as_bytes();
        match prepare(&self.0, &bytes, 0)? {
            Ok((Some(statement), _)) => Ok(Rc::new(statement)),
            Ok((None, _)) => Err(fail("no SQL statement given")),
            Err(_) => Err(fail(errmsg(self.0.get()?))),
        }
    }

    /// `exec`: every statement of `sql`, calling `callback(udata, ncols, values, names)` per row
    /// (a non-zero answer aborts with `ABORT`).
    fn exec(
        &self,
        lua: &Lua,
        sql: &LuaString,
        callback: Option<Function>,
        udata: Value,
    ) -> Result<c_int> {
        let bytes = sql.as_bytes();
        let mut offset = 0;
        while offset < bytes.len() {
            let (statement, next) = match prepare(&self.0, &bytes, offset)? {
                Ok(compiled) => compiled,
                Err(rc) => return Ok(rc),
            };
            offset = next;
            let Some(statement) = statement else { continue };
            let stmt = statement.get()?;
            let mut names = None;
            loop {
                match step(stmt) {
                    ffi::SQLITE_ROW => {
                        let Some(callback) = &callback else { continue };
                        let n = column_count(stmt);
                        if names.is_none() {
                            let t = lua.create_table()?;
                            for i in 0..n {
                                t.raw_set(i + 1, column_name(lua, stmt, i)?)?;
                            }
                            names = Some(t);
                        }
                        let values = lua.create_table()?;
                        for i in 0..n {
                            values.raw_set(i + 1, column(lua, stmt, i)?)?;
                        }
                        let answer: Value =
                            callback.call((udata.clone(), n, values, names.clone()))?;
                        let abort = match answer {
                            Value::Integer(i) => i != 0,
                            Value::Number(f) => f != 0.0,
                            _ => false,
                        };
                        if abort {
                            return Ok(ffi::SQLITE_ABORT);
                        }
                    }
                    ffi::SQLITE_DONE => break,
                    _ => {
                        // The statement's error becomes the connection's (errcode/errmsg).
                        return Ok(statement.finalize());
                    }
                }
            }
        }
        Ok(ffi::SQLITE_OK)
    }
}

fn db_call<T>(db: &Db, f: impl FnOnce(*mut ffi::sqlite3) -> T) -> Result<T> {
    Ok(f(db.0.get()?))
}

impl UserData for Db {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method(
            "exec",
            |lua, db, (sql, callback, udata): (LuaString, Option<Function>, Value)| {
                db.exec(lua, &sql, callback, udata)
            },
        );
        methods.add_method("prepare", |lua, db, sql: LuaString| {
            let bytes = sql.as_bytes();
            match prepare(&db.0, &bytes, 0)? {
                Ok((Some(statement), next)) => {
                    let tail = lua.create_string(&bytes[next..])?;
                    (Stmt(Rc::new(statement)), tail).into_lua_multi(lua)
                }
                Ok((None, _)) => (Value::Nil, ffi::SQLITE_MISUSE).into_lua_multi(lua),
                Err(rc) => (Value::Nil, rc).into_lua_multi(lua),
            }
        });
        for (name, shape) in [
            ("rows", Shape::Array),
            ("nrows", Shape::Named),
            ("urows", Shape::Unpacked),
        ] {
            methods.add_method(name, move |lua, db, sql: LuaString| {
                let statement = db.single(&sql)?;
                rows_iterator(lua, statement, shape, true)
            });
        }
        methods.add_method("errcode", |_, db, ()| {
            // SAFETY: a live connection.
            db_call(db, |raw| unsafe { ffi::sqlite3_errcode(raw) })
        });
        methods.add_method("error_code", |_, db, ()| {
            // SAFETY: a live connection.
            db_call(db, |raw| unsafe { ffi::sqlite3_errcode(raw) })
        });
        methods.add_method("errmsg", |_, db, ()| db_call(db, errmsg));
        methods.add_method("error_message", |_, db, ()| db_call(db, errmsg));
        methods.add_method("changes", |_, db, ()| {
            // SAFETY: a live connection.
            db_call(db, |raw| unsafe { ffi::sqlite3_changes64(raw) })
        });
        methods.add_method("total_changes", |_, db, ()| {
            // SAFETY: a live connection.
            db_call(db, |raw| unsafe { ffi::sqlite3_total_changes64(raw) })
        });
        methods.add_method("last_insert_rowid", |_, db, ()| {
            // SAFETY: a live connection.
            db_call(db, |raw| unsafe { ffi::sqlite3_last_insert_rowid(raw) })
        });
        methods.add_method("isopen", |_, db, ()| Ok(!db.0.raw.get().is_null()));
        methods.add_method("close", |_, db, ()| Ok(db.0.close()));
    }
}

fn bind(stmt: *mut ffi::sqlite3_stmt, i: c_int, value: &Value, blob: bool) -> Result<c_int> {
    // SAFETY: `stmt` is live; text and blobs are copied by SQLite (SQLITE_TRANSIENT).
    let rc = unsafe {
        match value {
            Value::Nil => ffi::sqlite3_bind_null(stmt, i),
            Value::Boolean(b) => ffi::sqlite3_bind_int64(stmt, i, i64::from(*b)),
            Value::Integer(n) => ffi::sqlite3_bind_int64(stmt, i, *n),
            Value::Number(f) => ffi::sqlite3_bind_double(stmt, i, *f),
            Value::String(s) => {
                let bytes = s.as_bytes();
                if blob {
                    ffi::sqlite3_bind_blob64(
                        stmt,
                        i,
                        bytes.as_ptr().cast(),
                        bytes.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                    )
                } else {
                    ffi::sqlite3_bind_text64(
                        stmt,
                        i,
                        bytes.as_ptr().cast(),
                        bytes.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    )
                }
            }
            other => {
                return Err(fail(format!(
                    "cannot bind a {} to an SQL parameter",
                    other.type_name()
                )));
            }
        }
    };
    Ok(rc)
}

fn stmt_call<T>(s: &Stmt, f: impl FnOnce(*mut ffi::sqlite3_stmt) -> T) -> Result<T> {
    Ok(f(s.0.get()?))
}

impl UserData for Stmt {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("step", |_, s, ()| stmt_call(s, step));
        methods.add_method("reset", |_, s, ()| {
            // SAFETY: a live statement.
            stmt_call(s, |raw| unsafe { ffi::sqlite3_reset(raw) })
        });
        methods.add_method("clear_bindings", |_, s, ()| {
            // SAFETY: a live statement.
            stmt_call(s, |raw| unsafe { ffi::sqlite3_clear_bindings(raw) })
        });
        methods.add_method("finalize", |_, s, ()| Ok(s.0.finalize()));
        methods.add_method("isopen", |_, s, ()| Ok(!s.0.raw.get().is_null()));
        methods.add_method("columns", |_, s, ()| stmt_call(s, column_count));
        methods.add_method("bind", |_, s, (i, v): (c_int, Value)| {
            bind(s.0.get()?, i, &v, false)
        });
        methods.add_method("bind_blob", |_, s, (i, v): (c_int, LuaString)| {
            bind(s.0.get()?, i, &Value::String(v), true)
        });
        methods.add_method("bind_values", |_, s, values: Variadic<Value>| {
            let raw = s.0.get()?;
            for (i, v) in values.iter().enumerate() {
                let rc = bind(raw, i as c_int + 1, v, false)?;
                if rc != ffi::SQLITE_OK {
                    return Ok(rc);
                }
            }
            Ok(ffi::SQLITE_OK)
        });
        methods.add_method("bind_names", |_, s, names: Table| {
            let raw = s.0.get()?;
            // SAFETY: a live statement.
            let count = unsafe { ffi::sqlite3_bind_parameter_count(raw) };
            for i in 1..=count {
                // SAFETY: as above; the name is NUL-terminated, owned by the statement.
                let name = unsafe { ffi::sqlite3_bind_parameter_name(raw, i) };
                let value: Value = if name.is_null() {
                    names.raw_get(i)?
                } else {
                    // SAFETY: see above. The prefix (":", "$", "@") is not part of the key.
                    let text = unsafe { CStr::from_ptr(name) }.to_bytes();
                    let key = lua_key(&text[1..]);
                    match key.parse::<i64>() {
                        Ok(n) => names.raw_get(n)?,
                        Err(_) => names.raw_get(key)?,
                    }
                };
                let rc = bind(raw, i, &value, false)?;
                if rc != ffi::SQLITE_OK {
                    return Ok(rc);
                }
            }
            Ok(ffi::SQLITE_OK)
        });
        methods.add_method("bind_parameter_count", |_, s, ()| {
            // SAFETY: a live statement.
            stmt_call(s, |raw| unsafe { ffi::sqlite3_bind_parameter_count(raw) })
        });
        methods.add_method("bind_parameter_name", |lua, s, i: c_int| {
            let raw = s.0.get()?;
            // SAFETY: a live statement; the name is NUL-terminated, owned by the statement.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(raw, i) };
            if name.is_null() {
                return Ok(Value::Nil);
            }
            // SAFETY: see above.
            let text = unsafe { CStr::from_ptr(name) }.to_bytes();
            Ok(Value::String(lua.create_string(text)?))
        });
        methods.add_method("get_value", |lua, s, i: c_int| {
            let raw = s.0.get()?;
            if i < 0 || i >= column_count(raw) {
                return Ok(Value::Nil);
            }
            column(lua, raw, i)
        });
        methods.add_method("get_values", |lua, s, ()| {
            row(lua, s.0.get()?, Shape::Array)
        });
        methods.add_method("get_named_values", |lua, s, ()| {
            row(lua, s.0.get()?, Shape::Named)
        });
        methods.add_method("get_uvalues", |lua, s, ()| {
            row(lua, s.0.get()?, Shape::Unpacked)
        });
        methods.add_method("get_name", |lua, s, i: c_int| {
            let raw = s.0.get()?;
            if i < 0 || i >= column_count(raw) {
                return Ok(Value::Nil);
            }
            column_name(lua, raw, i)
        });
        methods.add_method("get_names", |lua, s, ()| {
            let raw = s.0.get()?;
            let t = lua.create_table()?;
            for i in 0..column_count(raw) {
                t.raw_set(i + 1, column_name(lua, raw, i)?)?;
            }
            Ok(t)
        });
        methods.add_method("get_unames", |lua, s, ()| {
            let raw = s.0.get()?;
            (0..column_count(raw))
                .map(|i| column_name(lua, raw, i))
                .collect::<Result<Vec<_>>>()
                .map(MultiValue::from_iter)
        });
        for (name, shape) in [
            ("rows", Shape::Array),
            ("nrows", Shape::Named),
            ("urows", Shape::Unpacked),
        ] {
            methods.add_method(name, move |lua, s, ()| {
                rows_iterator(lua, s.0.clone(), shape, false)
            });
        }
        methods.add_method("last_insert_rowid", |_, s, ()| {
            let raw = s.0.get()?;
            // SAFETY: a live statement; its connection outlives it.
            Ok(unsafe { ffi::sqlite3_last_insert_rowid(ffi::sqlite3_db_handle(raw)) })
        });
    }
}

fn lua_key(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CODES: &[(&str, c_int)] = &[
    ("OK", ffi::SQLITE_OK),
    ("ERROR", ffi::SQLITE_ERROR),
    ("INTERNAL", ffi::SQLITE_INTERNAL),
    ("PERM", ffi::SQLITE_PERM),
    ("ABORT", ffi::SQLITE_ABORT),
    ("BUSY", ffi::SQLITE_BUSY),
    ("LOCKED", ffi::SQLITE_LOCKED),
    ("NOMEM", ffi::SQLITE_NOMEM),
    ("READONLY", ffi::SQLITE_READONLY),
    ("INTERRUPT", ffi::SQLITE_INTERRUPT),
    ("IOERR", ffi::SQLITE_IOERR),
    ("CORRUPT", ffi::SQLITE_CORRUPT),
    ("NOTFOUND", ffi::SQLITE_NOTFOUND),
    ("FULL", ffi::SQLITE_FULL),
    ("CANTOPEN", ffi::SQLITE_CANTOPEN),
    ("PROTOCOL", ffi::SQLITE_PROTOCOL),
    ("EMPTY", ffi::SQLITE_EMPTY),
    ("SCHEMA", ffi::SQLITE_SCHEMA),
    ("TOOBIG", ffi::SQLITE_TOOBIG),
    ("CONSTRAINT", ffi::SQLITE_CONSTRAINT),
    ("MISMATCH", ffi::SQLITE_MISMATCH),
    ("MISUSE", ffi::SQLITE_MISUSE),
    ("NOLFS", ffi::SQLITE_NOLFS),
    ("FORMAT", ffi::SQLITE_FORMAT),
    ("RANGE", ffi::SQLITE_RANGE),
    ("NOTADB", ffi::SQLITE_NOTADB),
    ("ROW", ffi::SQLITE_ROW),
    ("DONE", ffi::SQLITE_DONE),
    ("INTEGER", ffi::SQLITE_INTEGER),
    ("FLOAT", ffi::SQLITE_FLOAT),
    ("TEXT", ffi::SQLITE_TEXT),
    ("BLOB", ffi::SQLITE_BLOB),
    ("NULL", ffi::SQLITE_NULL),
];

/// A new in-memory database.
fn open_memory(heap_limit: i64) -> Result<Db> {
    sqlite_vfs::start(heap_limit).map_err(fail)?;
    let mut raw = std::ptr::null_mut();
    let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_MEMORY;
    // SAFETY: valid NUL-terminated name and VFS name; SQLite writes the handle.
    let rc = unsafe {
        ffi::sqlite3_open_v2(
            c":memory:".as_ptr(),
            &mut raw,
            flags,
            sqlite_vfs::VFS_NAME.as_ptr(),
        )
    };
    let db = Db(Rc::new(Connection {
        raw: Cell::new(raw),
    }));
    if rc != ffi::SQLITE_OK {
        let text = if raw.is_null() {
            format!("cannot open an in-memory database (code {rc})")
        } else {
            errmsg(raw)
        };
        return Err(fail(text));
    }
    // Temporary tables and indices stay in memory too.
    db.exec_plain("PRAGMA temp_store = MEMORY")?;
    Ok(db)
}

impl Db {
    fn exec_plain(&self, sql: &str) -> Result<()> {
        let sql = std::ffi::CString::new(sql).expect("no NUL");
        let raw = self.0.get()?;
        // SAFETY: a live connection and a NUL-terminated statement, no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                raw,
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(fail(errmsg(raw)));
        }
        Ok(())
    }
}

/// The `lsqlite3` table; SQLite's own heap is capped at `heap_limit` bytes.
pub fn create(lua: &Lua, heap_limit: i64) -> Result<Table> {
    let t = lua.create_table()?;
    for (name, code) in CODES {
        t.set(*name, *code)?;
    }
    t.set(
        "open_memory",
        lua.create_function(move |_, ()| open_memory(heap_limit))?,
    )?;
    t.set(
        "open",
        lua.create_function(move |_, name: Option<String>| match name.as_deref() {
            None | Some(":memory:") | Some("") => open_memory(heap_limit),
            Some(other) => Err(fail(format!(
                "cannot open '{other}': a process has no files, only open_memory() databases"
            ))),
        })?,
    )?;
    t.set(
        "version",
        lua.create_function(|_, ()| {
            // SAFETY: a static NUL-terminated string.
            Ok(unsafe { CStr::from_ptr(ffi::sqlite3_libversion()) }
                .to_string_lossy()
                .into_owned())
        })?,
    )?;
    t.set("lversion", lua.create_function(|_, ()| Ok("aos-0.1"))?)?;
    t.set(
        "complete",
        lua.create_function(|_, sql: LuaString| {
            let sql = std::ffi::CString::new(sql.as_bytes().to_vec())
                .map_err(|_| fail("SQL contains a NUL byte"))?;
            // SAFETY: a NUL-terminated string.
            Ok(unsafe { ffi::sqlite3_complete(sql.as_ptr()) } != 0)
        })?,
    )?;
    Ok(t)
}
