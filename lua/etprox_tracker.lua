-- etprox_tracker.lua: ET:Legacy (Lua 5.4) game-server module for etprox.
--
-- Records every obituary of a round (kills, team kills, suicides, world kills) with both sides'
-- slots, GUIDs, names, teams, positions, nearby allies and the time since round start, and
-- writes one v3 round file per round (docs/round-file-format.md in the etprox repository):
--   * at intermission (cvar gamestate becomes 3), status=complete, even with zero kills;
--   * from et_ShutdownGame when the round was cut short (map change, vote, restart),
--     status=incomplete.
-- Files are written to <name>.tmp, read back, and renamed only when every byte is there, so
-- a watcher never sees half a file, even on a full disk. A round whose write failed stays in
-- memory and is retried every few seconds of intermission and at shutdown; if the map ends
-- first, it is kept in RAM-backed storage and written at the next round end.
--
-- Optional cvars:
--   etprox_server_id  stable id of this server, [a-z0-9-] (default: sv_hostname + net_port)
--   etprox_dir        folder under <fs_homepath>/<fs_game>/ for round files (default proximity/)
--   etprox_spill_dir  where a round that could not be written before its map ended waits
--                     (default /dev/shm: RAM, not the disk that filled up)
-- Written by the module:
--   etprox_round_seq  rounds begun by this server process; cvars outlive the Lua VM, so two
--                     rounds begun within one second still get different round ids
--   etprox_pending    counters of rounds waiting in etprox_spill_dir
--
-- The Lua VM lives from et_InitGame to et_ShutdownGame (one map load or map_restart), so all
-- state below is per round. Every callback runs under pcall: an error is printed once per
-- callback and never escapes into the engine.

local MODULE = "etprox_tracker"
local VERSION = "1.1"

local ENTITYNUM_WORLD = 1022
local ALLY_RADIUS_SQ = 300 * 300
local TEAM_AXIS, TEAM_ALLIES = 1, 2
local CON_CONNECTED = 2 -- not exported to Lua (g_local.h clientConnected_t)
local GS_PLAYING, GS_INTERMISSION = 0, 3
local DEFAULT_DIR = "proximity/"
local WRITE_CHUNK = 16384
local RETRY_MS = 5000        -- level time between write attempts during intermission
local MAX_SERVER_ID = 40
local DEFAULT_PORT = "27960" -- PORT_SERVER, what net_port holds unless set
local FS_READ, FS_WRITE = et.FS_READ or 0, et.FS_WRITE or 1
local DEFAULT_SPILL_DIR = "/dev/shm" -- tmpfs on Linux: RAM, not the disk that filled up
local MAX_SPILLED = 20               -- keeps etprox_pending within a cvar's 256 bytes

local TEAM_NAME = { [0] = "FREE", [1] = "AXIS", [2] = "ALLIES", [3] = "SPECTATOR" }

local FORMAT_LINE = "# FORMAT: t_ms|kind|killer_slot|killer_guid|killer_name|killer_team"
    .. "|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team"
    .. "|victim_x|victim_y|victim_z|distance|weapon|mod|killer_allies|victim_allies|supporting_allies"

local gentity_get = et.gentity_get
local cvar_get = et.trap_Cvar_Get
local fmt, concat, byte, char = string.format, table.concat, string.byte, string.char
local gsub, floor = string.gsub, math.floor
local HUGE = math.huge
-- math.tointeger is Lua 5.3+; the fallback keeps a LuaJIT build (FEATURE_LUAJIT) working.
local tointeger = math.tointeger or function(v)
    v = tonumber(v)
    if v and v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
        return v
    end
    return nil
end

---------------------------------------------------------------------------------------------
-- Escaping (spec: '%', '|', ',', bytes < 0x20, 0x7F and bytes >= 0x80 become %XX).
-- GUIDs additionally escape ':', which separates GUID and name in supporting_allies. A real
-- GUID (32 hex digits, OMNIBOT...) has none of these bytes and is written unchanged.

local ESCAPE = {}
for b = 0, 255 do
    if b < 0x20 or b >= 0x7F or b == 0x25 or b == 0x7C or b == 0x2C then
        ESCAPE[char(b)] = fmt("%%%02X", b)
    end
end
local ESCAPE_GUID = setmetatable({ [":"] = "%3A" }, { __index = ESCAPE })
local ESCAPE_PATTERN = "[\0-\31%%|,\127-\255]"
local ESCAPE_GUID_PATTERN = "[\0-\31%%|,:\127-\255]"

local function escape(s)
    return (gsub(s, ESCAPE_PATTERN, ESCAPE))
end

local function escape_guid(s)
    return (gsub(s, ESCAPE_GUID_PATTERN, ESCAPE_GUID))
end

-- Colour codes per Q_IsColorString: '^' + a byte that is neither NUL nor '^' and is printable
-- non-space ASCII or >= 0x80. "^^" is a literal caret. Used once per round, so kept simple.
local function strip_colours(s)
    local out, i, n = {}, 1, #s
    while i <= n do
        local c = byte(s, i)
        local d = byte(s, i + 1)
        if c == 94 and d and d ~= 94 and ((d >= 0x21 and d <= 0x7E) or d >= 0x80) then
            i = i + 2
        else
            out[#out + 1] = char(c)
            i = i + 1
        end
    end
    return concat(out)
end

-- Lua 5.4: "%d" raises on a float, so integers go through this.
local function int(v)
    v = tonumber(v)
    if v == nil or v ~= v or v == HUGE or v == -HUGE then
        return "0"
    end
    local i = tointeger(v) or tointeger(floor(v))
    if i == nil then
        return "0"
    end
    return tostring(i)
end

local function num(v)
    v = tonumber(v)
    if v == nil or v ~= v or v == HUGE or v == -HUGE then
        return 0.0
    end
    return v
end

---------------------------------------------------------------------------------------------
-- Per-round state (one Lua VM per round).

local state = {
    playing = false,        -- the round reached GS_PLAYING in this VM
    ended = false,          -- intermission seen
    written = false,        -- the round file has been renamed into place
    pending = nil,          -- status of a round that ended and still waits to be written
    write_attempts = 0,
    next_retry = 0,         -- level time of the next write attempt during intermission
    last_failure = nil,     -- why the last write attempt failed (printed when it changes)
    seq = 0,                -- etprox_round_seq of this round
    level_time = 0,
    round_start_level_time = 0,
    start_unix = 0,
    end_unix = 0,
    map = "",
    gametype = 0,
    round = 1,
    round_id = "",
    server_id = "",
    server_name = "",
    dir = DEFAULT_DIR,
    max_clients = 64,
}
local kills = {}
-- Per-slot caches, cleared by the client hooks (connect, begin, userinfo change, disconnect).
local guid_cache = {}   -- slot -> escaped cl_guid ("" when absent)
local name_raw = {}     -- slot -> last raw name seen
local name_escaped = {} -- slot -> its escaped form
local ally_refs = {}    -- slot -> "<guid>:<name>" for supporting_allies
local error_counts = {}

local function console(msg)
    pcall(et.G_Print, MODULE .. ": " .. msg .. "\n")
end

local function report(where, err)
    local n = (error_counts[where] or 0) + 1
    error_counts[where] = n
    if n == 1 then
        console(fmt("error in %s: %s (further errors there are counted, not printed)", where, tostring(err)))
    end
end

local function protect(where, fn)
    return function(...)
        local ok, err = pcall(fn, ...)
        if not ok then
            report(where, err)
        end
    end
end

local function cvar(name)
    local ok, v = pcall(cvar_get, name)
    if ok and type(v) == "string" then
        return v
    end
    return ""
end

local function gamestate()
    return tonumber(cvar("gamestate"))
end

-- g_currentRound flips at intermission, so this runs only at init or while gamestate == 0.
local function sample_round()
    state.map = cvar("mapname")
    state.gametype = tointeger(tonumber(cvar("g_gametype")) or 0) or 0
    local current = tointeger(tonumber(cvar("g_currentRound")) or 0) or 0
    if current < 0 then
        current = 0
    end
    state.round = current + 1
end

-- Server ids go into file names, so they are limited to lower-case [a-z0-9-]: that keeps two
-- ids that differ only in case apart on a case-insensitive disk and never needs escaping.
local function slug(text)
    local id = gsub(gsub(string.lower(text), "[^a-z0-9]+", "-"), "^%-*(.-)%-*$", "%1")
    return (gsub(id:sub(1, MAX_SERVER_ID), "%-+$", ""))
end

-- Default: host name and port, so two servers on one machine (same name, other port) or two
-- machines (other names) differ. Setting etprox_server_id keeps the id when either changes.
local function derive_server_id(name)
    local port = tointeger(tonumber(cvar("net_port")) or 0) or 0
    port = port > 0 and tostring(port) or DEFAULT_PORT
    local base = slug(name):sub(1, MAX_SERVER_ID - #port - 1)
    base = gsub(base, "%-+$", "")
    if base == "" then
        base = "etserver"
    end
    return base .. "-" .. port
end

local function read_settings()
    state.server_name = strip_colours(cvar("sv_hostname"))
    local configured = cvar("etprox_server_id")
    local id = slug(configured)
    if id == "" then
        id = derive_server_id(state.server_name)
        state.server_id_note = "etprox_server_id is not set, so the id is derived from "
            .. "sv_hostname and net_port; set it to keep this server's history when either changes"
    elseif id ~= configured then
        state.server_id_note = fmt("etprox_server_id %q is used as %q (only a-z, 0-9 and -)",
            configured, id)
    else
        state.server_id_note = nil
    end
    state.server_id = id

    local dir = cvar("etprox_dir")
    if dir == "" then
        dir = DEFAULT_DIR
    end
    dir = gsub(gsub(dir, "\\", "/"), "^/+", "")
    if dir:find("..", 1, true) or dir:find("::", 1, true) then
        console("etprox_dir must not contain '..' or '::'; using " .. DEFAULT_DIR)
        dir = DEFAULT_DIR
    end
    if dir ~= "" and dir:sub(-1) ~= "/" then
        dir = dir .. "/"
    end
    state.dir = dir

    local maxc = tointeger(tonumber(cvar("sv_maxclients")) or 64) or 64
    if maxc < 1 or maxc > 64 then
        maxc = 64
    end
    state.max_clients = maxc
end

-- Next value of the process-wide round counter. It lives in a cvar because the Lua VM (and
-- everything in it) is rebuilt at every map_restart.
local function next_seq()
    local seq = (tointeger(tonumber(cvar("etprox_round_seq")) or 0) or 0) + 1
    if seq < 1 then
        seq = 1
    end
    pcall(et.trap_Cvar_Set, "etprox_round_seq", tostring(seq))
    return seq
end

local function begin_round(level_time)
    state.playing = true
    state.round_start_level_time = level_time
    state.start_unix = os.time()
    sample_round()
    state.seq = next_seq()
    -- start_unix alone repeats when a round is restarted within its first second; the counter
    -- does not repeat within a server process, and a new process starts in a later second.
    state.round_id = fmt("%s-%s-%s-%s-%s", state.server_id, int(state.start_unix), int(state.seq),
        state.map, int(state.round))
end

---------------------------------------------------------------------------------------------
-- Obituaries.

local ZERO = { 0.0, 0.0, 0.0 }

-- Escaped GUID of a slot ("" without a usable cl_guid). Cached until a client hook says the
-- slot's userinfo may have changed.
local function guid_of(slot)
    local g = guid_cache[slot]
    if g == nil then
        local info = et.trap_GetUserinfo(slot)
        g = type(info) == "string" and et.Info_ValueForKey(info, "cl_guid") or ""
        if type(g) ~= "string" then
            g = ""
        end
        -- Placeholders several clients share are no identity: key such players by name.
        local upper = string.upper(g)
        if upper == "UNKNOWN" or upper == "NO_GUID" then
            g = ""
        end
        g = escape_guid(g)
        guid_cache[slot] = g
    end
    return g
end

-- Escaped name of a slot. Names are read live (they change without a reconnect); escaping is
-- redone only when the raw name differs from the last one seen (short strings compare by
-- pointer in Lua).
local function name_of(get, slot)
    local n = get(slot, "pers.netname")
    if type(n) ~= "string" then
        return ""
    end
    if name_raw[slot] ~= n then
        name_raw[slot], name_escaped[slot] = n, escape(n)
        ally_refs[slot] = nil
    end
    return name_escaped[slot]
end

-- supporting_allies entry: <guid>:<escaped name> (the GUID is empty without cl_guid).
local function ally_ref(get, slot)
    local name = name_of(get, slot)
    local ref = ally_refs[slot]
    if ref == nil then
        ref = guid_of(slot) .. ":" .. name
        ally_refs[slot] = ref
    end
    return ref
end

-- Position readers: the fast one trusts the engine (1-based table of numbers); the guarded
-- one, used when a read failed, turns anything odd into zeros.
local function origin_fast(get, slot)
    local o = get(slot, "ps.origin")
    return o[1] + 0.0, o[2] + 0.0, o[3] + 0.0
end

local function origin_guarded(get, slot)
    local o = get(slot, "ps.origin")
    if type(o) ~= "table" then
        o = ZERO
    end
    return num(o[1]), num(o[2]), num(o[3])
end

-- `get` is et.gentity_get on the fast path, or a pcall-wrapped copy when a read raised;
-- `origin_of` is the matching position reader.
local function record_obituary(victim, killer, mod, get, origin_of)
    victim = tointeger(tonumber(victim))
    killer = tointeger(tonumber(killer)) or ENTITYNUM_WORLD
    if victim == nil or victim < 0 or victim >= 64 then
        error("obituary with invalid victim " .. tostring(victim))
    end
    local world = killer < 0 or killer >= 64
    if world then
        killer = ENTITYNUM_WORLD -- the spec's one world number, whatever non-client came in
    end

    local v_team = get(victim, "sess.sessionTeam")
    local vx, vy, vz = origin_guarded(get, victim)

    local k_team, kx, ky, kz, weapon
    if world then
        kx, ky, kz, weapon = vx, vy, vz, 0
    else
        k_team = get(killer, "sess.sessionTeam")
        kx, ky, kz = origin_guarded(get, killer)
        weapon = get(killer, "ps.weapon")
    end

    local kind
    if world then
        kind = "world"
    elseif killer == victim then
        kind = "suicide"
    elseif k_team == v_team and (k_team == TEAM_AXIS or k_team == TEAM_ALLIES) then
        kind = "teamkill"
    else
        kind = "kill"
    end

    -- Alive teammates within 300 units of each side (the victim is dead by now, and both
    -- sides are excluded explicitly).
    local killer_allies, victim_allies, support = 0, 0, {}
    -- Reads are ordered so the common rejections cost one engine call: dead or free slots
    -- (health), then spectators and the other team, and `pers.connected` only for a player
    -- already found within range.
    for slot = 0, state.max_clients - 1 do
        if slot ~= victim and slot ~= killer and (tonumber(get(slot, "health")) or 0) > 0 then
            local team = get(slot, "sess.sessionTeam")
            local playing = team == TEAM_AXIS or team == TEAM_ALLIES
            local near_killer = playing and team == k_team
            local near_victim = playing and team == v_team
            if near_killer or near_victim then
                local x, y, z = origin_of(get, slot)
                if near_killer then
                    local dx, dy, dz = x - kx, y - ky, z - kz
                    near_killer = dx * dx + dy * dy + dz * dz <= ALLY_RADIUS_SQ
                end
                if near_victim then
                    local dx, dy, dz = x - vx, y - vy, z - vz
                    near_victim = dx * dx + dy * dy + dz * dz <= ALLY_RADIUS_SQ
                end
                if (near_killer or near_victim) and get(slot, "pers.connected") == CON_CONNECTED then
                    if near_killer then
                        killer_allies = killer_allies + 1
                        support[killer_allies] = ally_ref(get, slot)
                    end
                    if near_victim then
                        victim_allies = victim_allies + 1
                    end
                end
            end
        end
    end

    local dx, dy, dz = kx - vx, ky - vy, kz - vz
    local distance = math.sqrt(dx * dx + dy * dy + dz * dz)

    local killer_guid, killer_name, killer_team = "", "", "WORLD"
    if not world then
        killer_guid = guid_of(killer)
        killer_name = name_of(get, killer)
        killer_team = TEAM_NAME[k_team] or "FREE"
    end

    kills[#kills + 1] = concat({
        int(state.level_time - state.round_start_level_time), kind,
        int(killer), killer_guid, killer_name, killer_team,
        fmt("%.1f", kx), fmt("%.1f", ky), fmt("%.1f", kz),
        int(victim), guid_of(victim), name_of(get, victim), TEAM_NAME[v_team] or "FREE",
        fmt("%.1f", vx), fmt("%.1f", vy), fmt("%.1f", vz),
        fmt("%.1f", distance), int(weapon), int(mod),
        int(killer_allies), int(victim_allies), concat(support, ","),
    }, "|")
end

local function safe_get(slot, field)
    local ok, v = pcall(gentity_get, slot, field)
    if ok then
        return v
    end
    return nil
end

---------------------------------------------------------------------------------------------
-- Round file.

local function file_map_part(map)
    local s = gsub(map, "[^%w_%-]", "_")
    if s == "" then
        s = "unknown"
    end
    return s
end

local function round_file_text(status)
    local header = {
        "# ETPROX_ROUND v3",
        "# server_id=" .. escape(state.server_id),
        "# server_name=" .. escape(state.server_name),
        "# map=" .. escape(state.map),
        "# gametype=" .. int(state.gametype),
        "# round=" .. int(state.round),
        "# round_id=" .. escape(state.round_id),
        "# start_unix=" .. int(state.start_unix),
        "# end_unix=" .. int(state.end_unix),
        "# status=" .. status,
        "# mod_family=etlegacy",
        FORMAT_LINE,
    }
    local body = concat(kills, "\n")
    if body ~= "" then
        body = body .. "\n"
    end
    return concat(header, "\n") .. "\n" .. body .. "# END kills=" .. int(#kills) .. "\n"
end

local function open_for_read(name)
    local ok, fd, len = pcall(et.trap_FS_FOpenFile, name, FS_READ)
    if not ok or fd == nil or fd == 0 then
        return nil
    end
    return fd, tonumber(len) or -1
end

local function close(fd)
    pcall(et.trap_FS_FCloseFile, fd)
end

-- Writes `data` to `tmp` and makes sure all of it is there; returns nil, or why it is not.
-- trap_FS_Write returns the bytes written (0 when fwrite came up short), but writes are
-- buffered, so a full disk may only show when the file is closed, and trap_FS_FCloseFile
-- reports nothing. Hence the file is read back after closing and compared.
local function write_checked(tmp, data)
    local fd, len = et.trap_FS_FOpenFile(tmp, FS_WRITE)
    if fd == nil or fd == 0 or (tonumber(len) or 0) < 0 then
        return "cannot open " .. tmp .. " for writing"
    end
    local written, failure = 0, nil
    local ok, err = pcall(function()
        for i = 1, #data, WRITE_CHUNK do
            local chunk = data:sub(i, i + WRITE_CHUNK - 1)
            local n = tonumber(et.trap_FS_Write(chunk, #chunk, fd)) or 0
            if n ~= #chunk then
                failure = fmt("writing %s stopped after %s of %s bytes (disk full?)", tmp,
                    int(written + math.max(n, 0)), int(#data))
                return
            end
            written = written + n
        end
    end)
    close(fd)
    if not ok then
        return tostring(err)
    end
    if failure then
        return failure
    end
    local rfd, on_disk = open_for_read(tmp)
    if rfd == nil then
        return "cannot read back " .. tmp
    end
    local same = false
    if on_disk == #data then
        local read_ok, back = pcall(et.trap_FS_Read, rfd, #data)
        same = read_ok and back == data
    end
    close(rfd)
    if on_disk ~= #data then
        return fmt("%s holds %s of %s bytes after closing (disk full?)", tmp, int(on_disk), int(#data))
    end
    if not same then
        return tmp .. " reads back different from what was written"
    end
    return nil
end

-- Empties a cut temporary file, giving its space back to the disk it filled.
local function truncate(name)
    local ok, fd = pcall(et.trap_FS_FOpenFile, name, FS_WRITE)
    if ok and fd ~= nil and fd ~= 0 then
        close(fd)
    end
end

local function file_name(seq)
    return fmt("%s%s-%s-round-%s_etprox_%s_%s.txt", state.dir,
        os.date("!%Y-%m-%d-%H%M%S", state.end_unix), file_map_part(state.map), int(state.round),
        state.server_id, int(seq))
end

-- Puts `data` in place under `name`, or under the same name with a fresh counter value when
-- `name` is taken (two servers given the same etprox_server_id): never replaces another file.
-- Returns nil and the name used, or why it failed.
local function place(name, data)
    local free = false
    for _ = 1, 20 do
        local fd = open_for_read(name)
        if fd == nil then
            free = true
            break
        end
        close(fd)
        name = gsub(name, "_%d+%.txt$", "_" .. int(next_seq()) .. ".txt")
    end
    if not free then
        return "no free file name near " .. name
    end
    local tmp = name .. ".tmp"
    local failure = write_checked(tmp, data)
    if failure then
        truncate(tmp)
        return failure
    end
    et.trap_FS_Rename(tmp, name)
    return nil, name
end

---------------------------------------------------------------------------------------------
-- Rounds that outlive their VM. The VM ends with the map; a round the disk could not take by
-- then is kept in RAM-backed storage (etprox_spill_dir, default /dev/shm, a tmpfs on Linux)
-- and listed in the cvar etprox_pending, which survives the VM, until a later round end or
-- shutdown writes it. It does not survive a server restart or a reboot.

local function spill_dir()
    local dir = cvar("etprox_spill_dir")
    if dir == "" then
        dir = DEFAULT_SPILL_DIR
    end
    return (gsub(dir, "/+$", ""))
end

local function spill_path(seq)
    return fmt("%s/etprox-%s-%s.round", spill_dir(), state.server_id, seq)
end

local function pending_list()
    local list = {}
    for seq in string.gmatch(cvar("etprox_pending"), "%d+") do
        list[#list + 1] = seq
    end
    return list
end

local function set_pending(list)
    pcall(et.trap_Cvar_Set, "etprox_pending", concat(list, " "))
end

-- Keeps the current round outside the VM; returns nil, or why that failed.
local function spill()
    if type(io) ~= "table" or type(os) ~= "table" then
        return "the Lua io library is not available"
    end
    local list = pending_list()
    if #list >= MAX_SPILLED then
        return fmt("%s rounds already wait in %s", int(#list), spill_dir())
    end
    local path = spill_path(int(state.seq))
    local text = file_name(state.seq) .. "\n" .. round_file_text(state.pending)
    local f, err = io.open(path, "wb")
    if not f then
        return "cannot keep it in " .. tostring(err)
    end
    local wrote = f:write(text)
    local closed = f:close()
    local back
    local r = io.open(path, "rb")
    if r then
        back = r:read("*a")
        r:close()
    end
    if not wrote or not closed or back ~= text then
        os.remove(path)
        return "cannot keep it in " .. path .. " (full?)"
    end
    list[#list + 1] = int(state.seq)
    set_pending(list)
    console(fmt("error: round %s (%s kills) could not be written before the map ended; it is "
        .. "kept in %s and written at the next round end", state.round_id, int(#kills), path))
    return nil
end

-- Writes rounds kept by earlier VMs; those that still fail stay listed.
local function flush_spilled()
    local list = pending_list()
    if #list == 0 or type(io) ~= "table" then
        return
    end
    local keep = {}
    for _, seq in ipairs(list) do
        local path = spill_path(seq)
        local f = io.open(path, "rb")
        local text = f and f:read("*a")
        if f then
            f:close()
        end
        local name, data = nil, nil
        if type(text) == "string" then
            name, data = string.match(text, "^([^\n]+)\n(.*)$")
        end
        if name == nil then
            console("error: the kept round " .. path .. " is gone or unreadable; that round is lost")
        else
            local failure, final = place(name, data)
            if failure then
                keep[#keep + 1] = seq
            else
                os.remove(path)
                console(fmt("wrote %s (kept from an earlier map)", final))
            end
        end
    end
    set_pending(keep)
end

-- One attempt to write the ended round; true once the file is in place.
local function try_write()
    if state.written then
        return true
    end
    state.write_attempts = state.write_attempts + 1
    local status = state.pending
    local failure, final = place(file_name(state.seq), round_file_text(status))
    if not failure then
        state.written = true
        local retried = state.write_attempts > 1
            and fmt(", after %s attempts", int(state.write_attempts)) or ""
        console(fmt("wrote %s (%s, %s kills%s)", final, status, int(#kills), retried))
        return true
    end
    state.next_retry = state.level_time + RETRY_MS
    if failure ~= state.last_failure then
        state.last_failure = failure
        console(fmt("error: could not write round %s (%s kills): %s; the round is kept in memory "
            .. "and retried every %s s and at shutdown", state.round_id, int(#kills), failure,
            int(RETRY_MS / 1000)))
    end
    return false
end

---------------------------------------------------------------------------------------------
-- Engine callbacks.

et_InitGame = protect("et_InitGame", function(level_time, _random_seed, _restart)
    state.level_time = tonumber(level_time) or 0
    read_settings()
    sample_round()
    if gamestate() == GS_PLAYING then
        begin_round(state.level_time)
    end
    local game = cvar("fs_game")
    if game == "" then
        game = "legacy"
    end
    console(fmt("v%s running: round files go to %s/%s/%s (server_id=%s)", VERSION,
        cvar("fs_homepath"), game, state.dir, state.server_id))
    if state.server_id_note then
        console(state.server_id_note)
    end
end)

et_RunFrame = protect("et_RunFrame", function(level_time)
    state.level_time = tonumber(level_time) or state.level_time
    if state.ended then
        if not state.written and state.level_time >= state.next_retry and try_write() then
            flush_spilled()
        end
        return
    end
    local gs = gamestate()
    if gs == GS_PLAYING then
        if not state.playing then
            begin_round(state.level_time)
        end
    elseif gs == GS_INTERMISSION and state.playing then
        state.ended = true
        state.end_unix = os.time()
        state.pending = "complete"
        if try_write() then
            flush_spilled()
        end
    end
end)

et_Obituary = protect("et_Obituary", function(victim, killer, mod)
    if not state.playing or state.ended then
        return
    end
    local ok, err = pcall(record_obituary, victim, killer, mod, gentity_get, origin_fast)
    if not ok then
        report("et_Obituary", err)
        -- Retry with every read guarded, so one bad field does not lose the kill.
        ok, err = pcall(record_obituary, victim, killer, mod, safe_get, origin_guarded)
        if not ok then
            report("et_Obituary (guarded retry)", err)
        end
    end
end)

et_ShutdownGame = protect("et_ShutdownGame", function(_restart)
    if state.playing and not state.written then
        if not state.ended then
            state.ended = true
            state.end_unix = os.time()
            state.pending = "incomplete"
        end
        -- Last chance in this VM: it and the round in it are gone after this callback.
        if not try_write() then
            local why = spill()
            if why then
                console(fmt("error: round %s (%s kills) is LOST: %s; and %s. Free space under "
                    .. "%s so the next rounds can be written", state.round_id, int(#kills),
                    tostring(state.last_failure), why, state.dir))
            end
        end
    end
    if not state.playing or state.written then
        flush_spilled()
    end
    for where, n in pairs(error_counts) do
        if n > 1 then
            console(fmt("%s errors in %s this round", int(n), where))
        end
    end
end)

local function forget_guid(slot)
    local s = tointeger(tonumber(slot))
    if s then
        guid_cache[s], name_raw[s], name_escaped[s], ally_refs[s] = nil, nil, nil, nil
    end
end

et_ClientConnect = protect("et_ClientConnect", forget_guid)
et_ClientBegin = protect("et_ClientBegin", forget_guid)
et_ClientUserinfoChanged = protect("et_ClientUserinfoChanged", forget_guid)
et_ClientDisconnect = protect("et_ClientDisconnect", forget_guid)
