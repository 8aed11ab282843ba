--- Voting blueprint (aos's protocol; loads on top of staking): `Vote{Target, Side, Deadline}`
--- adds the voter's stake to `Votes[Target][Side]` (yay or nay), the vote closing `Deadline`
--- blocks after this message's Block-Height; every message closes the votes that are due,
--- printing `Handle Vote` for those the yays won.
local bint = require('.bint')(256)
local utils = require('.utils')

Balances = Balances or {}
Stakers = Stakers or {}
Votes = Votes or {}

local function height(msg)
  return tonumber(msg["Block-Height"]) or 0
end

Handlers.vote = function(msg)
  local staker = Stakers[msg.From]
  local weight = staker and staker.amount or "0"
  local target, side = msg.Tags.Target, msg.Tags.Side
  assert(type(target) == "string", "Target is required!")
  assert(side == "yay" or side == "nay", "Side must be yay or nay")
  local deadline = height(msg) + (tonumber(msg.Tags.Deadline) or 0)
  assert(bint.__lt(0, bint(weight)), "No staked tokens to vote")
  Votes[target] = Votes[target] or { yay = "0", nay = "0", deadline = deadline }
  Votes[target][side] = utils.add(Votes[target][side], weight)
end

local function finalize(msg)
  for _, target in ipairs(utils.keys(Votes)) do
    local vote = Votes[target]
    if height(msg) >= vote.deadline then
      if bint(vote.yay) > bint(vote.nay) then print("Handle Vote") end
      Votes[target] = nil
    end
  end
end

Handlers.add("vote", Handlers.utils.continue(Handlers.utils.hasMatchingTag("Action", "Vote")), Handlers.vote)
Handlers.add("finalize", function() return "continue" end, finalize)

return "voting ready"
