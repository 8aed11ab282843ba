--- Assignables: which messages addressed to another process this one agrees to run when they are
--- assigned to it. An assignment (a message whose Target is not this process) runs only if one of
--- `ao.assignables` matches it; by default none does, so a Transfer signed for token A and assigned
--- to token B is refused by B.
local utils = require('.utils')

local assignment = { _version = "0.1.0" }

local function index_of(list, name)
  for i, entry in ipairs(list) do
    if entry.name == name then return i end
  end
  return nil
end

function assignment.init(ao)
  ao.assignables = ao.assignables or {}

  --- `addAssignable(matchSpec)` or `addAssignable(name, matchSpec)`; a known name is updated.
  function ao.addAssignable(...)
    local name, spec
    if select("#", ...) == 1 then
      spec = ...
    else
      name, spec = ...
      assert(type(name) == "string", "MatchSpec name MUST be a string")
    end
    local at = name and index_of(ao.assignables, name)
    if at then
      ao.assignables[at].pattern = spec
    else
      table.insert(ao.assignables, { pattern = spec, name = name })
    end
  end

  --- By name or by index; an unknown one is ignored.
  function ao.removeAssignable(name)
    local at
    if type(name) == "string" then
      at = index_of(ao.assignables, name)
    else
      assert(type(name) == "number", "index MUST be a number")
      at = name
    end
    if at and at >= 1 and at <= #ao.assignables then table.remove(ao.assignables, at) end
  end

  --- A message addressed to another process (one without Target is addressed to this one).
  function ao.isAssignment(msg)
    return msg.Target ~= nil and msg.Target ~= ao.id
  end

  function ao.isAssignable(msg)
    for _, entry in ipairs(ao.assignables) do
      local verdict = utils.matchesSpec(msg, entry.pattern)
      if verdict and verdict ~= 0 and verdict ~= "skip" then return true end
    end
    return false
  end
end

return assignment
