--- A first process: answers Ping with Pong and counts who pinged.
--- In the shell:  .load examples/ping.lua   (the require below travels with it)
local greeting = require("lib.greeting")

Pings = Pings or {}

Handlers.add("Ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg)
  Pings[msg.From] = (Pings[msg.From] or 0) + 1
  msg.reply({ Action = "Pong", Data = greeting.pong(Pings[msg.From]) })
end)

Handlers.add("Pings", Handlers.utils.hasMatchingTag("Action", "Pings"), function(msg)
  msg.reply({ Action = "Pings", Data = tostring(Pings[msg.Pinger or msg.From] or 0) })
end)

return "ping ready"
