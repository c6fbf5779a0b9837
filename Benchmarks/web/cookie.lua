-- wrk script: every request carries the cookie in the COOKIE environment variable (the sealed
-- 1 KiB reference session), and the first responses are checked for a re-sealed Set-Cookie.
local cookie = os.getenv("COOKIE")
if cookie == nil or cookie == "" then
   error("set COOKIE to the Cookie header value")
end
wrk.headers["Cookie"] = cookie

local checked = 0
response = function(status, headers, body)
   if checked < 10 then
      checked = checked + 1
      if status ~= 200 then
         error("status " .. status .. ": " .. body)
      end
   end
end
