-- wrk script: single-recipient sends through the Wasambazie dialect, each to a different number.
-- The key pair is the demo key: its public id is the secret's own public part.
local secret = os.getenv("BENCH_KEY")
local n = math.random(0, 9999999)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-PUBLIC-KEY"] = "pk_" .. string.sub(secret, 4, 19)
wrk.headers["X-API-SECRET-KEY"] = secret
request = function()
  n = n + 1
  local body = string.format('{"to_number":"+25571%07d","message":"Ujumbe benchmark: your code is %d","sender_id":"UJUMBE"}', n % 10000000, n % 1000000)
  return wrk.format(nil, "/compat/wasambazie/v1/sms/send", nil, body)
end
