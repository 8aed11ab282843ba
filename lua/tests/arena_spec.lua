local json = require('json')

local T0 = 1800000000000
eq(output(eval(BLUEPRINT_SOURCES.arena)), "arena ready")
PaymentToken = "TOKEN"

test("arena: register, pay, play a round, eliminate, and the survivor wins the bonus", function()
  local r = send({ From = "P1", Action = "Register", Timestamp = T0 })
  eq(GameMode, "Waiting")
  eq(sent(r, "Registered")[1].Target, "P1")
  send({ From = "P2", Action = "Register", Timestamp = T0 + 1 })
  send({ From = "WATCHER", Action = "Register", Mode = "Listen", Timestamp = T0 + 2 })
  eq(Listeners, { "P1", "P2", "WATCHER" })
  eq(Waiting, { P1 = false, P2 = false })
  r = send({ From = "TOKEN", Action = "Credit-Notice", Sender = "P1", Quantity = "1000", Timestamp = T0 + 3 })
  eq(Waiting.P1, true)
  eq(sent(r, "Payment-Received")[1].Target, "P1")
  send({ From = "TOKEN", Action = "Credit-Notice", Sender = "P2", Quantity = "1000", Timestamp = T0 + 4 })
  -- After the wait, the next message starts the game; everyone listening hears of it.
  r = send({ From = "ANY", Action = "Tick", Timestamp = T0 + WaitTime + 1 })
  eq(GameMode, "Playing")
  eq(Players, { P1 = {}, P2 = {} })
  local events = {}
  for _, m in ipairs(sent(r, "Announcement")) do events[#events + 1] = tag(m, "Event") .. ">" .. m.Target end
  eq(events[1], "Started-Game>P1")
  r = send({ From = "P1", Action = "GetGameState", Timestamp = T0 + WaitTime + 2 })
  eq(json.decode(sent(r, "GameState")[1].Data).GameMode, "Playing")
  r = eval('eliminatePlayer("P2", "P1")')
  local rewards = {}
  for _, m in ipairs(sent(r, "Transfer")) do rewards[#rewards + 1] = tag(m, "Recipient") .. ":" .. tag(m, "Quantity") .. ":" .. tag(m, "Reason") end
  eq(rewards, { "P1:1000:Eliminated-Player", "P1:2000:Win" })
  eq(GameMode, "Waiting")
  eq(Players, {})
end)

return finish()
