--- Arena blueprint (aos's game framework): rounds in which players try to eliminate one another.
--- Modes loop Not-Started → Waiting (WaitTime) → Playing (GameTime) → Waiting …; every message
--- (a cron tick, typically) advances the clock from its Timestamp. A player registers, pays
--- PaymentQty of PaymentToken (its Credit-Notice marks it ready), and is in the next round;
--- `eliminatePlayer(eliminated, eliminator)` pays the eliminator the deposit; the survivors
--- share BonusQty. Listeners (Register with Mode = Listen) get every Announcement.
--- Unlike aos's, every walk over players is in sorted order, so announcements are deterministic.
local json = require('json')

GameMode = GameMode or "Not-Started"
StateChangeTime = StateChangeTime or nil
WaitTime = WaitTime or 2 * 60 * 1000
GameTime = GameTime or 20 * 60 * 1000
Now = Now or nil
UNIT = 1000
PaymentToken = PaymentToken or "ADDR"
PaymentQty = PaymentQty or tostring(math.floor(UNIT))
BonusQty = BonusQty or tostring(math.floor(UNIT))
Waiting = Waiting or {}
Players = Players or {}
Winners = 0
Listeners = Listeners or {}
MinimumPlayers = MinimumPlayers or 2
PlayerInitState = PlayerInitState or function() return {} end

local function sorted(t) return Utils.keys(t) end

function announce(event, description)
  for _, address in ipairs(Listeners) do
    ao.send({ Target = address, Action = "Announcement", Event = event, Data = description })
  end
  print(Colors.gray .. "Announcement: " .. Colors.red .. event .. " " .. Colors.blue .. description .. Colors.reset)
end

function sendReward(recipient, qty, reason)
  qty = math.tointeger(tonumber(qty)) or tonumber(qty)
  ao.send({ Target = PaymentToken, Action = "Transfer", Quantity = tostring(qty), Recipient = recipient, Reason = reason })
  print(Colors.gray .. "Sent Reward: " .. Colors.blue .. tostring(qty) .. Colors.gray .. " tokens to "
    .. Colors.green .. recipient .. " " .. Colors.blue .. reason .. Colors.reset)
end

function removeListener(listener)
  for i, v in ipairs(Listeners) do
    if v == listener then
      table.remove(Listeners, i)
      return
    end
  end
end

function startWaitingPeriod()
  GameMode = "Waiting"
  StateChangeTime = Now + WaitTime
  announce("Started-Waiting-Period", "The game is about to begin! Send your token to take part.")
end

function startGamePeriod()
  local paid = 0
  for _, player in ipairs(sorted(Waiting)) do
    if Waiting[player] then paid = paid + 1 end
  end
  if paid < MinimumPlayers then
    announce("Not-Enough-Players", "Not enough players registered! Restarting...")
    for _, player in ipairs(sorted(Waiting)) do
      if Waiting[player] then
        Waiting[player] = false
        sendReward(player, PaymentQty, "Refund")
      end
    end
    startWaitingPeriod()
    return
  end
  GameMode = "Playing"
  StateChangeTime = Now + GameTime
  for _, player in ipairs(sorted(Waiting)) do
    if Waiting[player] then
      Players[player] = PlayerInitState()
    else
      ao.send({ Target = player, Action = "Ejected", Reason = "Did-Not-Pay" })
      removeListener(player)
    end
  end
  announce("Started-Game", "The game has started. Good luck!")
end

function eliminatePlayer(eliminated, eliminator)
  sendReward(eliminator, PaymentQty, "Eliminated-Player")
  Waiting[eliminated] = false
  Players[eliminated] = nil
  ao.send({ Target = eliminated, Action = "Eliminated", Eliminator = eliminator })
  announce("Player-Eliminated", eliminated .. " was eliminated by " .. eliminator .. "!")
  if #sorted(Players) < MinimumPlayers then endGame() end
end

function endGame()
  local survivors = sorted(Players)
  Winners = #survivors
  local winnings = Winners > 0 and tonumber(BonusQty) / Winners or 0
  for _, player in ipairs(survivors) do
    sendReward(player, winnings + tonumber(PaymentQty), "Win")
    Waiting[player] = false
  end
  Players = {}
  announce("Game-Ended", "Congratulations! The game has ended. Remaining players at conclusion: " .. Winners .. ".")
  startWaitingPeriod()
end

Handlers.add("Game-State-Timers", function() return "continue" end, function(msg)
  Now = msg.Timestamp
  if GameMode == "Not-Started" then
    startWaitingPeriod()
  elseif GameMode == "Waiting" then
    if Now > StateChangeTime then startGamePeriod() end
  elseif GameMode == "Playing" then
    if type(onTick) == "function" then onTick() end
    if Now > StateChangeTime then endGame() end
  end
end)

Handlers.add("Transfer", function(msg)
  return msg.Action == "Credit-Notice" and msg.From == PaymentToken
    and (tonumber(msg.Quantity) or 0) >= tonumber(PaymentQty) and "continue"
end, function(msg)
  Waiting[msg.Sender] = true
  ao.send({ Target = msg.Sender, Action = "Payment-Received" })
  announce("Player-Ready", msg.Sender .. " is ready to play!")
end)

Handlers.add("Register", Handlers.utils.hasMatchingTag("Action", "Register"), function(msg)
  if msg.Mode ~= "Listen" and Waiting[msg.From] == nil then Waiting[msg.From] = false end
  removeListener(msg.From)
  table.insert(Listeners, msg.From)
  ao.send({ Target = msg.From, Action = "Registered" })
  announce("New Player Registered", msg.From .. " has joined in waiting.")
end)

Handlers.add("Unregister", Handlers.utils.hasMatchingTag("Action", "Unregister"), function(msg)
  removeListener(msg.From)
  ao.send({ Target = msg.From, Action = "Unregistered" })
end)

Handlers.add("AddBet", Handlers.utils.hasMatchingTag("Reason", "AddBet"), function(msg)
  BonusQty = tostring(tonumber(BonusQty) + tonumber(msg.Tags.Quantity))
  announce("Bet-Added", msg.From .. "has placed a bet. BonusQty amount increased by " .. msg.Tags.Quantity .. "!")
end)

Handlers.add("GetGameState", Handlers.utils.hasMatchingTag("Action", "GetGameState"), function(msg)
  ao.send({ Target = msg.From, Action = "GameState", Data = json.encode({
    GameMode = GameMode, TimeRemaining = StateChangeTime - Now, Players = Players,
  }) })
end)

Handlers.add("AnnounceTick", Handlers.utils.hasMatchingTag("Action", "Tick"), function()
  local remaining = StateChangeTime - Now
  if GameMode == "Waiting" then
    announce("Tick", "The game will start in " .. (remaining / 1000) .. " seconds.")
  elseif GameMode == "Playing" then
    announce("Tick", "The game will end in " .. (remaining / 1000) .. " seconds.")
  end
end)

Handlers.add("RequestTokens", Handlers.utils.hasMatchingTag("Action", "RequestTokens"), function(msg)
  print("Transfering Tokens: " .. tostring(math.floor(10000 * UNIT)))
  ao.send({ Target = ao.id, Action = "Transfer", Quantity = tostring(math.floor(10000 * UNIT)), Recipient = msg.From })
end)

return "arena ready"
