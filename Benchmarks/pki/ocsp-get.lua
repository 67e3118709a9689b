-- GETs OCSP requests (RFC 5019: URL-encoded base64 DER appended to the responder URL),
-- rotating through the lines of FILE.
-- Usage: wrk ... -s ocsp-get.lua URL -- FILE
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local index = 0

function init(args)
   local base = wrk.path:gsub("/$", "")
   for line in io.lines(args[1]) do
      if #line > 0 then
         requests[#requests + 1] = wrk.format("GET", base .. "/" .. line)
      end
   end
   index = math.random(#requests) - 1
end

function request()
   index = index % #requests + 1
   return requests[index]
end
