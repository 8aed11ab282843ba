-- Send, ao.send and Spawn return what aos returns; patch@1.0 sends become Patches.

test("Send returns aos's short form; the REPL shows 'Message added to outbox'", function()
  local r = eval("return Send({ Target = 'T', Action = 'Hi' })")
  eq(output(r), "Message added to outbox")
  eq(#r.Messages, 1)
  local result = Send({ Target = "T" })
  eq(result.output, "Message added to outbox")
  eq(type(result.receive), "function")
  eq(type(result.onReply), "function")
  r = eval("return Spawn({ Name = 'kid' })")
  eq(output(r), "Spawn process request added to outbox")
  eq(tag(r.Spawns[1], "Module"), "MODULE")
end)

test("ao.send returns the message with receive and onReply", function()
  local r = eval([[
    local m = ao.send({ Target = 'T', Action = 'Hi', Data = 'x' })
    return m.Target .. ' ' .. m.Data .. ' ' .. type(m.onReply) .. ' ' .. type(m.receive) .. ' ' .. #m.Anchor
  ]])
  eq(output(r), "T x function function 32")
end)

test("Send without Target warns as aos and keeps the message", function()
  local r = eval("Send({ Data = 'lost' })")
  eq(r.Error, nil)
  eq(output(r), "WARN: No target specified for message. Data will be stored, but no process will receive it."
    .. "\nMessage added to outbox")
  eq(#r.Messages, 1)
  eq(r.Messages[1].Target, nil)
end)

test("onReply runs its handle when the reply arrives in a later message", function()
  local got
  Handlers.add("ask", "Ask", function()
    Send({ Target = "ORACLE", Action = "Question" }).onReply(function(reply) got = reply.Data end)
  end)
  local r = send({ Action = "Ask", From = "USER" })
  local ref = tag(r.Messages[1], "Reference")
  send({ From = "ORACLE", Action = "Unrelated" })
  eq(got, nil)
  send({ From = "ORACLE", ["X-Reference"] = ref, Data = "42" })
  eq(got, "42")
  -- It ran once: a second reply lands in the Inbox.
  local before = #Inbox
  send({ From = "ORACLE", ["X-Reference"] = ref, Data = "43" })
  eq(got, "42")
  eq(#Inbox, before + 1)
  -- onReply(from, handle) waits for a reply from someone else.
  Handlers.add("ask2", "Ask2", function()
    ao.send({ Target = "ORACLE", Action = "Question" }).onReply("PROXY", function(reply) got = reply.Data end)
  end)
  r = send({ Action = "Ask2", From = "USER" })
  ref = tag(r.Messages[1], "Reference")
  send({ From = "ORACLE", ["X-Reference"] = ref, Data = "from oracle" })
  eq(got, "42")
  send({ From = "PROXY", ["X-Reference"] = ref, Data = "from proxy" })
  eq(got, "from proxy")
  Handlers.remove("ask")
  Handlers.remove("ask2")
end)

test("patch@1.0 sends become the result's Patches, not Messages", function()
  local r = eval([[
    Send({ device = 'patch@1.0', balances = { alice = '5' }, ticker = 'PNTS' })
    ao.send({ device = 'patch@1.0', Target = ao.id, count = 2 })
  ]])
  eq(r.Error, nil)
  eq(#r.Messages, 0)
  eq(r.Patches, { { balances = { alice = "5" }, ticker = "PNTS" }, { count = 2 } })
  eq(output(r), "")
  eq(eval("return 1").Patches, nil)
end)

test("field tags are sorted texts of the values; a process's own tostring still makes them", function()
  local r = eval("return Send({ Target = 'T', Zed = 'z', Count = 3, Flag = true, Ratio = 0.5 })")
  eq(r.Messages[1].Tags, {
    { name = "Count", value = "3" }, { name = "Flag", value = "true" },
    { name = "Ratio", value = "0.5" }, { name = "Zed", value = "z" },
    { name = "Reference", value = tag(r.Messages[1], "Reference") },
  })
  r = eval([[
    local builtin = tostring
    tostring = function(v) return "<" .. builtin(v) .. ">" end
    local ok, err = pcall(Send, { Target = 'T', Word = 'w', N = 1 })
    tostring = builtin
    assert(ok, err)
  ]])
  eq(tag(r.Messages[1], "Word"), "<w>")
  eq(tag(r.Messages[1], "N"), "<1>")
  r = eval([[
    local strings = getmetatable("")
    strings.__tostring = function(s) return "[" .. #s .. "]" end
    local ok, err = pcall(Send, { Target = 'T', Word = 'four' })
    strings.__tostring = nil
    assert(ok, err)
  ]])
  eq(tag(r.Messages[1], "Word"), "[4]")
end)

test("a message with a metatable is read through it: __pairs and __index decide its fields", function()
  local r = eval([[
    local fields = { Target = 'T', Shown = 'yes' }
    Send(setmetatable({ Target = 'T', Hidden = 'no' },
      { __pairs = function() return next, fields, nil end, __index = fields }))
  ]])
  eq(tag(r.Messages[1], "Shown"), "yes")
  eq(tag(r.Messages[1], "Hidden"), nil)
end)

return finish()
