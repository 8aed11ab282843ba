--- Chatroom blueprint: members register, and a broadcast goes to every member.
Members = Members or {}

local function index_of(address)
  for i, member in ipairs(Members) do
    if member == address then return i end
  end
  return nil
end

Handlers.add("Register", Handlers.utils.hasMatchingTag("Action", "Register"), function(msg)
  if not index_of(msg.From) then table.insert(Members, msg.From) end
  print("Registered " .. msg.From)
  msg.reply({ Action = "Registered", Data = "Registered." })
end)

Handlers.add("Unregister", Handlers.utils.hasMatchingTag("Action", "Unregister"), function(msg)
  local i = index_of(msg.From)
  if i then table.remove(Members, i) end
  msg.reply({ Action = "Unregistered", Data = "Unregistered." })
end)

Handlers.add("Broadcast", Handlers.utils.hasMatchingTag("Action", "Broadcast"), function(msg)
  for _, member in ipairs(Members) do
    Send({ Target = member, Action = "Broadcasted", Broadcaster = msg.From, Data = msg.Data })
  end
  msg.reply({ Action = "Broadcast-Sent", Data = "Broadcasted to " .. #Members .. " members." })
end)

return "chatroom ready"
