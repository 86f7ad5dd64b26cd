-- wrk script for the load benchmark's capacity run (bench/load.py): every request is one
-- phone's rating through a link of its own, as the phone sends it (JSON body,
-- Idempotency-Key), walking a list of link tokens so no link is used twice.
--
--   wrk -t THREADS -c 32 -d 10s -s bench/wrk_submit.lua URL -- TOKENS_FILE PATH_PREFIX THREADS
--
-- Thread n of THREADS takes tokens n+1, n+1+THREADS, ...; past the end of the list it
-- sends "ran-out" tokens, which the service refuses and the benchmark reports.
-- done() prints machine-readable lines for bench/load.py: "status 201 1234", "latency_us
-- 50 812", "requests 1234", "duration_us 10000000", "socket_errors connect 0", ...

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Mostly good sessions, some strained ones, a request to talk now and then: enough that
-- scoring raises flags, as real answers do.
local bodies = {}
for n = 1, 20 do
  local centre = (n % 7 == 0) and 5.5 or 9.0
  local talk = (n == 14) and "true" or "false"
  bodies[n] = string.format(
    '{"scores": {"relationship": %.1f, "goals": %.1f, "approach": %.1f, "overall": %.1f}, '
      .. '"wants_to_talk": %s}',
    centre, centre - 0.5, math.min(10, centre + 0.5), centre, talk)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  prefix = args[2]
  step = tonumber(args[3])
  next_index = id + 1
  sent = 0
  statuses = {}
end

function request()
  local token = tokens[next_index] or ("ran-out-" .. id .. "-" .. next_index)
  next_index = next_index + step
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-" .. id .. "-" .. sent,
  }
  return wrk.format("POST", prefix .. token, headers, bodies[sent % #bodies + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency_us %g %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("latency_us max %d\n", latency.max))
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("duration_us %d\n", summary.duration))
  for _, kind in ipairs({"connect", "read", "write", "status", "timeout"}) do
    io.write(string.format("socket_errors %s %d\n", kind, summary.errors[kind]))
  end
end
