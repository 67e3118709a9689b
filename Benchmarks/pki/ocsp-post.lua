-- POSTs DER OCSP requests, rotating through DIR/000000.der ... (one per certificate).
-- Usage: wrk ... -s ocsp-post.lua URL -- REQUESTS_DIR COUNT
-- Every request is formatted once in init, so the Lua side costs a table look-up per request.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local index = 0

function init(args)
   local dir, count = args[1], tonumber(args[2])
   local headers = { ["Content-Type"] = "application/ocsp-request" }
   for n = 0, count - 1 do
      local file = assert(io.open(string.format("%s/%06d.der", dir, n), "rb"))
      local body = file:read("*a")
      file:close()
      requests[#requests + 1] = wrk.format("POST", wrk.path, headers, body)
   end
   -- Threads start at different places in the list.
   index = math.random(#requests) - 1
end

function request()
   index = index % #requests + 1
   return requests[index]
end
