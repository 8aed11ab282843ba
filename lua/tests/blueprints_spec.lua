local json = require('json')

test("chatroom: register, broadcast to members, unregister", function()
  eq(output(eval(BLUEPRINT_SOURCES.chatroom)), "chatroom ready")
  send({ Action = "Register", From = "ALICE" })
  send({ Action = "Register", From = "BOB" })
  send({ Action = "Register", From = "BOB" })
  eq(Members, { "ALICE", "BOB" })
  local r = send({ Action = "Broadcast", From = "ALICE", Data = "hello all" })
  local targets = {}
  for _, m in ipairs(r.Messages) do
    if tag(m, "Action") == "Broadcasted" then
      targets[#targets + 1] = m.Target
      eq(m.Data, "hello all")
      eq(tag(m, "Broadcaster"), "ALICE")
    end
  end
  eq(targets, { "ALICE", "BOB" })
  send({ Action = "Unregister", From = "ALICE" })
  eq(Members, { "BOB" })
end)

test("token + staking + voting: stake, vote by stake, unstake after the delay", function()
  eval(BLUEPRINT_SOURCES.token)
  eval(BLUEPRINT_SOURCES.staking)
  eval(BLUEPRINT_SOURCES.voting)
  Balances.ALICE = "100"
  UnstakeDelay = 5
  local r = send({ Action = "Stake", From = "ALICE", Quantity = "60" })
  eq(r.Error, nil)
  eq(Balances.ALICE, "40")
  eq(Stakers.ALICE.amount, "60")
  r = send({ Action = "Stake", From = "ALICE", Quantity = "1000" })
  assert(r.Error and r.Error:find("Insufficient"))
  r = send({ Action = "Vote", From = "ALICE", Proposal = "p1", Side = "yay" })
  eq(r.Error, nil)
  r = send({ Action = "Vote", From = "ALICE", Proposal = "p1", Side = "nay" })
  assert(r.Error and r.Error:find("Already voted"))
  r = send({ Action = "Get-Votes", From = "BOB", Proposal = "p1" })
  eq(json.decode(r.Messages[1].Data), { yay = "60", nay = "0" })
  send({ Action = "Unstake", From = "ALICE", Quantity = "60", ["Block-Height"] = 10 })
  send({ Action = "Finalize", From = "ALICE", ["Block-Height"] = 12 })
  eq(Balances.ALICE, "40")
  send({ Action = "Finalize", From = "ALICE", ["Block-Height"] = 15 })
  eq(Balances.ALICE, "100")
end)

return finish()
