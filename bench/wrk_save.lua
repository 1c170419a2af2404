-- wrk script: POST /api/workshop-data/step as one of many logged-in users (ours or the peer's).
-- Arguments (after --): <sessions file: one Cookie header value per line> <delay ms per request, 0 = none>
-- [patch: send each change as the hook does after a step's first save, a merge patch of its data
-- (PATCH /api/workshop-data/step/<workshop>/<step>, no base version), instead of POST]
local cookies = {}
local steps = {}
local filler = string.rep("I reflect on what matters to my team and why. ", 19)
local counter = 0
local delay_ms = 0
local patching = false

function init(args)
  for line in io.lines(args[1]) do
    cookies[#cookies + 1] = line
  end
  delay_ms = tonumber(args[2] or "0")
  patching = args[3] == "patch"
  for section, count in pairs({[2] = 3, [3] = 6, [4] = 6}) do
    for n = 1, count do steps[#steps + 1] = string.format("ia-%d-%d", section, n) end
  end
  for n = 1, 5 do steps[#steps + 1] = string.format("4-%d", n) end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function delay()
  return delay_ms
end

function request()
  counter = counter + 1
  local cookie = cookies[math.random(#cookies)]
  local step = steps[math.random(#steps)]
  local workshop = string.sub(step, 1, 3) == "ia-" and "ia" or "ast"
  if patching then
    local patch = string.format('{"reflection":"%s","n":%d,"r":%d}', filler, counter, math.random(1000000000))
    return wrk.format("PATCH", string.format("/api/workshop-data/step/%s/%s", workshop, step), {
      ["Content-Type"] = "application/merge-patch+json",
      ["Cookie"] = cookie,
    }, patch)
  end
  local body = string.format(
    '{"workshopType":"%s","stepId":"%s","data":{"reflection":"%s","n":%d,"r":%d}}',
    workshop, step, filler, counter, math.random(1000000000))
  return wrk.format("POST", "/api/workshop-data/step", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookie,
  }, body)
end
