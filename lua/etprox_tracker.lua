-- etprox_tracker.lua: ET:Legacy (Lua 5.4) game-server module for etprox.
--
-- Records every obituary of a round (kills, team kills, suicides, world kills) with both sides'
-- slots, GUIDs, names, teams, positions, nearby allies and the time since round start, and
-- (since 1.2) the rest of the fight: who played when, every damage event between players,
-- shots per weapon, medic revives, objective plays (flag/documents, dynamite, constructions),
-- spawns and a presence sample of every living player once a second. It writes one v3 round
-- file per round (docs/round-file-format.md in the etprox repository):
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
local VERSION = "1.2"

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
-- Fight sections (tracker 1.2): lines are built as strings when the event happens and kept in
-- arrays, so writing the round is one concat per section.
local roster = {}       -- p + 1 -> { slot, guid, name, team, from_ms, to_ms (nil while open) }
local damage_lines = {}
local shots = {}        -- p * 256 + weapon -> shots fired
local revive_lines = {}
local objective_lines = {}
local spawn_lines = {}
local presence_lines = {}
-- Per-slot identity currently on the roster (cleared when it leaves play).
local cur_idx, cur_team, cur_name, cur_guid = {}, {}, {}, {}
local head_hits = {}    -- slot -> last pers.playerStats.hitRegions[HR_HEAD] seen
local down_at = {}      -- slot -> t_ms of its last obituary as victim
local carriers = {}     -- slot -> { target = escaped message, team = label, since = t_ms }
local plants = {}       -- slot .. "|" .. track -> { p, team, x, y, z } of the last plant
local pending_item = nil -- { slot, level_time } of the last objective "Item:" line
local last_announce = nil -- { text (escaped), level_time } of the last "announce:" line
local presence_second = -1
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
    if state.on_round_start then
        state.on_round_start()
    end
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
-- The fight (tracker 1.2): roster, damage, shots, revives, objectives, spawns, presence.

local HR_HEAD = 0
local DAMAGE_RADIUS = 1
local PLAYING_TEAM = { [TEAM_AXIS] = true, [TEAM_ALLIES] = true }
local POPUP_TEAM = { axis = "AXIS", allies = "ALLIES" }
-- Announcements that say an item reached its goal (map scripts word them freely; see
-- docs/round-file-format.md, "Engine events relied on").
local SECURE_WORDS = { "secur", "captur", "transmit", "deliver", "escape" }

-- Two base-64 digits per number 0..4095 (presence samples), built once.
local B64 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
local B2 = {}
for v = 0, 4095 do
    local hi, lo = floor(v / 64) + 1, v % 64 + 1
    B2[v] = B64:sub(hi, hi) .. B64:sub(lo, lo)
end

local function now_ms()
    return tointeger(floor(state.level_time - state.round_start_level_time)) or 0
end

-- Position fields "x|y|z" with one decimal, as in kill lines.
local function pos3(x, y, z)
    return fmt("%.1f|%.1f|%.1f", x, y, z)
end

local function close_identity(slot, t)
    local i = cur_idx[slot]
    if i then
        local r = roster[i + 1]
        r.to_ms = math.max(t, r.from_ms) -- level time never runs back, but keep from <= to
        cur_idx[slot] = nil
    end
end

-- Roster index of the identity that holds `slot` now (team and raw name as just read); a new
-- roster line when the GUID, name or team differs from the slot's current one.
local function pidx_of(slot, team, name)
    if type(name) ~= "string" then
        name = ""
    end
    local guid = guid_of(slot)
    local i = cur_idx[slot]
    if i and cur_team[slot] == team and cur_name[slot] == name and cur_guid[slot] == guid then
        return i
    end
    local t = now_ms()
    close_identity(slot, t)
    i = #roster
    roster[i + 1] = { slot = slot, guid = guid, name = escape(name),
        team = TEAM_NAME[team] or "FREE", from_ms = t }
    cur_idx[slot], cur_team[slot], cur_name[slot], cur_guid[slot] = i, team, name, guid
    return i
end

local function pidx(slot)
    local team = gentity_get(slot, "sess.sessionTeam")
    if team == nil then
        return nil, nil
    end
    return pidx_of(slot, team, gentity_get(slot, "pers.netname")), team
end

local function valid_slot(v)
    v = tointeger(tonumber(v))
    if v and v >= 0 and v < 64 then
        return v
    end
    return nil
end

-- Head hits of a client. An engine without the field (older than the facts this module was
-- written against) raises; then headshots are not flagged, and damage is still recorded.
local head_field = true
local function head_count(slot)
    if not head_field then
        return 0
    end
    local ok, v = pcall(gentity_get, slot, "pers.playerStats.hitRegions", HR_HEAD)
    if not ok then
        head_field = false
        console("note: this engine has no pers.playerStats.hitRegions; headshots are not "
            .. "flagged in damage lines (" .. tostring(v) .. ")")
        return 0
    end
    return tonumber(v) or 0
end

-- Engine counters survive in the client across VMs; the baseline is taken whenever a life
-- begins, so only this round's headshots count.
local function reset_head_count(slot)
    head_hits[slot] = head_count(slot)
end

local function record_damage(target, attacker, damage, flags, mod)
    target, attacker = valid_slot(target), valid_slot(attacker)
    if target == nil or attacker == nil or target == attacker then
        return
    end
    local health = gentity_get(target, "health")
    local ti, tteam = pidx(target)
    local ai, ateam = pidx(attacker)
    if ti == nil or ai == nil then
        return
    end
    local f = ""
    local heads = head_count(attacker)
    if heads > (head_hits[attacker] or 0) then
        f = "h"
    end
    head_hits[attacker] = heads
    if ateam == tteam and PLAYING_TEAM[ateam] then
        f = f .. "t"
    end
    flags = tointeger(tonumber(flags)) or 0
    if flags % (2 * DAMAGE_RADIUS) >= DAMAGE_RADIUS then
        f = f .. "s"
    end
    damage_lines[#damage_lines + 1] = now_ms() .. "|" .. ai .. "|" .. ti .. "|" .. int(damage)
        .. "|" .. int(health) .. "|" .. int(mod) .. "|" .. f
end

local function record_shot(slot, weapon)
    slot = valid_slot(slot)
    weapon = tointeger(tonumber(weapon))
    if slot == nil or weapon == nil or weapon < 0 or weapon > 255 then
        return
    end
    local i = pidx(slot)
    if i then
        local key = i * 256 + weapon
        shots[key] = (shots[key] or 0) + 1
    end
end

local function record_revive(revivee, reviver)
    revivee = valid_slot(revivee)
    if revivee == nil then
        return
    end
    local medic = valid_slot(reviver)
    local ri = pidx(revivee)
    if ri == nil then
        return
    end
    local mi = medic and medic ~= revivee and pidx(medic) or nil
    local x, y, z = origin_guarded(gentity_get, revivee)
    local t = now_ms()
    local down = down_at[revivee]
    down_at[revivee] = nil
    revive_lines[#revive_lines + 1] = t .. "|" .. ri .. "|" .. (mi or "") .. "|" .. pos3(x, y, z)
        .. "|" .. (down and int(t - down) or "")
end

local function record_spawn(slot, revived)
    slot = valid_slot(slot)
    if slot == nil then
        return
    end
    reset_head_count(slot)
    local i = pidx(slot)
    if i then
        spawn_lines[#spawn_lines + 1] = now_ms() .. "|" .. i .. "|"
            .. ((tonumber(revived) or 0) ~= 0 and "1" or "0")
    end
end

-- One objective line; `slot` nil for an act without a player (time-out return).
local function objective(slot, team, action, target, x, y, z, p)
    if p == nil and slot ~= nil then
        p = pidx(slot)
    end
    local where = "||"
    if x then
        where = pos3(x, y, z)
    end
    objective_lines[#objective_lines + 1] = now_ms() .. "|" .. (p or "") .. "|" .. team .. "|"
        .. action .. "|" .. target .. "|" .. where
end

local function team_of(slot)
    return TEAM_NAME[gentity_get(slot, "sess.sessionTeam")] or "FREE"
end

local function act(slot, action, target)
    local x, y, z = origin_guarded(gentity_get, slot)
    objective(slot, team_of(slot), action, target, x, y, z)
    return x, y, z
end

-- A carrier's obituary drops the item where the carrier died.
local function carrier_down(victim)
    local c = carriers[victim]
    if c then
        carriers[victim] = nil
        local x, y, z = origin_guarded(gentity_get, victim)
        objective(victim, c.team, "drop", c.target, x, y, z)
    end
end

local function secure(text)
    local lower = string.lower(text)
    local found = false
    for _, w in ipairs(SECURE_WORDS) do
        if lower:find(w, 1, true) then
            found = true
            break
        end
    end
    if not found then
        return
    end
    -- The carrier whose item the text names, else the one who has held an item longest.
    local best, best_slot
    for slot, c in pairs(carriers) do
        local named = c.plain ~= "" and lower:find(c.plain, 1, true) ~= nil
        if best == nil or (named and not best.named)
            or (named == best.named and (c.since < best.since
                or (c.since == best.since and slot < best_slot))) then
            best, best_slot = { named = named, since = c.since }, slot
        end
    end
    if best_slot then
        local c = carriers[best_slot]
        carriers[best_slot] = nil
        local x, y, z = origin_guarded(gentity_get, best_slot)
        objective(best_slot, c.team, "secure", escape(text), x, y, z)
    end
end

-- et_Print text: only whole lines in the engine's own formats count; chat lines start with
-- "say:" etc. and never match, and MODNAME holds no ':' (so "say: popup: ..." does not either).
local function on_print(text)
    if type(text) ~= "string" then
        return
    end
    local line = string.match(text, "^([^\n]*)\n?$")
    if line == nil then
        return
    end
    local c = byte(line, 1)
    if c == 73 then -- 'I'
        local slot, class = string.match(line, "^Item: (%d+) (team_CTF_%a+)$")
        if slot and (class == "team_CTF_redflag" or class == "team_CTF_blueflag") then
            pending_item = { slot = valid_slot(slot), level_time = state.level_time }
        end
        return
    elseif c == 68 then -- 'D'
        local slot, track = string.match(line, "^Dynamite_Plant: (%d+) (.*)$")
        if slot then
            slot = valid_slot(slot)
            if slot then
                local p = pidx(slot)
                local team = team_of(slot)
                local x, y, z = origin_guarded(gentity_get, slot)
                local target = escape(track)
                objective(slot, team, "plant", target, x, y, z, p)
                plants[slot .. "|" .. track] = { p = p, team = team, x = x, y = y, z = z }
            end
            return
        end
        slot, track = string.match(line, "^Dynamite_Diffuse: (%d+) (.*)$")
        slot = valid_slot(slot)
        if slot then
            act(slot, "defuse", escape(track))
        end
        return
    elseif c == 79 then -- 'O'
        local slot, track = string.match(line, "^Objective_Destroyed: (%d+) (.*)$")
        slot = valid_slot(slot)
        if slot then
            local pl = plants[slot .. "|" .. track]
            if pl then
                objective(slot, pl.team, "destroy", escape(track), pl.x, pl.y, pl.z, pl.p)
            else
                objective(slot, team_of(slot), "destroy", escape(track))
            end
        end
        return
    elseif c == 82 then -- 'R'
        local slot = valid_slot(string.match(line, "^Repair: (%d+)$"))
        if slot then
            local target = ""
            if last_announce and last_announce.level_time == state.level_time then
                target = last_announce.text
            end
            act(slot, "build", target)
        end
        return
    end
    local team, verb, msg = string.match(line, '^[^%s:]+ popup: %^7(%a*)%^7 (%a+) "(.*)"$')
    if team then
        local label = POPUP_TEAM[team]
        if label == nil or (verb ~= "stole" and verb ~= "returned") then
            return
        end
        local item = pending_item
        pending_item = nil
        local slot = item and item.level_time == state.level_time and item.slot or nil
        local target = escape(msg)
        if verb == "stole" then
            if slot then
                act(slot, "steal", target)
                carriers[slot] = { target = target, team = label, since = now_ms(),
                    plain = string.lower(msg) }
            else
                objective(nil, label, "steal", target)
            end
        elseif slot then
            act(slot, "return", target)
        else
            objective(nil, label, "return", target)
        end
        return
    end
    local said = string.match(line, '^[^%s:]+ announce: "%^7(.*)"$')
    if said then
        last_announce = { text = escape(said), level_time = state.level_time }
        if next(carriers) then
            secure(said)
        end
    end
end

-- Presence: once per second of play, one 6-character group per living AXIS/ALLIES player;
-- the same sweep keeps the roster's identities and their play times current.
local function quantize(v)
    local q = floor(num(v) / 16) + 2048
    if q < 0 then
        return 0
    elseif q > 4095 then
        return 4095
    end
    return tointeger(q) or 0
end

-- `second` nil: the roster only (round start), no presence line.
local function presence_sweep(second)
    local get = gentity_get
    local t = now_ms()
    local parts, n = {}, 0
    for slot = 0, state.max_clients - 1 do
        local team = get(slot, "sess.sessionTeam")
        if team == TEAM_AXIS or team == TEAM_ALLIES then
            local i = pidx_of(slot, team, get(slot, "pers.netname"))
            if second and (tonumber(get(slot, "health")) or 0) > 0 and get(slot, "pers.connected") == CON_CONNECTED
                and i < 4096 then
                local o = get(slot, "ps.origin")
                if type(o) == "table" then
                    n = n + 1
                    parts[n] = B2[i] .. B2[quantize(o[1])] .. B2[quantize(o[2])]
                end
            end
        elseif cur_idx[slot] then
            close_identity(slot, t) -- left play: spectator or free slot
        end
    end
    if second then
        presence_lines[#presence_lines + 1] = second .. "|" .. concat(parts)
    end
end

local function fight_round_start()
    presence_second = -1
    for slot = 0, state.max_clients - 1 do
        reset_head_count(slot)
    end
    local ok, err = pcall(presence_sweep, nil)
    if not ok then
        report("roster", err)
    end
end

-- The fight sections, in the contract's order, and their counts for the end marker.
local function fight_sections()
    local out, counts = {}, {}
    local function section(name, format, lines)
        out[#out + 1] = "# SECTION " .. name .. "\n# FORMAT: " .. format .. "\n"
        if #lines > 0 then
            out[#out + 1] = concat(lines, "\n") .. "\n"
        end
        counts[#counts + 1] = name .. "=" .. int(#lines)
    end
    local t_end = tointeger(floor((state.end_level_time or state.level_time)
        - state.round_start_level_time)) or 0
    local players = {}
    for i, r in ipairs(roster) do
        players[i] = (i - 1) .. "|" .. r.slot .. "|" .. r.guid .. "|" .. r.name .. "|" .. r.team
            .. "|" .. int(r.from_ms) .. "|" .. int(r.to_ms or math.max(t_end, r.from_ms))
    end
    local shot_keys = {}
    for key in pairs(shots) do
        shot_keys[#shot_keys + 1] = key
    end
    table.sort(shot_keys)
    local shot_lines = {}
    for i, key in ipairs(shot_keys) do
        shot_lines[i] = int(floor(key / 256)) .. "|" .. int(key % 256) .. "|" .. shots[key]
    end
    section("players", "p|slot|guid|name|team|from_ms|to_ms", players)
    section("damage", "t_ms|attacker|target|damage|health|mod|flags", damage_lines)
    section("shots", "player|weapon|shots", shot_lines)
    section("revives", "t_ms|revived|medic|x|y|z|down_ms", revive_lines)
    section("objectives", "t_ms|player|team|action|target|x|y|z", objective_lines)
    section("spawns", "t_ms|player|revived", spawn_lines)
    section("presence", "t_s|samples", presence_lines)
    return concat(out), concat(counts, " ")
end

state.on_round_start = fight_round_start

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
        "# tracker=" .. VERSION,
        FORMAT_LINE,
    }
    local body = concat(kills, "\n")
    if body ~= "" then
        body = body .. "\n"
    end
    local sections, counts = fight_sections()
    return concat(header, "\n") .. "\n" .. body .. sections .. "# END kills=" .. int(#kills)
        .. " " .. counts .. "\n"
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
        local second = floor((state.level_time - state.round_start_level_time) / 1000)
        if second > presence_second then
            presence_second = second
            local ok, err = pcall(presence_sweep, tointeger(second) or 0)
            if not ok then
                report("presence", err)
            end
        end
    elseif gs == GS_INTERMISSION and state.playing then
        state.ended = true
        state.end_unix = os.time()
        state.end_level_time = state.level_time
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
    local v = valid_slot(victim)
    if v then
        down_at[v] = now_ms()
        if carriers[v] then
            local ok, err = pcall(carrier_down, v)
            if not ok then
                report("et_Obituary (carrier drop)", err)
            end
        end
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
            state.end_level_time = state.level_time
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

local function in_play()
    return state.playing and not state.ended
end

et_ClientConnect = protect("et_ClientConnect", function(slot)
    forget_guid(slot)
    local s = valid_slot(slot)
    if s then
        reset_head_count(s)
    end
end)
et_ClientBegin = protect("et_ClientBegin", forget_guid)
et_ClientUserinfoChanged = protect("et_ClientUserinfoChanged", forget_guid)
et_ClientDisconnect = protect("et_ClientDisconnect", function(slot)
    forget_guid(slot)
    local s = valid_slot(slot)
    if s then
        carriers[s], down_at[s] = nil, nil
        if in_play() then
            close_identity(s, now_ms())
        end
        cur_idx[s] = nil
    end
end)

-- Callbacks of the fight. None of them returns a value: for et_Damage and et_WeaponFire a
-- returned 1 would cancel the hit or the shot.
et_Damage = protect("et_Damage", function(target, attacker, damage, flags, mod)
    if in_play() then
        record_damage(target, attacker, damage, flags, mod)
    end
end)

et_WeaponFire = protect("et_WeaponFire", function(slot, weapon)
    if in_play() then
        record_shot(slot, weapon)
    end
end)

et_Revive = protect("et_Revive", function(revivee, reviver, _invuln_end)
    if in_play() then
        record_revive(revivee, reviver)
    end
end)

et_ClientSpawn = protect("et_ClientSpawn", function(slot, revived, _team_change, _restore)
    if in_play() then
        record_spawn(slot, revived)
    end
end)

et_Print = protect("et_Print", function(text)
    if in_play() then
        on_print(text)
    end
end)
