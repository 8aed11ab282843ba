--- Staking blueprint (aos's protocol; loads on top of a token, moving amounts out of `Balances`).
--- `Stake` locks a Quantity and sets its unlock height to the stake's Block-Height + UnstakeDelay
--- (670 blocks, as aos); `Unstake` queues a release at that height; every message settles the
--- releases that are due. `Stakers` answers the stakes as JSON.
local bint = require('.bint')(256)
local json = require('json')
local utils = require('.utils')

Variant = "0.0.4"
Balances = Balances or {}
Stakers = Stakers or {}
Unstaking = Unstaking or {}
UnstakeDelay = UnstakeDelay or 670

local function height(msg)
  return tonumber(msg["Block-Height"]) or 0
end

local function amount(value)
  assert(type(value) == "string", "Quantity is required!")
  local ok, q = pcall(bint, value)
  assert(ok and bint.__lt(0, q), "Quantity must be a whole number greater than 0")
  return q
end

Handlers.stake = function(msg)
  local q = amount(msg.Tags.Quantity)
  assert(Balances[msg.From] and bint(Balances[msg.From]) >= q, "Insufficient balance to stake")
  Balances[msg.From] = utils.subtract(Balances[msg.From], msg.Tags.Quantity)
  Stakers[msg.From] = Stakers[msg.From] or { amount = "0" }
  Stakers[msg.From].amount = utils.add(Stakers[msg.From].amount, msg.Tags.Quantity)
  Stakers[msg.From].unstake_at = height(msg) + UnstakeDelay
  print("Successfully Staked " .. msg.Tags.Quantity)
  msg.reply({ Data = "Successfully Staked " .. msg.Tags.Quantity })
end

Handlers.unstake = function(msg)
  local q = amount(msg.Tags.Quantity)
  local staker = Stakers[msg.From]
  assert(staker and bint(staker.amount) >= q, "Insufficient staked amount")
  staker.amount = utils.subtract(staker.amount, msg.Tags.Quantity)
  Unstaking[msg.From] = { amount = msg.Tags.Quantity, release_at = staker.unstake_at }
  msg.reply({ Data = "Successfully unstaked " .. msg.Tags.Quantity })
end

--- Runs on every message: releases what is due, in address order.
local function finalize(msg)
  for _, address in ipairs(utils.keys(Unstaking)) do
    local request = Unstaking[address]
    if request.release_at == nil or height(msg) >= request.release_at then
      Balances[address] = utils.add(Balances[address] or "0", request.amount)
      Unstaking[address] = nil
    end
  end
end

Handlers.add("staking.balances", Handlers.utils.hasMatchingTag("Action", "Stakers"), function(msg)
  msg.reply({ Data = json.encode(Stakers) })
end)
Handlers.add("staking.stake", Handlers.utils.hasMatchingTag("Action", "Stake"), Handlers.stake)
Handlers.add("staking.unstake", Handlers.utils.hasMatchingTag("Action", "Unstake"), Handlers.unstake)
Handlers.prepend("staking.finalize", function() return "continue" end, finalize)

return "staking ready"
