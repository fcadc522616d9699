-- wrk script: GET /users/{id} with a uniformly random id among the seeded users.
-- USERS (env) = number of seeded users (default 10000, clab's default seed).
local users = tonumber(os.getenv("USERS") or "10000")

function setup(thread)
  thread:set("seed", math.random(1, 2^31 - 1))
end

function init(args)
  math.randomseed(seed or os.time())
end

request = function()
  return wrk.format("GET", "/users/" .. math.random(1, users))
end
