-- wrk script for server mode: the Cookie headers of many sessions, one per line in the file named
-- by COOKIE_FILE (written by `CookieSessions --preload … --preload-cookies FILE`), used in turn,
-- so that concurrent requests go to different sessions as a real server's do. Like cookie.lua, no
-- response() callback (see there).
local path = os.getenv("COOKIE_FILE")
if path == nil or path == "" then
   error("set COOKIE_FILE to a file of Cookie header values, one per line")
end
local cookies = {}
for line in io.lines(path) do
   if line ~= "" then cookies[#cookies + 1] = line end
end
if #cookies == 0 then error(path .. " holds no cookies") end
local next = 0
request = function()
   next = next % #cookies + 1
   wrk.headers["Cookie"] = cookies[next]
   return wrk.format()
end
