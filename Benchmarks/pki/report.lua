-- Shared `done` for the PKI benchmarks: one machine-readable line the runner parses.
-- Latencies are wrk's (microseconds); "status" counts non-2xx/3xx answers.
function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
      "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non2xx=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.timeout, summary.errors.status))
end

-- wrk's default resolve() opens and closes an empty connection to test the address; that
-- alone wedges `openssl ocsp` (OpenSSL 3.0 spins on the EOF), so resolve without it.
function wrk.resolve(host, service)
   wrk.addrs = wrk.lookup(host, service)
end
