--- aos's patch-legacy-reply blueprint: gives every message a `msg.reply` when it lacks one (for
--- processes whose library predates it). Ours always has one, so this only keeps old scripts
--- that load it working.
local function patch_reply(msg)
  if msg.reply then return end
  msg.reply = function(reply)
    reply.Target = msg["Reply-To"] or reply.Target or msg.From
    reply["X-Reference"] = msg["X-Reference"] or msg.Reference or ""
    reply["X-Origin"] = msg["X-Origin"] or ""
    return ao.send(reply)
  end
end

Handlers.prepend("_patch_reply", function() return "continue" end, patch_reply)

return "patch-legacy-reply ready"
