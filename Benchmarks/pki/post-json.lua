-- POSTs one JSON body again and again (the issuance benchmarks).
-- Usage: wrk ... -s post-json.lua URL -- BODY_FILE [AUTHORIZATION]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local prepared

function init(args)
   local file = assert(io.open(args[1], "rb"))
   local body = file:read("*a")
   file:close()
   local headers = { ["Content-Type"] = "application/json" }
   if args[2] and #args[2] > 0 then headers["Authorization"] = args[2] end
   prepared = wrk.format("POST", wrk.path, headers, body)
end

function request()
   return prepared
end
