-- Shared helpers of the Lua specs. Runs first in a fresh process (outside `handle`), then one spec.
-- A spec calls `test(name, fn)` for each case and `finish()` at the end, which raises when any
-- case failed, naming each.
local failures, passed = {}, 0

function test(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1 else failures[#failures + 1] = name .. ": " .. tostring(err) end
end

local function show(v)
  if type(v) == "table" then return require('.stringify').format(v) end
  return tostring(v)
end

function eq(actual, expected, what)
  if not require('.utils').isEqual(actual, expected) then
    error((what and (what .. ": ") or "") .. "expected " .. show(expected) .. ", got " .. show(actual), 2)
  end
end

function finish()
  if #failures > 0 then error(#failures .. " failed:\n" .. table.concat(failures, "\n"), 0) end
  return passed .. " passed"
end

OWNER = "OWNER-ADDRESS-0000000000000000000000000000"
NODE = "NODE-ADDRESS-00000000000000000000000000000"
PID = "PROCESS-ID-0000000000000000000000000000000"
ENV = {
  Process = { Id = PID, Owner = OWNER, Tags = {
    { name = "Type", value = "Process" }, { name = "Name", value = "spec" },
    { name = "Scheduler", value = NODE },
  } },
  Module = { Id = "MODULE", Tags = {} },
}
local slot = 0
local process = require('.process')

--- A message from `fields` (From defaults to OWNER); every field but the core ones is a tag, and
--- `Tags` (a list of {name, value}) adds tags as they are (e.g. a tag named Target).
function message(fields)
  slot = slot + 1
  local core = { From = 1, Owner = 1, Data = 1, Id = 1, Target = 1, Timestamp = 1, Cron = 1, Tags = 1 }
  local tags = {}
  local names = {}
  for k in pairs(fields) do if not core[k] then names[#names + 1] = k end end
  table.sort(names)
  for _, k in ipairs(names) do tags[#tags + 1] = { name = k, value = tostring(fields[k]) } end
  for _, t in ipairs(fields.Tags or {}) do tags[#tags + 1] = t end
  local from = fields.From or OWNER
  return {
    Id = fields.Id or ("MSG-" .. slot), From = from, Owner = fields.Owner or from, Target = fields.Target or PID,
    Tags = tags, Data = fields.Data or "", Timestamp = fields.Timestamp or (1700000000000 + slot),
    Nonce = slot, ["Hash-Chain"] = "chain-" .. slot, ["Block-Height"] = fields["Block-Height"] or slot,
    Module = "MODULE", Cron = fields.Cron,
  }
end

--- Sends a message through the process entry and returns the result.
function send(fields)
  return process.handle(message(fields), ENV)
end

function eval(code)
  return send({ Action = "Eval", Data = code })
end

function spawn()
  return process.handle({
    Id = PID, From = OWNER, Owner = OWNER, Target = PID, Data = "", Nonce = 0,
    Tags = { { name = "Type", value = "Process" }, { name = "Name", value = "spec" }, { name = "Scheduler", value = NODE } },
    Timestamp = 1700000000000, ["Hash-Chain"] = "chain-0", Module = "MODULE", ["Block-Height"] = 1000,
  }, ENV)
end

--- The value of tag `name` of an outbox message.
function tag(message, name)
  for _, t in ipairs(message.Tags or {}) do if t.name == name then return t.value end end
  return nil
end

function output(result)
  return type(result.Output) == "table" and result.Output.data or result.Output
end

--- `s` without its ANSI colour codes.
function plain(s)
  return (tostring(s):gsub("\27%[%d+m", ""))
end

--- The outbox messages of a result with tag Action = `action` (all of them when nil).
function sent(result, action)
  local out = {}
  for _, m in ipairs(result.Messages or {}) do
    if action == nil or tag(m, "Action") == action then out[#out + 1] = m end
  end
  return out
end

spawn()
