-- Trust as aos: forwarded messages need an authority; assignments need an assignable.

test("Authority tags may each list several addresses, comma-separated", function()
  local saved = ao.authorities
  ao.authorities = {}
  ao.init({ Process = { Id = PID, Tags = {
    { name = "Authority", value = "A1,A2" }, { name = "Authority", value = " A3 " },
  } }, Module = { Id = "MODULE", Tags = {} } })
  eq(ao.authorities, { "A1", "A2", "A3" })
  eq(ao.isTrusted({ From = "P", Owner = "A2" }), true)
  eq(ao.isTrusted({ From = "P", Owner = "X" }), false)
  ao.authorities = saved
  ao.init(ENV)
end)

test("an untrusted message runs nothing, tells its sender and prints aos's line", function()
  local hit = false
  Handlers.add("t", "Touch", function() hit = true end)
  local r = send({ From = "P", Owner = "STRANGER", Action = "Touch" })
  eq(hit, false)
  eq(output(r), "Message is not trusted! From: P - Owner: STRANGER")
  eq(r.Messages[1].Target, "P")
  eq(r.Messages[1].Data, "Message is not trusted by this process!")
  -- Claiming to be this process: no notice to itself.
  r = send({ From = PID, Owner = "STRANGER", Action = "Touch" })
  eq(#r.Messages, 0)
  Handlers.remove("t")
end)

test("an assignment runs only if an assignable accepts it", function()
  local hits = 0
  Handlers.add("ping", "Ping", function() hits = hits + 1 end)
  eq(ao.assignables, {})
  eq(ao.isAssignment({ Target = "ELSEWHERE" }), true)
  eq(ao.isAssignment({ Target = PID }), false)
  local before = #Inbox
  local r = send({ From = "ALICE", Target = "ELSEWHERE", Action = "Ping" })
  eq(hits, 0)
  eq(#Inbox, before)
  eq(output(r), "Assignment is not trusted! From: ALICE - Owner: ALICE")
  eq(r.Messages[1].Target, "ALICE")
  eq(r.Messages[1].Data, "Assignment is not trusted by this process!")

  ao.addAssignable("pings", { Action = "Ping" })
  eq(ao.isAssignable({ Action = "Ping", Tags = {} }), true)
  send({ From = "ALICE", Target = "ELSEWHERE", Action = "Ping" })
  eq(hits, 1)
  r = send({ From = "ALICE", Target = "ELSEWHERE", Action = "Pong" })
  eq(r.Messages[1].Data, "Assignment is not trusted by this process!")

  ao.addAssignable("pings", { Action = "Never" }) -- a known name is updated in place
  eq(#ao.assignables, 1)
  send({ From = "ALICE", Target = "ELSEWHERE", Action = "Ping" })
  eq(hits, 1)
  ao.addAssignable(function(msg) return msg.From == "BOB" end)
  send({ From = "BOB", Target = "ELSEWHERE", Action = "Ping" })
  eq(hits, 2)
  ao.removeAssignable(2)
  ao.removeAssignable("pings")
  ao.removeAssignable("unknown")
  ao.removeAssignable(9)
  eq(ao.assignables, {})
  Handlers.remove("ping")
end)

test("a Transfer signed for token T1 and assigned to this token does not debit here", function()
  eval(BLUEPRINT_SOURCES.token)
  Balances.ALICE = "100"
  local r = send({ From = "ALICE", Target = "TOKEN-T1", Action = "Transfer", Recipient = "BOB", Quantity = "60" })
  eq(Balances.ALICE, "100")
  eq(Balances.BOB, nil)
  eq(#sent(r, "Debit-Notice"), 0)
  eq(r.Messages[1].Data, "Assignment is not trusted by this process!")
  -- Sent to this token itself, it does.
  send({ From = "ALICE", Action = "Transfer", Recipient = "BOB", Quantity = "60" })
  eq(Balances.ALICE, "40")
end)

return finish()
