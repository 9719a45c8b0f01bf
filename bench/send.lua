-- wrk script: single-recipient sends, each to a different number.
local key = os.getenv("BENCH_KEY")
local n = math.random(0, 9999999)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
request = function()
  n = n + 1
  local body = string.format('{"to":["+25571%07d"],"text":"Ujumbe benchmark: your code is %d","sender_id":"UJUMBE"}', n % 10000000, n % 1000000)
  return wrk.format(nil, "/v1/messages", nil, body)
end
