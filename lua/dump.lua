--- `Dump(value)`: a value as plain text (aos's global `Dump`), in stringify's layout without
--- colours; strings and numbers are shown as they are.
local stringify = require('.stringify')

return function(value)
  if type(value) == "table" then return stringify.plain(value) end
  return tostring(value)
end
