-- wrk script for bench/bench_clicks.py: GET click links of many sent emails (a file with one
-- path per line), as a phone's browser does, in turn; the first GET of each records a click,
-- later ones find it recorded. Argument: the file of paths.
function init(args)
  paths = {}
  for line in io.lines(args[1]) do table.insert(paths, line) end
  index = 0
end

function request()
  index = index % #paths + 1
  local headers = {["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
                   .. "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148",
                   ["X-Forwarded-Proto"] = "https"}
  return wrk.format("GET", paths[index], headers)
end
