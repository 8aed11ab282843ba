--- Token blueprint: a fungible token speaking the ao Standard Token protocol as aos's token
--- blueprint does (Info, Balance, Balances, Transfer, Mint, Total-Supply, Burn; Debit-Notice and
--- Credit-Notice; Transfer-Error and Mint-Error). A fresh token holds its whole supply itself:
--- 10000 × 10^Denomination units. Loading it again keeps the balances.
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

-- Plain digits short enough for utils' native sums: compared through them, without parsing
-- two bints per transfer (most of a Transfer's own work). Anything else takes bint's way.
local function plain(value)
  return type(value) == "string" and #value <= 38 and value:find("^%d+$") ~= nil
end

--- A positive whole number of units, as a string; anything else is an error. Plain digits
--- answer nil (`covers` compares them without bint), anything else the bint.
local function quantity(value)
  assert(type(value) == "string", "Quantity is required!")
  if plain(value) then
    assert(value:find("[1-9]") ~= nil, "Quantity must be greater than 0")
    return nil
  end
  local ok, q = pcall(bint, value)
  assert(ok, "Quantity must be a whole number: " .. tostring(value))
  assert(bint.__lt(0, q), "Quantity must be greater than 0")
  return q
end

--- Whether `balance` holds `value` units (`q`: what `quantity(value)` answered).
local function covers(balance, value, q)
  if q == nil and plain(balance) then return utils.subtract(balance, value):sub(1, 1) ~= "-" end
  return (q or bint(value)) <= bint(balance)
end

Handlers.add("info", Handlers.utils.hasMatchingTag("Action", "Info"), function(msg)
  msg.reply({ Name = Name, Ticker = Ticker, Logo = Logo, Denomination = tostring(Denomination) })
end)

Handlers.add("balance", Handlers.utils.hasMatchingTag("Action", "Balance"), function(msg)
  local balance = "0"
  if msg.Tags.Recipient then
    balance = Balances[msg.Tags.Recipient] or "0"
  elseif msg.Tags.Target and Balances[msg.Tags.Target] then
    balance = Balances[msg.Tags.Target]
  elseif Balances[msg.From] then
    balance = Balances[msg.From]
  end
  msg.reply({ Balance = balance, Ticker = Ticker, Account = msg.Tags.Recipient or msg.From, Data = balance })
end)

Handlers.add("balances", Handlers.utils.hasMatchingTag("Action", "Balances"), function(msg)
  msg.reply({ Data = json.encode(Balances) })
end)

Handlers.add("transfer", Handlers.utils.hasMatchingTag("Action", "Transfer"), function(msg)
  assert(type(msg.Recipient) == "string", "Recipient is required!")
  local q = quantity(msg.Quantity)
  Balances[msg.From] = Balances[msg.From] or "0"
  Balances[msg.Recipient] = Balances[msg.Recipient] or "0"
  if covers(Balances[msg.From], msg.Quantity, q) then
    Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Quantity)
    Balances[msg.Recipient] = utils.add(Balances[msg.Recipient], msg.Quantity)
    if not msg.Cast then
      local debit = {
        Action = "Debit-Notice",
        Recipient = msg.Recipient,
        Quantity = msg.Quantity,
        Data = Colors.gray .. "You transferred " .. Colors.blue .. msg.Quantity .. Colors.gray .. " to "
          .. Colors.green .. msg.Recipient .. Colors.reset,
      }
      local credit = {
        Target = msg.Recipient,
        Action = "Credit-Notice",
        Sender = msg.From,
        Quantity = msg.Quantity,
        Data = Colors.gray .. "You received " .. Colors.blue .. msg.Quantity .. Colors.gray .. " from "
          .. Colors.green .. msg.From .. Colors.reset,
      }
      -- Forwarded tags (X-*) travel with both notices.
      for _, name in ipairs(utils.keys(msg.Tags)) do
        if name:sub(1, 2) == "X-" then
          debit[name] = msg.Tags[name]
          credit[name] = msg.Tags[name]
        end
      end
      msg.reply(debit)
      Send(credit)
    end
  else
    msg.reply({ Action = "Transfer-Error", ["Message-Id"] = msg.Id, Error = "Insufficient Balance!" })
  end
end)

Handlers.add("mint", Handlers.utils.hasMatchingTag("Action", "Mint"), function(msg)
  quantity(msg.Quantity)
  Balances[ao.id] = Balances[ao.id] or "0"
  if msg.From == ao.id then
    Balances[msg.From] = utils.add(Balances[msg.From], msg.Quantity)
    TotalSupply = utils.add(TotalSupply, msg.Quantity)
    msg.reply({ Data = Colors.gray .. "Successfully minted " .. Colors.blue .. msg.Quantity .. Colors.reset })
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
  local q = quantity(msg.Tags.Quantity)
  assert(covers(Balances[msg.From] or "0", msg.Tags.Quantity, q),
    "Quantity must be less than or equal to the current balance!")
  Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Tags.Quantity)
  TotalSupply = utils.subtract(TotalSupply, msg.Tags.Quantity)
  msg.reply({ Data = Colors.gray .. "Successfully burned " .. Colors.blue .. msg.Tags.Quantity .. Colors.reset })
end)

return "token ready: " .. Ticker
