-- wrk script: every request carries the cookie in the COOKIE environment variable (the sealed
-- 1 KiB reference session). There is deliberately no response() callback: with one, wrk builds
-- a Lua table of every response's headers, which on a machine where wrk and the server share
-- the cores charges the route with the bigger response (the re-sealed Set-Cookie) for wrk's own
-- work. scripts/bench-web.sh checks the responses with curl before the run and reads wrk's count
-- of non-2xx responses after it.
local cookie = os.getenv("COOKIE")
if cookie == nil or cookie == "" then
   error("set COOKIE to the Cookie header value")
end
wrk.headers["Cookie"] = cookie
