-- How messages arrive and land, as in aos: tag normalisation, verdicts, the default handler, the
-- spawn message and On-Boot.
local process = require('.process')

local function reset()
  for i = #Handlers.list, 1, -1 do
    local name = Handlers.list[i].name
    if name ~= "_eval" and name ~= "_default" then table.remove(Handlers.list, i) end
  end
end

test("tag names are normalised as aos: _ to -, lower case, capitals at the start and after -", function()
  eq(ao.normalizeTag("data_PROTOCOL"), "Data-Protocol")
  eq(ao.normalizeTag("ACTION"), "Action")
  eq(ao.normalizeTag("x-reference"), "X-Reference")
  -- Answers are cached by name: asking again, and after the cache is dropped, gives the same.
  for round = 1, 2 do
    for i = 1, 1100 do eq(ao.normalizeTag("tag_" .. i .. "_NAME"), "Tag-" .. i .. "-Name") end
    eq(ao.normalizeTag("data_PROTOCOL"), "Data-Protocol")
  end
  eq(ao.normalizeTag(12), "12")
  eq(ao.normalizeTag("content_type"), "Content-Type")
  eq(Utils.normalize("reply_TO"), "Reply-To")
  local seen
  Handlers.add("peek", "Peek", function(msg) seen = msg end)
  local m = message({ Data = "" })
  m.Tags = { { name = "ACTION", value = "Peek" }, { name = "my_custom_TAG", value = "v" } }
  process.handle(m, ENV)
  eq(seen.Action, "Peek")
  eq(seen["My-Custom-Tag"], "v")
  eq(seen.Tags["My-Custom-Tag"], "v")
  eq(seen.TagArray[2].name, "My-Custom-Tag")
  Handlers.remove("peek")
end)

test("pattern keys are normalised too: { action = 'X' } matches Action = X", function()
  reset()
  local hit = 0
  Handlers.add("lower", { action = "Lower", reply_to = "_" }, function() hit = hit + 1 end)
  send({ Action = "Lower", ["Reply-To"] = "R" })
  send({ Action = "Lower" })
  eq(hit, 1)
end)

test("only a break counts as handled: messages that only continue handlers saw reach the Inbox", function()
  reset()
  local seen = 0
  Handlers.add("watch", function() return "continue" end, function() seen = seen + 1 end)
  Handlers.add("watch1", function(msg) return msg.Action == "Watched" and 1 or 0 end, function() seen = seen + 1 end)
  local before = #Inbox
  local r = send({ Action = "Watched", From = "SOMEONE-ELSE" })
  eq(seen, 2)
  eq(#Inbox, before + 1)
  eq(plain(output(r)), "New Message From SOM...LSE: Action = Watched")
  Handlers.add("stop", function(msg) return msg.Action == "Watched" and "break" or "skip" end, function() end)
  send({ Action = "Watched", From = "SOMEONE-ELSE" })
  eq(#Inbox, before + 1)
  Handlers.add("stop", function(msg) return msg.Action == "Watched" and -1 or 0 end, function() end)
  send({ Action = "Watched", From = "SOMEONE-ELSE" })
  eq(#Inbox, before + 1)
  reset()
end)

test("the default notice is aos's: colours, 3...3 sender, Action or the first 20 characters of Data", function()
  local r = send({ From = "abcdefghijklmnopqrstuvwxyz", Action = "A-Very-Long-Action-Name-Indeed" })
  eq(output(r), "\27[90mNew Message From \27[32mabc...xyz\27[90m: \27[90mAction = \27[34mA-Very-Long-Action-N\27[0m")
  r = send({ From = "abcdefghijklmnopqrstuvwxyz", Data = "0123456789012345678901234" })
  eq(plain(output(r)), "New Message From abc...xyz: Data = 01234567890123456789")
  r = send({ From = "abcdefghijklmnopqrstuvwxyz", ["Content-Type"] = "application/json", Data = '{"k":[1,2]}' })
  eq(plain(output(r)), 'New Message From abc...xyz: Data = {"k":[1,2]}')
  eq(Inbox[#Inbox].Data, { k = { 1, 2 } })
  eq(r.Output.print, true)
end)

test("the spawn message is Inbox[1]", function()
  eq(Inbox[1].Id, PID)
  eq(Inbox[1].Tags.Type, "Process")
end)

test("On-Boot = Data evaluates the spawn's Data; the output is printed", function()
  local saved = { Owner = Owner, Inbox = Inbox }
  Owner, Inbox = nil, {}
  local r = process.handle({
    Id = "CHILD", From = "PARENT", Owner = "PARENT", Target = PID, Nonce = 0,
    Data = "Booted = (Booted or 0) + 1 print('booting') return 'booted'",
    Tags = { { name = "Type", value = "Process" }, { name = "On-Boot", value = "Data" } },
    Timestamp = 1, ["Block-Height"] = 1, Module = "MODULE",
  }, ENV)
  eq(r.Error, nil)
  eq(Booted, 1)
  eq(output(r), "booting\nbooted")
  eq(r.Output.print, true)
  eq(Owner, "PARENT")
  eq(#Inbox, 1)
  -- Without On-Boot the Data is not run.
  Owner, Inbox = nil, {}
  process.handle({
    Id = "CHILD2", From = "PARENT", Owner = "PARENT", Target = PID, Nonce = 0, Data = "Booted = 99",
    Tags = { { name = "Type", value = "Process" } }, Timestamp = 1, ["Block-Height"] = 1, Module = "MODULE",
  }, ENV)
  eq(Booted, 1)
  Owner, Inbox = saved.Owner, saved.Inbox
end)

return finish()
