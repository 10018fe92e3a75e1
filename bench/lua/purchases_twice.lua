-- wrk script for bench/bench_api.py: POST /api/purchases/ where every order is sent twice.
-- Consecutive requests of a thread carry the same external_id, and a thread spreads its
-- requests over its connections, so the copy usually arrives while the first is in flight:
-- the retry a shop makes when a response is lost, at its worst.
-- Arguments: token, run label, number of existing contacts, share (0-100) of new customers,
-- currency.
local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token, label = args[1], args[2]
  contacts, new_share, currency = tonumber(args[3]), tonumber(args[4]), args[5]
  created, known, failed, sent = 0, 0, 0, 0
  math.randomseed(thread_number * 7919)
  headers = {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json",
             ["X-Forwarded-Proto"] = "https"}
end

function request()
  sent = sent + 1
  if sent % 2 == 1 then
    local order = (sent + 1) / 2
    local email
    if math.random(100) <= new_share then
      email = string.format("new-%s-%d-%d@bench.example.com", label, thread_number, order)
    else
      email = string.format("c%d@bench.example.com", math.random(contacts))
    end
    body = string.format(
      '{"email":"%s","purchased_at":"2026-11-%02dT%02d:%02d:00+03:00","amount":"%d.%02d",' ..
      '"currency":"%s","source":"bench-%s","external_id":"%d-%d"}',
      email, math.random(1, 28), math.random(0, 23), math.random(0, 59),
      math.random(5, 300), math.random(0, 99), currency, label, thread_number, order)
  end
  return wrk.format("POST", "/api/purchases/", headers, body)
end

function response(status, headers, response_body)
  if status == 201 then created = created + 1
  elseif status == 200 then known = known + 1
  else failed = failed + 1 end
end

function done(summary, latency, requests)
  local c, k, f = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created"); k = k + thread:get("known"); f = f + thread:get("failed")
  end
  io.write(string.format("RESULT created=%d known=%d failed=%d p50=%.1f p90=%.1f p99=%.1f " ..
                         "max=%.1f requests=%d seconds=%.2f\n",
                         c, k, f, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
                         latency:percentile(99) / 1000, latency.max / 1000,
                         summary.requests, summary.duration / 1e6))
end
