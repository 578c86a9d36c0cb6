-- wrk script for benchmarks/api.py: a mix of credit checks (POST /api/v1/checks) and
-- credit-file reads (GET /api/v1/subjects/{id}) with a bearer token, over subject ids
-- read from a file. Arguments after `--`: ids-file token check-share seed [mode]; mode
-- "me" sends GET /api/v1/auth/me instead (the framework-and-sign-in baseline).
-- Prints one JSON line (prefixed "RESULT ") with counts and latency percentiles.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  ids = {}
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  token = args[2]
  share = tonumber(args[3])
  math.randomseed(tonumber(args[4]) + id)
  mode = args[5] or "mix"
  checks, files, errors = 0, 0, 0
  status = {}
  wrk.headers["Authorization"] = "Bearer " .. token
  -- wrk.format uses the headers it is given instead of wrk.headers, not with them.
  post_headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

function request()
  if mode == "me" then
    files = files + 1
    return wrk.format("GET", "/api/v1/auth/me")
  end
  local sid = ids[math.random(#ids)]
  if math.random() < share then
    checks = checks + 1
    return wrk.format("POST", "/api/v1/checks", post_headers,
      '{"scenario": "administrative-approval", "subject_id": ' .. sid .. '}')
  end
  files = files + 1
  return wrk.format("GET", "/api/v1/subjects/" .. sid .. "?purpose=benchmark")
end

function response(code, headers, body)
  if code >= 400 then
    errors = errors + 1
    status[code] = (status[code] or 0) + 1
  end
end

function done(summary, latency, requests)
  local c, f, e = 0, 0, 0
  local codes = {}
  for _, t in ipairs(threads) do
    c = c + t:get("checks")
    f = f + t:get("files")
    e = e + t:get("errors")
    for k, v in pairs(t:get("status")) do
      codes[#codes + 1] = string.format('"%d": %d', k, v)
    end
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "error_codes": {%s}, ' ..
    '"socket_errors": %d, "sent_checks": %d, "sent_files": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e, table.concat(codes, ", "),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    c, f, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
