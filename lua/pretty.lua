--- Pretty-printing helpers (aos's `.pretty`): `tprint` renders a table as indented text.
local stringify = require('.stringify')

local pretty = { _version = "0.1.0" }

function pretty.tprint(value)
  return stringify.format(value)
end

return pretty
