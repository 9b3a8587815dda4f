-- wrk script: GET requests cycling through the paths in a file (one a line).
-- Usage: wrk ... -s get_paths.lua http://127.0.0.1:PORT -- PATHS_FILE
-- Requests are formatted once at start-up, so wrk spends its time sending, not building.

local threads = 0

function setup(thread)
  -- Each thread starts at its own place in the list, so they do not ask in lockstep.
  thread:set("thread_number", threads)
  threads = threads + 1
end

local requests = {}
local count = 0
local at = 0

function init(args)
  local file = args[1]
  if file == nil then error("get_paths.lua needs the paths file after --") end
  for line in io.lines(file) do
    if line ~= "" then
      count = count + 1
      requests[count] = wrk.format("GET", line)
    end
  end
  if count == 0 then error("no paths in " .. file) end
  -- Half the list apart (the bench runs two threads): a thread never asks what the other asked
  -- shortly before, so an all-listed list longer than the answer cache is asked beyond it.
  at = ((thread_number or 0) * math.floor(count / 2)) % count
end

function request()
  at = at + 1
  if at > count then at = 1 end
  return requests[at]
end
