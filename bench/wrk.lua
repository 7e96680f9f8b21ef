-- wrk script for the benchmarks: method, body and Authorization from the environment;
-- at the end, one line "BENCH {json}" with requests/s, latency percentiles and errors.
-- With BENCH_PRODUCTS="<first id>,<half>", a POST /orders/ body takes one random product from
-- each half of the catalogue, so concurrent orders rarely contend for the same rows.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local first, half = string.match(os.getenv("BENCH_PRODUCTS") or "", "(%d+),(%d+)")
first, half = tonumber(first), tonumber(half)

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  if wrk.method == "POST" and first and wrk.path:find("orders") then
    local a = first + math.random(0, half - 1)
    local b = first + half + math.random(0, half - 1)
    local body = string.format('{"items": [{"product_id": %d, "quantity": 1}, {"product_id": %d, "quantity": 1}]}', a, b)
    return wrk.format(nil, nil, nil, body)
  end
  return wrk.format()
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, summary.errors.status))
end
