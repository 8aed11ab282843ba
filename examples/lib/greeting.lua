--- A local module of ping.lua: `.load` bundles it because ping.lua requires it.
local greeting = {}

function greeting.pong(count)
  if count == 1 then return "Pong! (your first ping)" end
  return "Pong! (ping number " .. count .. ")"
end

return greeting
