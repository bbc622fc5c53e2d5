-- wrk script of bench/throughput.py and bench/introspection.py: at the end of a run, one JSON line with the
-- requests, every kind of error (any status but 200 counts), and the latency
-- percentiles in milliseconds.
local threads = {}

-- WRK_BODY set: a POST of that form (the introspection endpoint) instead of a GET.
local body = os.getenv("WRK_BODY")
if body then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
  end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("not_200")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "not_200": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, wrong, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
