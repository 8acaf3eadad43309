-- wrk script: POST /api/bookings with a fresh body per request (another tutor and start time
-- each time) and the student's token from the environment (TL_BENCH_TOKEN).
-- Non-2xx answers are counted by wrk ("Non-2xx or 3xx responses") and reported by bench/run.
local token = os.getenv("TL_BENCH_TOKEN") or ""
local base_start = os.time() + 7 * 24 * 3600          -- a week ahead: always in the future
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

-- Each wrk thread runs its own copy of this script: the thread id keeps their bodies apart.
local thread_tag = 0
function setup(thread)
  thread_tag = thread_tag + 1
  thread:set("thread_tag", thread_tag)
end

function request()
  counter = counter + 1
  local start = base_start + (counter % 50000) * 60
  local body = string.format(
    '{"tutor_id":"t%d_%d","subject":"Mathematics","scheduled_start":"%s","duration_minutes":60,' ..
    '"price":{"amount":35000,"currency":"ETB"}}',
    thread_tag or 0, counter % 10000, os.date("!%Y-%m-%dT%H:%M:%SZ", start))
  return wrk.format(nil, nil, nil, body)
end
