-- paths.lua - wrk script: GET requests cycling through the paths listed in
-- the file $WRK_PATHS (one per line), each thread from its own offset, with
-- "Authorization: Bearer $WRK_TOKEN" when that is set.
local paths = {}
local token = os.getenv("WRK_TOKEN")
local i = 0

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  local headers = {}
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  return wrk.format("GET", paths[i], headers)
end
