--- Chatroom blueprint (aos's protocol): `Register` and `Unregister` manage `Members`; a
--- `Broadcast` sends its Data to every member once as a `Broadcast-Notice`. Every request is
--- answered with aos's reply text.
Members = Members or {}

local function index_of(address)
  for i, member in ipairs(Members) do
    if member == address then return i end
  end
  return nil
end

Handlers.add("register", "Register", function(msg)
  if index_of(msg.From) then
    Handlers.utils.reply("Already registered.")(msg)
  else
    table.insert(Members, msg.From)
    Handlers.utils.reply("Registered.")(msg)
  end
end)

Handlers.add("unregister", "Unregister", function(msg)
  local i = index_of(msg.From)
  if i then
    table.remove(Members, i)
    Handlers.utils.reply("Unregistered")(msg)
  else
    Handlers.utils.reply("Not registered")(msg)
  end
end)

Handlers.add("broadcast", "Broadcast", function(msg)
  local sent = {}
  for _, member in ipairs(Members) do
    if not sent[member] then
      ao.send({ Target = member, Action = "Broadcast-Notice", Data = msg.Data })
      sent[member] = true
    end
  end
  Handlers.utils.reply("Broadcasted.")(msg)
end)

return "chatroom ready"
