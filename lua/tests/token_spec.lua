local json = require('json')
eq(output(eval(BLUEPRINT_SOURCES.token)), "token ready: PNTS")

local function replies(r, action)
  local out = {}
  for _, m in ipairs(r.Messages) do
    if action == nil or tag(m, "Action") == action then out[#out + 1] = m end
  end
  return out
end

test("a fresh token holds its whole supply", function()
  eq(Balances[ao.id], "10000000000000000")
  eq(TotalSupply, "10000000000000000")
end)

test("Info and Balance reply with the token standard's tags", function()
  local r = send({ Action = "Info", From = "ALICE" })
  eq(tag(r.Messages[1], "Ticker"), "PNTS")
  eq(tag(r.Messages[1], "Denomination"), "12")
  r = send({ Action = "Balance", From = "ALICE", Recipient = ao.id })
  eq(tag(r.Messages[1], "Balance"), "10000000000000000")
  eq(r.Messages[1].Data, "10000000000000000")
  r = send({ Action = "Balance", From = "NOBODY" })
  eq(tag(r.Messages[1], "Balance"), "0")
end)

test("Mint by the owner; others get Mint-Error", function()
  local r = send({ Action = "Mint", Quantity = "1000000000000000000000000000000" })
  eq(r.Error, nil)
  eq(Balances[OWNER], "1000000000000000000000000000000")
  r = send({ Action = "Mint", From = "ALICE", Quantity = "5" })
  eq(tag(replies(r, "Mint-Error")[1], "Error"), "Only the Process Id can mint new PNTS tokens!")
end)

test("Transfer of 10^30 is exact and sends Debit-Notice and Credit-Notice", function()
  local r = send({ Action = "Transfer", Recipient = "BOB", Quantity = "1000000000000000000000000000000", ["X-Memo"] = "m" })
  eq(r.Error, nil)
  eq(Balances[OWNER], "0")
  eq(Balances.BOB, "1000000000000000000000000000000")
  local debit = replies(r, "Debit-Notice")[1]
  local credit = replies(r, "Credit-Notice")[1]
  eq(debit.Target, OWNER)
  eq(tag(debit, "Recipient"), "BOB")
  eq(credit.Target, "BOB")
  eq(tag(credit, "Sender"), OWNER)
  eq(tag(credit, "Quantity"), "1000000000000000000000000000000")
  eq(tag(credit, "X-Memo"), "m")
end)

test("transferring more than the balance answers Transfer-Error and changes nothing", function()
  local r = send({ Action = "Transfer", From = "BOB", Recipient = "CAROL", Quantity = "1000000000000000000000000000001" })
  local e = replies(r, "Transfer-Error")[1]
  eq(tag(e, "Error"), "Insufficient Balance!")
  eq(Balances.BOB, "1000000000000000000000000000000")
end)

test("a missing Recipient or a non-numeric Quantity is an Error", function()
  local r = send({ Action = "Transfer", From = "BOB", Quantity = "5" })
  assert(r.Error and r.Error:find("Recipient is required"), tostring(r.Error))
  r = send({ Action = "Transfer", From = "BOB", Recipient = "CAROL", Quantity = "five" })
  assert(r.Error and r.Error:find("whole number"), tostring(r.Error))
  r = send({ Action = "Transfer", From = "BOB", Recipient = "CAROL", Quantity = "-5" })
  assert(r.Error and r.Error:find("greater than 0"), tostring(r.Error))
end)

test("Balances, Total-Supply and Burn", function()
  local r = send({ Action = "Balances", From = "ALICE" })
  eq(json.decode(r.Messages[1].Data).BOB, "1000000000000000000000000000000")
  r = send({ Action = "Total-Supply", From = "ALICE" })
  eq(r.Messages[1].Data, "1000000000000010000000000000000")
  r = send({ Action = "Burn", From = "BOB", Quantity = "1000000000000000000000000000000" })
  eq(r.Error, nil)
  eq(Balances.BOB, "0")
  eq(TotalSupply, "10000000000000000")
  r = send({ Action = "Burn", From = "BOB", Quantity = "1" })
  assert(r.Error)
end)

test("loading the blueprint again keeps the balances", function()
  eval(BLUEPRINT_SOURCES.token)
  eq(Balances[ao.id], "10000000000000000")
end)

return finish()
