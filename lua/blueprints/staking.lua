--- Staking blueprint (loads on top of a token: it moves amounts out of `Balances`). A stake
--- unlocks `Delay` messages' worth of block height after an unstake request; a Cron tick or a
--- Finalize message settles what is due.
local bint = require('.bint')(256)
local utils = require('.utils')

Balances = Balances or {}
Stakers = Stakers or {}
Unstaking = Unstaking or {}
UnstakeDelay = UnstakeDelay or 1000

local function height(msg)
  return tonumber(msg["Block-Height"]) or 0
end

Handlers.add("staking.stake", Handlers.utils.hasMatchingTag("Action", "Stake"), function(msg)
  assert(type(msg.Quantity) == "string", "Quantity is required!")
  local q = bint(msg.Quantity)
  assert(bint.__lt(0, q), "Quantity must be greater than 0")
  assert(q <= bint(Balances[msg.From] or "0"), "Insufficient balance to stake")
  Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Quantity)
  local staker = Stakers[msg.From] or { amount = "0" }
  staker.amount = utils.add(staker.amount, msg.Quantity)
  Stakers[msg.From] = staker
  msg.reply({ Action = "Staked", Quantity = msg.Quantity, Data = "Staked " .. msg.Quantity })
end)

Handlers.add("staking.unstake", Handlers.utils.hasMatchingTag("Action", "Unstake"), function(msg)
  assert(type(msg.Quantity) == "string", "Quantity is required!")
  local staker = Stakers[msg.From]
  assert(staker and bint(msg.Quantity) <= bint(staker.amount), "Insufficient staked amount")
  staker.amount = utils.subtract(staker.amount, msg.Quantity)
  table.insert(Unstaking, { address = msg.From, amount = msg.Quantity, release = height(msg) + UnstakeDelay })
  msg.reply({ Action = "Unstake-Requested", Quantity = msg.Quantity, Data = "Unstaking " .. msg.Quantity })
end)

local function finalize(msg)
  local pending = {}
  for _, request in ipairs(Unstaking) do
    if request.release <= height(msg) then
      Balances[request.address] = utils.add(Balances[request.address] or "0", request.amount)
    else
      pending[#pending + 1] = request
    end
  end
  Unstaking = pending
end

Handlers.add("staking.finalize", function(msg)
  return msg.Action == "Finalize" or msg.Cron and "continue" or false
end, finalize)

return "staking ready"
