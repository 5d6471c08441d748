-- wrk script of bench/serve_mix.py: each request a random URL of the list in $SERVE_MIX_URLS;
-- prints one JSON line (requests/s, p50/p95/p99 in ms, non-2xx/3xx and socket errors).
local urls = {}
for line in io.lines(os.getenv("SERVE_MIX_URLS")) do urls[#urls + 1] = line end
math.randomseed(os.time())

request = function()
  return wrk.format("GET", urls[math.random(#urls)])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"rps": %.1f, "p50": %.2f, "p95": %.2f, "p99": %.2f, "bad": %d}\n',
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
