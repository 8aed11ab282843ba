-- `lsqlite3`: SQLite behind the lsqlite3 API, in-memory databases only.
local sqlite3 = require("lsqlite3")

local function fresh()
  local db = sqlite3.open_memory()
  assert(db:exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)") == sqlite3.OK)
  return db
end

test("codes and version", function()
  eq(sqlite3.OK, 0) eq(sqlite3.ROW, 100) eq(sqlite3.DONE, 101)
  eq(sqlite3.INTEGER, 1) eq(sqlite3.NULL, 5)
  assert(sqlite3.version():match("^3%.%d+%.%d+$"), sqlite3.version())
  eq(require(".lsqlite3"), sqlite3)
  eq(sqlite3.complete("SELECT 1;"), true)
  eq(sqlite3.complete("SELECT 1"), false)
end)

test("exec runs several statements and calls back per row", function()
  local db = fresh()
  eq(db:exec("INSERT INTO t(name) VALUES ('a'); INSERT INTO t(name) VALUES ('b');"), sqlite3.OK)
  local seen = {}
  local rc = db:exec("SELECT id, name FROM t ORDER BY id", function(udata, n, values, names)
    seen[#seen + 1] = udata .. n .. names[1] .. "=" .. values[1] .. "," .. names[2] .. "=" .. values[2]
    return 0
  end, "u")
  eq(rc, sqlite3.OK)
  eq(seen, { "u2id=1,name=a", "u2id=2,name=b" })
  eq(db:exec("SELECT * FROM t", function() return 1 end), sqlite3.ABORT)
  eq(db:changes(), 1)
  eq(db:total_changes(), 2)
  eq(db:last_insert_rowid(), 2)
end)

test("errors are codes, and errmsg says why", function()
  local db = fresh()
  eq(db:exec("SELEKT 1"), sqlite3.ERROR)
  assert(db:errmsg():find("syntax error"), db:errmsg())
  eq(db:errcode(), sqlite3.ERROR)
  local stmt, code = db:prepare("SELECT * FROM missing")
  eq(stmt, nil) eq(code, sqlite3.ERROR)
  assert(db:errmsg():find("no such table"), db:errmsg())
  eq(db:exec("INSERT INTO t(id) VALUES (1); INSERT INTO t(id) VALUES (1)"), sqlite3.CONSTRAINT)
  assert(not pcall(db.nrows, db, "SELECT * FROM missing"), "an iterator over bad SQL raises")
end)

test("prepare, bind, step and read values of every type", function()
  local db = fresh()
  local stmt, tail = db:prepare("INSERT INTO t(id, name, score, data) VALUES (?, ?, ?, ?); SELECT 1")
  eq(tail, " SELECT 1")
  eq(stmt:bind_parameter_count(), 4)
  eq(stmt:bind_values(1, "one", 1.5, nil), sqlite3.OK)
  eq(stmt:step(), sqlite3.DONE)
  stmt:reset()
  stmt:bind(1, 2) stmt:bind(2, true) stmt:bind(3, 2) stmt:bind_blob(4, "\0\1\255")
  eq(stmt:step(), sqlite3.DONE)
  eq(stmt:finalize(), sqlite3.OK)
  eq(stmt:isopen(), false)

  local q = db:prepare("SELECT id, name, score, data FROM t ORDER BY id")
  eq(q:columns(), 4)
  eq(q:step(), sqlite3.ROW)
  eq(q:get_value(0), 1) eq(q:get_value(1), "one") eq(q:get_value(2), 1.5) eq(q:get_value(3), nil)
  eq(math.type(q:get_value(0)), "integer")
  eq(q:get_name(1), "name")
  eq(q:get_names(), { "id", "name", "score", "data" })
  eq(q:step(), sqlite3.ROW)
  eq(q:get_values(), { 2, "1", 2.0, "\0\1\255" }, "true became 1, stored as text by the TEXT column")
  eq(math.type(q:get_value(2)), "float", "REAL stays a float")
  eq(q:get_named_values(), { id = 2, name = "1", score = 2.0, data = "\0\1\255" })
  local a, b = q:get_uvalues()
  eq(a, 2) eq(b, "1")
  eq(q:step(), sqlite3.DONE)
  q:finalize()
end)

test("bind_names with :name, $name and @name", function()
  local db = fresh()
  local stmt = db:prepare("INSERT INTO t(id, name, score) VALUES (:id, $name, @score)")
  eq(stmt:bind_parameter_name(1), ":id")
  eq(stmt:bind_names({ id = 7, name = "seven", score = 7.5 }), sqlite3.OK)
  eq(stmt:step(), sqlite3.DONE)
  stmt:finalize()
  for row in db:nrows("SELECT * FROM t") do eq(row, { id = 7, name = "seven", score = 7.5 }) end
end)

test("nrows, rows and urows iterate, on a database and on a statement", function()
  local db = fresh()
  db:exec("INSERT INTO t(id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
  local names = {}
  for row in db:nrows("SELECT name FROM t ORDER BY id") do names[#names + 1] = row.name end
  eq(names, { "a", "b", "c" })
  local ids = {}
  for row in db:rows("SELECT id FROM t ORDER BY id DESC") do ids[#ids + 1] = row[1] end
  eq(ids, { 3, 2, 1 })
  local pairs_seen = {}
  for id, name in db:urows("SELECT id, name FROM t ORDER BY id") do pairs_seen[#pairs_seen + 1] = id .. name end
  eq(pairs_seen, { "1a", "2b", "3c" })
  local stmt = db:prepare("SELECT count(*) FROM t WHERE id > ?")
  stmt:bind(1, 1)
  for n in stmt:urows() do eq(n, 2) end
  stmt:bind(1, 2)
  for n in stmt:urows() do eq(n, 1) end -- the statement was reset after the first loop
  stmt:finalize()
end)

test("transactions commit and roll back", function()
  local db = fresh()
  db:exec("BEGIN; INSERT INTO t(id) VALUES (1); ROLLBACK;")
  for n in db:urows("SELECT count(*) FROM t") do eq(n, 0) end
  db:exec("BEGIN; INSERT INTO t(id) VALUES (1); COMMIT;")
  for n in db:urows("SELECT count(*) FROM t") do eq(n, 1) end
end)

test("nothing reaches outside: no files, no local time, no extensions", function()
  local ok, err = pcall(sqlite3.open, "/tmp/x.db")
  assert(not ok and tostring(err):find("no files"), tostring(err))
  local db = sqlite3.open_memory()
  -- An attached "file" is one more in-memory database: its file name is empty.
  eq(db:exec("ATTACH DATABASE '/tmp/other.db' AS other; CREATE TABLE other.x(a)"), sqlite3.OK)
  for name, file in db:urows("SELECT name, file FROM pragma_database_list WHERE name = 'other'") do
    eq(file, "")
  end
  eq(db:exec("SELECT datetime('now', 'localtime')"), sqlite3.ERROR)
  eq(db:exec("SELECT load_extension('x')"), sqlite3.ERROR)
  -- Temporary tables live in memory.
  eq(db:exec("CREATE TEMP TABLE tmp(x); INSERT INTO tmp VALUES (1)"), sqlite3.OK)
end)

test("the clock is the message's", function()
  local db = sqlite3.open_memory()
  for now in db:urows("SELECT CAST(unixepoch('now') AS INTEGER)") do
    eq(now, os.time() // 1000)
  end
end)

test("closing", function()
  local db = sqlite3.open_memory()
  local stmt = db:prepare("SELECT 1")
  eq(db:isopen(), true)
  eq(db:close(), sqlite3.BUSY, "a statement is still open")
  eq(stmt:step(), sqlite3.ROW)
  stmt:finalize()
  eq(db:close(), sqlite3.OK)
  eq(db:isopen(), false)
  assert(not pcall(db.exec, db, "SELECT 1"), "a closed database refuses work")
end)

return finish()
