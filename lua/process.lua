-- Minimal process entry: the contract between the wasm guest and the process library.
-- The guest calls require('.process').handle(msg, env) with msg and env decoded from JSON, and
-- encodes the returned table as the result JSON. The full library (handlers, ao, Inbox…) replaces this.
local process = {}

function process.handle(msg, env)
  local out = {}
  local saved_print = print
  print = function(...)
    local parts = {}
    for i = 1, select('#', ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    out[#out + 1] = table.concat(parts, '\t')
  end
  local result = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
  local action
  for _, tag in ipairs(msg.Tags or {}) do
    if tag.name == 'Action' then action = tag.value end
  end
  if action == 'Eval' then
    local fn, err = load('return ' .. msg.Data, 'aos', 't', _G)
    if not fn then fn, err = load(msg.Data, 'aos', 't', _G) end
    if not fn then
      result.Error = err
    else
      local ok, value = pcall(fn)
      if ok then
        if value ~= nil then out[#out + 1] = tostring(value) end
      else
        result.Error = tostring(value)
      end
    end
  end
  print = saved_print
  result.Output = { data = table.concat(out, '\n'), prompt = 'aos> ' }
  return result
end

return process
