local function reset()
  for i = #Handlers.list, 1, -1 do
    local name = Handlers.list[i].name
    if name ~= "_eval" and name ~= "_default" then table.remove(Handlers.list, i) end
  end
end

local order = {}
local function log(tag) return function() order[#order + 1] = tag end end

test("handlers run in order; a break verdict stops, continue goes on", function()
  reset(); order = {}
  Handlers.add("a", function(msg) return msg.Action == "Go" and "continue" or 0 end, log("a"))
  Handlers.add("b", function(msg) return msg.Action == "Go" and 1 or 0 end, log("b"))
  Handlers.add("c", "Go", log("c"))
  Handlers.add("d", "Go", log("d"))
  send({ Action = "Go" })
  eq(order, { "a", "b", "c" })
end)

test("re-adding a name updates it in place", function()
  reset(); order = {}
  Handlers.add("x", "Go", log("x1"))
  Handlers.add("y", "Go", log("y"))
  Handlers.add("x", "Go", log("x2"))
  eq(Handlers.list[2].name, "x")
  send({ Action = "Go" })
  eq(order, { "x2" })
end)

test("prepend, before, after and remove place handlers; prepend cannot jump _eval", function()
  reset(); order = {}
  Handlers.add("mid", function() return "continue" end, log("mid"))
  Handlers.prepend("first", function() return "continue" end, log("first"))
  Handlers.before("mid").add("before-mid", function() return "continue" end, log("before-mid"))
  Handlers.after("mid").add("after-mid", function() return "continue" end, log("after-mid"))
  eq(Handlers.list[1].name, "_eval")
  eq(Handlers.list[#Handlers.list].name, "_default")
  send({ Action = "Anything" })
  eq(order, { "first", "before-mid", "mid", "after-mid" })
  Handlers.remove("mid")
  order = {}
  send({ Action = "Anything" })
  eq(order, { "first", "before-mid", "after-mid" })
  -- A user's catch-all prepend does not stop the owner's Eval.
  Handlers.prepend("greedy", function() return true end, log("greedy"))
  eq(output(eval("40 + 2")), "42")
end)

test("maxRuns and once", function()
  reset(); order = {}
  Handlers.add("twice", "Go", log("twice"), 2)
  Handlers.once("one", "Go", log("once"))
  for _ = 1, 3 do send({ Action = "Go" }) end
  eq(order, { "once", "twice", "twice" })
end)

test("table patterns as aos: exact (case-sensitive), any, Lua pattern anywhere, function, alternatives", function()
  reset(); order = {}
  Handlers.add("t1", { Action = "Pay", Amount = "_" }, log("any"))
  send({ Action = "Pay", Amount = "5" })
  send({ Action = "Pay" })
  Handlers.add("t2", { Action = "shout" }, log("case"))
  send({ Action = "SHOUT" })
  send({ Action = "shout" })
  Handlers.add("t3", { Action = "Order%-%d+" }, log("pattern"))
  send({ Action = "New-Order-42-Now" })
  Handlers.add("t4", { Action = "Big", Amount = function(v) return tonumber(v) > 10 end }, log("fn"))
  send({ Action = "Big", Amount = "11" })
  send({ Action = "Big", Amount = "9" })
  Handlers.add("t5", { Action = { "Red", "Blue" } }, log("alt"))
  send({ Action = "Blue" })
  -- A lone `-` is no pattern character: "Credit-Notice" is compared as text.
  Handlers.add("t6", { Action = "Credit-Notice" }, log("dash"))
  send({ Action = "Credit-Notice" })
  send({ Action = "Credit-NoticeX" })
  eq(order, { "any", "case", "pattern", "fn", "alt", "dash" })
end)

test("resolvers pick the first matching spec", function()
  reset(); order = {}
  Handlers.add("r", "Resolve", {
    [{ Kind = "a" }] = log("ra"),
    [{ Kind = "b" }] = log("rb"),
  })
  send({ Action = "Resolve", Kind = "b" })
  eq(order, { "rb" })
end)

test("hasMatchingTag, hasMatchingTagOf, hasMatchingData, reply, continue", function()
  reset(); order = {}
  Handlers.add("h1", Handlers.utils.continue(Handlers.utils.hasMatchingTag("Action", "Ping")), log("h1"))
  Handlers.add("h2", Handlers.utils.hasMatchingTagOf("Action", { "Ping", "Pong" }), Handlers.utils.reply("pong"))
  Handlers.add("h3", Handlers.utils.hasMatchingData("exact"), log("h3"))
  local r = send({ Action = "Ping", From = "PEER", Reference = "7" })
  eq(order, { "h1" })
  eq(#r.Messages, 1)
  eq(r.Messages[1].Target, "PEER")
  eq(r.Messages[1].Data, "pong")
  eq(tag(r.Messages[1], "X-Reference"), "7")
  send({ Action = "Other", Data = "exact" })
  eq(order, { "h1", "h3" })
  -- A reply to a reply keeps the first X-Reference; a message without any still gets the tag.
  r = send({ Action = "Ping", From = "PEER", Reference = "8", ["X-Reference"] = "3" })
  eq(tag(r.Messages[1], "X-Reference"), "3")
  r = send({ Action = "Ping", From = "PEER" })
  eq(tag(r.Messages[1], "X-Reference"), "")
end)

test("msg.reply goes to Reply-To when present; msg.forward keeps the data", function()
  reset()
  Handlers.add("fw", "Fw", function(msg)
    msg.reply({ Action = "Ack" })
    msg.forward("ELSEWHERE", { Note = "n" })
  end)
  local r = send({ Action = "Fw", From = "A", ["Reply-To"] = "B", Data = "payload" })
  eq(r.Messages[1].Target, "B")
  eq(tag(r.Messages[1], "Action"), "Ack")
  eq(r.Messages[2].Target, "ELSEWHERE")
  eq(r.Messages[2].Data, "payload")
  eq(tag(r.Messages[2], "Note"), "n")
  eq(tag(r.Messages[2], "X-Origin"), "A")
end)

test("a handler error is the result's Error", function()
  reset()
  Handlers.add("bad", "Bad", function() error("handler failed") end)
  local r = send({ Action = "Bad" })
  assert(r.Error and r.Error:find("handler failed"), tostring(r.Error))
end)

test("Cron messages run handlers like any other", function()
  reset(); order = {}
  Handlers.add("tick", function(msg) return msg.Cron == true end, log("tick"))
  send({ Action = "Cron", Cron = true })
  eq(order, { "tick" })
end)

test("Send, Spawn and Assign fill the outbox; each send gets a Reference and an Anchor", function()
  reset()
  local r = eval([[
    Send({ Target = "T1", Action = "Hello", Data = "hi", Count = 3 })
    Send({ Target = "T2", Data = { k = "v" } })
    Spawn("MODULE-X", { Data = "boot", Name = "child" })
    Assign({ Processes = { "P1" }, Message = "M1" })
  ]])
  eq(r.Error, nil)
  eq(#r.Messages, 2)
  eq(r.Messages[1].Target, "T1")
  eq(tag(r.Messages[1], "Action"), "Hello")
  eq(tag(r.Messages[1], "Count"), "3")
  assert(tonumber(tag(r.Messages[1], "Reference")))
  eq(#r.Messages[1].Anchor, 32)
  eq(r.Messages[2].Data, '{"k":"v"}')
  eq(tag(r.Messages[2], "Content-Type"), "application/json")
  eq(#r.Spawns, 1)
  eq(tag(r.Spawns[1], "Module"), "MODULE-X")
  eq(tag(r.Spawns[1], "Name"), "child")
  eq(r.Assignments[1].Message, "M1")
end)

return finish()
