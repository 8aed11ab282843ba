--- Standard base64 (RFC 4648, with padding).
local base64 = {}

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local index = {}
for i = 1, #alphabet do index[alphabet:sub(i, i)] = i - 1 end

function base64.encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = alphabet:sub((n >> 18) + 1, (n >> 18) + 1)
      .. alphabet:sub(((n >> 12) & 63) + 1, ((n >> 12) & 63) + 1)
      .. (b and alphabet:sub(((n >> 6) & 63) + 1, ((n >> 6) & 63) + 1) or "=")
      .. (c and alphabet:sub((n & 63) + 1, (n & 63) + 1) or "=")
  end
  return table.concat(out)
end

function base64.decode(s)
  s = s:gsub("[^%w%+/=]", "")
  local out = {}
  for i = 1, #s, 4 do
    local chunk = s:sub(i, i + 3)
    local n, pad = 0, 0
    for j = 1, 4 do
      local ch = chunk:sub(j, j)
      if ch == "=" or ch == "" then
        pad = pad + 1
        n = n << 6
      else
        local v = index[ch]
        if not v then error("invalid base64 character '" .. ch .. "'") end
        n = (n << 6) | v
      end
    end
    local bytes = string.char((n >> 16) & 255, (n >> 8) & 255, n & 255)
    out[#out + 1] = bytes:sub(1, 3 - pad)
  end
  return table.concat(out)
end

return base64
