-- An Eval compiles `return <code>` first, as aos does; code that can only be a statement skips
-- that try. The skip must never change what an Eval answers.

local only_a_statement = require('.eval')._only_a_statement

local STATEMENTS = {
  "return 1", "  return", "local x = 1 return x", "if true then print(1) end", "for i = 1, 2 do end",
  "while false do end", "repeat until true", "do end", "goto done ::done::", "break",
  "function f() return 3 end", "function a.b:c() end", "x = 1", "x=1", "Spec_N = (Spec_N or 0) + 1",
  "a.b.c = 2", "iffy = 1 == 1", "X =", "_ = 5", "return = 1", "local function g() end",
}

local NOT_SKIPPED = {
  "1 + 1", "N == 1", "a.b == c", "returned", "return_value", "locals", "x", "x ~= 1", "x <= 1",
  "function() end", "function (a) return a end", "Send({ Target = 'x' })", "f(x) == y",
  "-- a comment\nreturn 1", "a, b = 1, 2", "t[1] = 2", "{ a = 1 }", "", "  ", "print('x = 1')",
  "doit()",
}

test("code the skip recognises never compiles as `return <code>`", function()
  for _, code in ipairs(STATEMENTS) do
    assert(only_a_statement(code), "not recognised: " .. code)
    assert(load("return " .. code) == nil, "compiles with return: " .. code)
  end
end)

test("expressions and anything unrecognised still get the `return` try", function()
  for _, code in ipairs(NOT_SKIPPED) do
    assert(not only_a_statement(code), "skipped: " .. code)
  end
end)

test("Evals answer as they did: values shown, statements run, errors as before", function()
  eq(output(eval("return 1 + 1")), "2")
  eq(output(eval("1 + 1")), "2")
  eq(output(eval("Spec_N = 41")), "")
  eq(output(eval("Spec_N = Spec_N + 1 return Spec_N")), "42")
  eq(output(eval("Spec_N == 42")), "true")
  eq(output(eval("function Spec_F() return 'f' end")), "")
  eq(output(eval("Spec_F()")), "f")
  eq(output(eval("returned_value = 7")), "")
  eq(returned_value, 7)
  eq(output(eval("local t = { k = 1 } return t.k")), "1")
  -- A syntax error is the error of compiling the code as it is, as when both tries failed.
  for _, code in ipairs({ "x = = 1", "return return", "local = 2", "if then" }) do
    local _, expected = load(code, "=aos", "t")
    eq(eval(code).Error:match("aos:1: .*$"), expected, code)
  end
end)

return finish()
