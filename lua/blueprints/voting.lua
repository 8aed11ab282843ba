--- Voting blueprint: one vote per address per proposal, weighted by stake when staking is loaded
--- (else one vote each); a `Get-Votes` message reads the tally.
local bint = require('.bint')(256)
local json = require('json')
local utils = require('.utils')

Votes = Votes or {}

local function weight(address)
  if Stakers and Stakers[address] then return Stakers[address].amount end
  return "1"
end

Handlers.add("voting.vote", Handlers.utils.hasMatchingTag("Action", "Vote"), function(msg)
  local proposal = msg.Proposal
  local side = msg.Side and msg.Side:lower()
  assert(type(proposal) == "string", "Proposal is required!")
  assert(side == "yay" or side == "nay", "Side must be yay or nay")
  local tally = Votes[proposal] or { yay = "0", nay = "0", voters = {} }
  assert(tally.voters[msg.From] == nil, "Already voted on " .. proposal)
  local w = weight(msg.From)
  assert(bint.__lt(0, bint(w)), "No voting weight")
  tally[side] = utils.add(tally[side], w)
  tally.voters[msg.From] = side
  Votes[proposal] = tally
  msg.reply({ Action = "Vote-Recorded", Proposal = proposal, Side = side, Data = "Voted " .. side })
end)

Handlers.add("voting.get", Handlers.utils.hasMatchingTag("Action", "Get-Votes"), function(msg)
  local tally = Votes[msg.Proposal] or { yay = "0", nay = "0" }
  msg.reply({ Action = "Votes", Proposal = msg.Proposal, Data = json.encode({ yay = tally.yay, nay = tally.nay }) })
end)

return "voting ready"
