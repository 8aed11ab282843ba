test("the spawn sets Owner and Name, and the prompt shows them", function()
  eq(Owner, OWNER)
  eq(Name, "spec")
  local r = eval("1 + 1")
  eq(output(r), "2")
  eq(plain(r.Output.prompt), "spec@aos-0.1.0[Inbox:1]> ")
  eq(r.Output.prompt, "\27[32mspec\27[90m@\27[34maos-0.1.0\27[90m[Inbox:\27[31m1\27[90m]\27[0m> ")
  eq(r.Output.print, false)
end)

test("eval tries return first, then a statement; tables print readably", function()
  eq(output(eval("X = 5")), "")
  eq(output(eval("X * 2")), "10")
  eq(output(eval("print('hi') return 3")), "hi\n3")
  eq(plain(output(eval("{ b = 2, a = 1 }"))), "{\n   a = 1,\n   b = 2\n}")
end)

test("eval errors are Error results", function()
  local r = eval("x = = 1")
  assert(r.Error and r.Error:find("aos:1:"), tostring(r.Error))
  r = eval("error('boom')")
  assert(r.Error:find("boom"))
end)

test("only the owner may eval; others land in the Inbox", function()
  local before = #Inbox
  local r = send({ From = "STRANGER", Action = "Eval", Data = "Owner = 'me'" })
  eq(Owner, OWNER)
  eq(#Inbox, before + 1)
  eq(r.Output.print, true)
  eq(plain(output(r)), "New Message From STR...GER: Action = Eval")
  local long = string.rep("x", 50)
  r = send({ From = "STRANGER", Data = long })
  eq(plain(output(r)), "New Message From STR...GER: Data = " .. string.rep("x", 20))
end)

test("tags are lifted, title-cased, mapped and kept as a list", function()
  local seen
  Handlers.add("peek", "Peek", function(msg) seen = msg end)
  local m = message({ Action = "Peek", ["reply-to"] = "R", Custom = "c" })
  require('.process').handle(m, ENV)
  eq(seen.Action, "Peek")
  eq(seen["Reply-To"], "R")
  eq(seen.Tags.Custom, "c")
  eq(#seen.TagArray, 3)
  Handlers.remove("peek")
end)

test("a tag cannot overwrite From or Owner", function()
  local seen
  Handlers.add("peek2", "Peek2", function(msg) seen = msg end)
  send({ Action = "Peek2", From = "A", Owner = "A" })
  local m = message({ Action = "Peek2" })
  table.insert(m.Tags, { name = "From", value = "SPOOF" })
  require('.process').handle(m, ENV)
  eq(seen.From, OWNER)
  Handlers.remove("peek2")
end)

test("JSON data is decoded when the Content-Type says so", function()
  local seen
  Handlers.add("json", "Json", function(msg) seen = msg.Data end)
  send({ Action = "Json", ["Content-Type"] = "application/json", Data = '{"a":[1,2]}' })
  eq(seen, { a = { 1, 2 } })
  Handlers.remove("json")
end)

test("a From-Process not forwarded by an authority is not trusted or handled", function()
  local hit = false
  Handlers.add("t", "Touch", function() hit = true end)
  local before = #Inbox
  -- Claims to come from process P but was signed by a stranger.
  local r = send({ From = "P", Owner = "STRANGER", Action = "Touch" })
  eq(hit, false)
  eq(#Inbox, before)
  eq(output(r), "Message is not trusted! From: P - Owner: STRANGER")
  eq(#r.Messages, 1)
  eq(r.Messages[1].Target, "P")
  eq(r.Messages[1].Data, "Message is not trusted by this process!")
  eq(ao.isTrusted({ From = "P", Owner = NODE }), true)
  -- Forwarded by the node: handled.
  send({ From = "P", Owner = NODE, Action = "Touch" })
  eq(hit, true)
  Handlers.remove("t")
end)

test("the Inbox keeps at most 10,000 messages, oldest dropped", function()
  for i = #Inbox, 1, -1 do Inbox[i] = nil end
  for i = 1, 10005 do
    send({ From = "S", Action = "Fill", Data = tostring(i) })
  end
  eq(#Inbox, 10000)
  eq(Inbox[#Inbox].Data, "10005")
  for i = #Inbox, 1, -1 do Inbox[i] = nil end
end)

-- os.time and math.random per message are set by the runtime around `handle` (see the
-- determinism tests of aos-vm); specs call `handle` directly, so they are not checked here.

return finish()
