--- The owner's Eval (`return <Data>` first, so `1 + 1` shows 2, then `<Data>` as a statement) and
--- the spawn's `On-Boot`, as aos has them. `show` receives the text of the value an Eval returns.
local stringify = require('.stringify')

local eval = { _version = "0.1.0" }

-- Words that only begin a statement: `return <word> …` can never parse.
local STATEMENT_WORDS = {
  ["return"] = true, ["local"] = true, ["if"] = true, ["for"] = true, ["while"] = true,
  ["repeat"] = true, ["do"] = true, ["goto"] = true, ["break"] = true,
}

--- Whether `return <code>` is sure to be a syntax error, so that only `code` itself is worth
--- compiling: it begins with a statement-only keyword, a named `function` statement, or an
--- assignment to a name or a dotted field (`N = …`, `a.b = …`; an `=` cannot follow an
--- expression). A failed compile builds its error message and unwinds, a tenth of a small
--- Eval's cost; anything this does not recognise still gets both tries, in aos's order.
local function only_a_statement(code)
  local word = code:match("^%s*([%a_][%w_]*)")
  if word == nil then return false end
  if STATEMENT_WORDS[word] then return true end
  if word == "function" then return code:find("^%s*function%s+[%a_]") ~= nil end
  return code:find("^%s*[%a_][%w_.]*%s*=%f[^=]") ~= nil -- `=`, not `==`
end

--- Runs `code`; a second return value is an error, as in aos (`return nil, "why"`).
function eval.run(code, show)
  if type(code) ~= "string" then code = tostring(code or "") end
  -- "=aos" names the chunk `aos`, so errors read `aos:LINE: message`.
  local fn, err
  if not only_a_statement(code) then fn, err = load("return " .. code, "=aos", "t", _G) end
  if not fn then fn, err = load(code, "=aos", "t", _G) end
  if not fn then error(err, 0) end
  local output, e = fn()
  if e ~= nil then error(e, 0) end
  if output ~= nil then
    show(type(output) == "table" and stringify.format(output) or tostring(output))
  end
end

--- aos's boot loader: `On-Boot = Data` evaluates the spawn's Data. Any other value names a
--- transaction whose data aos reads from its gateway drive; offline there is none to read.
function eval.boot(msg, show)
  local source = msg.Tags["On-Boot"]
  if source == nil then return end
  if source == "Data" then eval._only_a_statement = only_a_statement -- for the specs

return eval.run(msg.Data, show) end
  print((Colors and Colors.red or "") .. "On-Boot " .. tostring(source)
    .. ": loading a transaction's data is not supported here; use On-Boot = Data"
    .. (Colors and Colors.reset or ""))
end

eval._only_a_statement = only_a_statement -- for the specs

return eval
