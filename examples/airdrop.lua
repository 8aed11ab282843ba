--- A batch script: hand out tokens from a process running the token blueprint.
---   aos treasury --blueprint token < examples/airdrop.lua
--- The whole file is one Eval; batch mode waits until every Transfer it sent has been delivered.
--- Expect three lines on stderr, one per recipient: "aos: not delivered to airdrop-recipient-N-…:
--- no valid Target". The token's Credit-Notice goes to each recipient, and these made-up names
--- are not processes; the balances are credited all the same.
local recipients = {
  ["airdrop-recipient-1-xxxxxxxxxxxxxxxxxxxxxxx"] = "100",
  ["airdrop-recipient-2-xxxxxxxxxxxxxxxxxxxxxxx"] = "250",
  ["airdrop-recipient-3-xxxxxxxxxxxxxxxxxxxxxxx"] = "5",
}

-- Sorted, so the messages go out in the same order on every run (pairs has no fixed order).
local names = {}
for name in pairs(recipients) do table.insert(names, name) end
table.sort(names)

local sent = 0
for _, name in ipairs(names) do
  Send({ Target = ao.id, Action = "Transfer", Recipient = name, Quantity = recipients[name] })
  sent = sent + 1
end
return "queued " .. sent .. " transfers"
