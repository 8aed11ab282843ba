test("a handler that awaits a reply suspends and resumes when it arrives", function()
  local got
  Handlers.add("ask", "Ask", function(msg)
    local reply = Send({ Target = "ORACLE", Action = "Question" }).receive()
    got = reply.Data
    msg.reply({ Data = "answered: " .. reply.Data })
  end)
  local r = send({ Action = "Ask", From = "USER" })
  eq(r.Error, nil)
  eq(#r.Messages, 1)
  local ref = tag(r.Messages[1], "Reference")
  eq(got, nil)
  -- An unrelated message does not wake it.
  send({ From = "ORACLE", Owner = "ORACLE", Action = "Other" })
  eq(got, nil)
  local r2 = send({ From = "ORACLE", Owner = "ORACLE", ["X-Reference"] = ref, Data = "42" })
  eq(got, "42")
  eq(#r2.Messages, 1)
  eq(r2.Messages[1].Target, "USER")
  eq(r2.Messages[1].Data, "answered: 42")
end)

test("Receive with a pattern waits for the first match", function()
  local seen = {}
  Handlers.add("waiter", "Wait", function()
    local m = Receive({ Action = "Go", Step = "2" })
    seen[#seen + 1] = m.Step
  end)
  send({ Action = "Wait" })
  send({ Action = "Go", Step = "1", From = "X" })
  send({ Action = "Go", Step = "2", From = "X" })
  eq(seen, { "2" })
end)

return finish()
