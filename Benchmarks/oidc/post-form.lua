-- POSTs one form body again and again with an Authorization header (token and introspection
-- endpoints). Usage: wrk ... -s post-form.lua URL -- BODY AUTHORIZATION
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../pki/report.lua")

local prepared

function init(args)
   local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = args[2] }
   prepared = wrk.format("POST", wrk.path, headers, args[1])
end

function request()
   return prepared
end
