-- wrk_paths.lua - wrk script: GET each line of the file $WRK_PATHS (a path and query) in turn,
-- over and over (scripts/bench.sh, the synchronous APIs under load).
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
