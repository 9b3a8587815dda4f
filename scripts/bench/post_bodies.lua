-- wrk script: POST /v1/lookup with the JSON bodies in a file (one document a line).
-- Usage: wrk ... -s post_bodies.lua http://127.0.0.1:PORT -- BODIES_FILE
-- Requests are formatted once at start-up, so wrk spends its time sending, not building.

local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local requests = {}
local count = 0
local at = 0

function init(args)
  local file = args[1]
  if file == nil then error("post_bodies.lua needs the bodies file after --") end
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(file) do
    if line ~= "" then
      count = count + 1
      requests[count] = wrk.format("POST", "/v1/lookup", headers, line)
    end
  end
  if count == 0 then error("no bodies in " .. file) end
  at = (thread_number or 0) % count
end

function request()
  at = at + 1
  if at > count then at = 1 end
  return requests[at]
end
