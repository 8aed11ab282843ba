--- Token blueprint: a fungible token with AO's token-standard actions and replies.
--- A fresh token holds its whole supply itself: 10000 × 10^Denomination units.
local bint = require('.bint')(256)
local json = require('json')
local utils = require('.utils')

Variant = "0.0.3"
Denomination = Denomination or 12
Balances = Balances or { [ao.id] = tostring(bint(10000) * bint.ipow(10, Denomination)) }
TotalSupply = TotalSupply or tostring(bint(10000) * bint.ipow(10, Denomination))
Name = Name or "Points Coin"
Ticker = Ticker or "PNTS"
Logo = Logo or "SBCCXwwecBlDqRLUjb8dYABExTJXLieawf7m2aBJ-KY"

--- A positive whole number of units, as a string; anything else is an error.
local function quantity(msg)
  assert(type(msg.Quantity) == "string", "Quantity is required!")
  local ok, q = pcall(bint, msg.Quantity)
  assert(ok, "Quantity must be a whole number: " .. tostring(msg.Quantity))
  assert(bint.__lt(0, q), "Quantity must be greater than 0")
  return q
end

Handlers.add("info", Handlers.utils.hasMatchingTag("Action", "Info"), function(msg)
  msg.reply({ Name = Name, Ticker = Ticker, Logo = Logo, Denomination = tostring(Denomination) })
end)

Handlers.add("balance", Handlers.utils.hasMatchingTag("Action", "Balance"), function(msg)
  local account = msg.Tags.Recipient or msg.Tags.Target or msg.From
  local balance = Balances[account] or "0"
  msg.reply({ Balance = balance, Ticker = Ticker, Account = account, Data = balance })
end)

Handlers.add("balances", Handlers.utils.hasMatchingTag("Action", "Balances"), function(msg)
  msg.reply({ Data = json.encode(Balances) })
end)

Handlers.add("transfer", Handlers.utils.hasMatchingTag("Action", "Transfer"), function(msg)
  assert(type(msg.Recipient) == "string", "Recipient is required!")
  local q = quantity(msg)
  Balances[msg.From] = Balances[msg.From] or "0"
  Balances[msg.Recipient] = Balances[msg.Recipient] or "0"
  if q <= bint(Balances[msg.From]) then
    Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Quantity)
    Balances[msg.Recipient] = utils.add(Balances[msg.Recipient], msg.Quantity)
    if not msg.Cast then
      local debit = {
        Action = "Debit-Notice",
        Recipient = msg.Recipient,
        Quantity = msg.Quantity,
        Data = "You transferred " .. msg.Quantity .. " to " .. msg.Recipient,
      }
      local credit = {
        Target = msg.Recipient,
        Action = "Credit-Notice",
        Sender = msg.From,
        Quantity = msg.Quantity,
        Data = "You received " .. msg.Quantity .. " from " .. msg.From,
      }
      -- Forwarded tags (X-*) travel with both notices.
      for name, value in pairs(msg.Tags) do
        if name:match("^X%-") then
          debit[name] = value
          credit[name] = value
        end
      end
      msg.reply(debit)
      Send(credit)
    end
  else
    msg.reply({
      Action = "Transfer-Error",
      ["Message-Id"] = msg.Id,
      Error = "Insufficient Balance!",
    })
  end
end)

Handlers.add("mint", Handlers.utils.hasMatchingTag("Action", "Mint"), function(msg)
  local q = quantity(msg)
  if msg.From == ao.id or msg.From == Owner then
    Balances[msg.From] = utils.add(Balances[msg.From] or "0", msg.Quantity)
    TotalSupply = utils.add(TotalSupply, msg.Quantity)
    msg.reply({ Data = "Successfully minted " .. tostring(q) })
  else
    msg.reply({
      Action = "Mint-Error",
      ["Message-Id"] = msg.Id,
      Error = "Only the Process Id can mint new " .. Ticker .. " tokens!",
    })
  end
end)

Handlers.add("totalSupply", Handlers.utils.hasMatchingTag("Action", "Total-Supply"), function(msg)
  assert(msg.From ~= ao.id, "Cannot call Total-Supply from the same process!")
  msg.reply({ Action = "Total-Supply", Data = TotalSupply, Ticker = Ticker })
end)

Handlers.add("burn", Handlers.utils.hasMatchingTag("Action", "Burn"), function(msg)
  local q = quantity(msg)
  assert(q <= bint(Balances[msg.From] or "0"), "Quantity must be less than or equal to the current balance!")
  Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Quantity)
  TotalSupply = utils.subtract(TotalSupply, msg.Quantity)
  msg.reply({ Data = "Successfully burned " .. msg.Quantity })
end)

return "token ready: " .. Ticker
