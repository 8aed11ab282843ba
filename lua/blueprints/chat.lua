--- Chat client blueprint (aos's DevChat client, offline): `Join(room[, nickname])`,
--- `Say(text[, room])`, `Leave(room)`, `Tip([recipient, room, quantity])`, `Replay([depth, room])`
--- and `List()` (asks `DevChat.Router`, when one is set). Rooms are chatroom processes; what they
--- broadcast prints as `[nick@room]> text`. Unlike aos's, loading it joins no mainnet room.
DevChat = DevChat or {}
DevChat.Rooms = DevChat.Rooms or {}
DevChat.LastReceive = DevChat.LastReceive or { Room = nil, Sender = nil }
if DevChat.Confirmations == nil then DevChat.Confirmations = true end

function DevChat.findRoom(name)
  for _, address in ipairs(Utils.keys(DevChat.Rooms)) do
    if DevChat.Rooms[address] == name then return address end
  end
  return nil
end

function List()
  if not DevChat.Router then return "No DevChat.Router set: set it to a room index process first." end
  ao.send({ Target = DevChat.Router, Action = "Get-List" })
  return Colors.gray .. "Getting the room list from the DevChat index..." .. Colors.reset
end

function Join(room, nickname)
  local address = DevChat.findRoom(room) or room
  DevChat.Rooms[address] = DevChat.Rooms[address] or room
  DevChat.LastSend = address
  ao.send({ Target = address, Action = "Register", Nickname = nickname or Name })
  return Colors.gray .. "Registering with room " .. Colors.blue .. room .. Colors.gray .. "..." .. Colors.reset
end

function Say(text, room)
  if room then DevChat.LastSend = DevChat.findRoom(room) or room end
  assert(DevChat.LastSend, "Join a room first")
  local name = DevChat.Rooms[DevChat.LastSend] or DevChat.LastSend
  ao.send({ Target = DevChat.LastSend, Action = "Broadcast", Data = text })
  if not DevChat.Confirmations then return "" end
  return Colors.gray .. "Broadcasting to " .. Colors.blue .. name .. Colors.gray .. "..." .. Colors.reset
end

function Tip(recipient, room, quantity)
  room = room or DevChat.LastReceive.Room
  recipient = recipient or DevChat.LastReceive.Sender
  quantity = tostring(quantity or 1)
  ao.send({ Target = room, Action = "Transfer", Recipient = recipient, Quantity = quantity })
  return Colors.gray .. "Sent tip of " .. Colors.green .. quantity .. Colors.gray .. " to " .. Colors.red
    .. tostring(recipient) .. Colors.gray .. " in room " .. Colors.blue .. tostring(DevChat.Rooms[room] or room)
    .. Colors.gray .. "." .. Colors.reset
end

function Replay(depth, room)
  room = room and (DevChat.findRoom(room) or room) or DevChat.LastReceive.Room
  depth = depth or 3
  ao.send({ Target = room, Action = "Replay", Depth = tostring(depth) })
  return Colors.gray .. "Requested replay of the last " .. Colors.green .. depth .. Colors.gray
    .. " messages from " .. Colors.blue .. tostring(DevChat.Rooms[room] or room) .. Colors.reset .. "."
end

function Leave(room)
  local address = DevChat.findRoom(room) or room
  ao.send({ Target = address, Action = "Unregister" })
  return Colors.gray .. "Leaving room " .. Colors.blue .. room .. Colors.gray .. "..." .. Colors.reset
end

local function show(msg, sender, nickname)
  local room = DevChat.Rooms[msg.From] or msg.From:sub(1, 6)
  if sender == ao.id then
    if DevChat.Confirmations then
      print(Colors.gray .. "[Received confirmation of your broadcast in " .. Colors.blue .. room .. Colors.gray
        .. ".]" .. Colors.reset)
    end
    return
  end
  local nick = tostring(nickname or sender or "?"):sub(1, 10)
  if sender and nickname and sender ~= nickname then nick = nick .. Colors.gray .. "#" .. sender:sub(1, 3) end
  print("[" .. Colors.red .. nick .. Colors.reset .. "@" .. Colors.blue .. room .. Colors.reset .. "]> "
    .. Colors.green .. tostring(msg.Data) .. Colors.reset)
  DevChat.LastReceive.Room = msg.From
  DevChat.LastReceive.Sender = sender
end

-- DevChat rooms send `Broadcasted` (with Broadcaster and Nickname); the chatroom blueprint sends
-- `Broadcast-Notice`.
Handlers.add("DevChat-Broadcasted", Handlers.utils.hasMatchingTag("Action", "Broadcasted"), function(msg)
  show(msg, msg.Broadcaster, msg.Nickname)
end)
Handlers.add("DevChat-Broadcast-Notice", function(msg)
  return msg.Action == "Broadcast-Notice" and DevChat.Rooms[msg.From] ~= nil
end, function(msg)
  show(msg, msg.Broadcaster, msg.Nickname)
end)

Handlers.add("DevChat-List", function(msg)
  return msg.Action == "Room-List" and msg.From == DevChat.Router
end, function(msg)
  local rows = {}
  for _, tag in ipairs(msg.TagArray) do
    local name = tag.name:match("^Room%-(.+)$")
    if name then
      rows[#rows + 1] = Colors.blue .. "        " .. name .. Colors.reset
      DevChat.Rooms[tag.value] = name
    end
  end
  print("The following rooms are currently available on DevChat:\n\n" .. table.concat(rows, "\n")
    .. "\n\nJoin a chat by running `Join(\"chatName\"[, \"yourNickname\"])`! You can leave chats with `Leave(\"name\")`.")
end)

return "chat client ready: Join(room), Say(text), Leave(room)"
