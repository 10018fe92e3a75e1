-- wrk script for bench/bench_shop_webhooks.py: POST a signed order delivery to a store's
-- webhook address, each request with its own delivery id (a new row every time).
-- Arguments: path, topic, signature, file holding the body, a label unique to this run.
local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path, topic, signature, label = args[1], args[2], args[3], args[5]
  local file = io.open(args[4], "rb")
  body = file:read("*a")
  file:close()
  sent = 0
end

function request()
  sent = sent + 1
  local headers = {["Content-Type"] = "application/json", ["X-Forwarded-Proto"] = "https",
                   ["X-Stub-Topic"] = topic, ["X-Stub-Signature"] = signature,
                   ["X-Stub-Delivery"] = string.format("%s-t%d-%d", label, thread_number,
                                                       sent)}
  return wrk.format("POST", path, headers, body)
end
