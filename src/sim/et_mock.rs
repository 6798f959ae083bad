//! A mock of the ET:Legacy Lua API (docs/reference/et-engine-facts.md §3) on real Lua 5.4 (mlua, vendored).
//!
//! It owns what the engine owns: client slots, cvars, level time, the process clock and a file
//! system rooted at `<fs_homepath>/<fs_game>`. Where the engine's behaviour is a trap for a
//! module, the mock behaves the same way:
//! - `et.gentity_get` raises on an unknown field (`sess.guid` included), returns vec3 fields as
//!   new 1-based tables of floats and `nil` for client fields of a free slot;
//! - `gamestate` is a string cvar; `trap_Milliseconds` is level time plus an offset;
//! - a slot may lack `cl_guid` in its userinfo;
//! - one Lua VM lives from [`EtMock::start_vm`] to [`EtMock::shutdown_vm`], like a map load or a
//!   `map_restart`, so nothing survives in Lua between rounds.
//!
//! Errors that escape a callback are collected in [`EtMock::escaped_errors`]; the engine would
//! print them and carry on, a test should find none.

use std::cell::{Ref, RefCell, RefMut};
use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use mlua::{IntoLuaMulti, Lua, MultiValue, Value};

/// `ENTITYNUM_WORLD`: the killer number of an obituary without a killing client.
pub const ENTITYNUM_WORLD: i64 = 1022;
/// `MAX_CLIENTS`.
pub const MAX_CLIENTS: usize = 64;
/// `CON_CONNECTING` / `CON_CONNECTED` (g_local.h clientConnected_t).
pub const CON_CONNECTING: i64 = 1;
pub const CON_CONNECTED: i64 = 2;
/// The `SVF_BOT` bit of `r.svFlags`.
pub const SVF_BOT: i64 = 8;

/// `team_t` as the engine numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Team {
    Free = 0,
    Axis = 1,
    Allies = 2,
    Spectator = 3,
}

impl Team {
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The team as round files spell it.
    pub fn label(self) -> &'static str {
        match self {
            Team::Free => "FREE",
            Team::Axis => "AXIS",
            Team::Allies => "ALLIES",
            Team::Spectator => "SPECTATOR",
        }
    }

    pub fn is_playing(self) -> bool {
        matches!(self, Team::Axis | Team::Allies)
    }

    pub fn opponent(self) -> Team {
        match self {
            Team::Axis => Team::Allies,
            Team::Allies => Team::Axis,
            other => other,
        }
    }
}

/// One occupied client slot, as the engine's `gclient_t` and userinfo would show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// `pers.netname`: raw bytes, at most 35, colour codes kept.
    pub name: Vec<u8>,
    /// `cl_guid` in the userinfo; `None` when the key is absent.
    pub guid: Option<String>,
    pub team: Team,
    pub health: i64,
    /// `pers.connected` (`CON_CONNECTING` or `CON_CONNECTED`).
    pub connected: i64,
    /// `ps.origin`.
    pub origin: [f64; 3],
    /// `ps.weapon`.
    pub weapon: i64,
    pub is_bot: bool,
    /// `pers.playerStats.hitRegions`: hits this client scored per region (HR_HEAD 0, HR_ARMS 1,
    /// HR_BODY 2, HR_LEGS 3); the engine raises it before `et_Damage` runs.
    pub hit_regions: [i64; 4],
}

impl Client {
    /// Alive and on a playing team: what "alive teammate" means for ally counts.
    pub fn is_alive_player(&self) -> bool {
        self.connected == CON_CONNECTED && self.health > 0 && self.team.is_playing()
    }
}

/// A file-system call the module made, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum FsOp {
    Open { path: String, mode: i64, fd: i64 },
    Write { fd: i64, bytes: usize },
    Close { fd: i64 },
    Rename { from: String, to: String },
}

/// Failures a test can switch on.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// `gentity_get(slot, field)` raises for these pairs (`None` = every slot).
    pub gentity_get_raises: Vec<(Option<i64>, String)>,
    /// Opening a file for writing fails (fd 0, len -1), as on a full or read-only disk.
    pub fail_open_write: bool,
    /// The disk under `fs_root` holds at most this many bytes (all files together): a write
    /// beyond it keeps what fits and drops the rest, as on a full disk. `None`: no limit.
    pub disk_capacity: Option<u64>,
    /// How a write that did not fit is reported. `false`: `trap_FS_Write` returns 0, as the
    /// engine's `FS_Write` does when `fwrite` comes up short. `true`: it returns the full
    /// count, as when the bytes sit in stdio's buffer and are lost at `fclose`, which
    /// `trap_FS_FCloseFile` does not report.
    pub loss_shows_only_at_close: bool,
}

/// The engine-side state the mock API reads and writes.
#[derive(Debug)]
pub struct ServerState {
    pub clients: Vec<Option<Client>>,
    pub cvars: HashMap<String, Vec<u8>>,
    /// Server level time in ms (it does not restart per map).
    pub level_time: i64,
    /// `trap_Milliseconds() = level_time + ms_offset`.
    pub ms_offset: i64,
    /// `os.time() = unix_at_level_zero + level_time / 1000`, so file names are reproducible.
    pub unix_at_level_zero: i64,
    /// `<fs_homepath>/<fs_game>`: where relative module paths land.
    pub fs_root: PathBuf,
    pub console: Vec<String>,
    pub fs_ops: Vec<FsOp>,
    pub faults: Faults,
    /// Number of `et.gentity_get` calls, for cost measurements.
    pub gentity_get_calls: u64,
    open_files: HashMap<i64, fs::File>,
    next_fd: i64,
}

impl ServerState {
    fn new(fs_root: PathBuf) -> Self {
        let mut cvars = HashMap::new();
        for (k, v) in [
            ("gamestate", "-1"),
            ("g_gametype", "3"),
            ("g_currentRound", "0"),
            ("mapname", "goldrush"),
            ("sv_hostname", "^1etprox ^7test server"),
            ("sv_maxclients", "64"),
            ("fs_game", "legacy"),
        ] {
            cvars.insert(k.to_string(), v.as_bytes().to_vec());
        }
        let home = fs_root
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        cvars.insert("fs_homepath".to_string(), home.into_bytes());
        Self {
            clients: vec![None; MAX_CLIENTS],
            cvars,
            level_time: 0,
            ms_offset: 0,
            unix_at_level_zero: 1_763_500_000,
            fs_root,
            console: Vec::new(),
            fs_ops: Vec::new(),
            faults: Faults::default(),
            gentity_get_calls: 0,
            open_files: HashMap::new(),
            next_fd: 1,
        }
    }

    pub fn client(&self, slot: usize) -> Option<&Client> {
        self.clients.get(slot).and_then(Option::as_ref)
    }

    pub fn cvar(&self, name: &str) -> &[u8] {
        self.cvars.get(name).map(Vec::as_slice).unwrap_or(b"")
    }

    pub fn set_cvar(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.cvars.insert(name.to_string(), value.as_ref().to_vec());
    }

    /// The userinfo string the engine would hand out for `slot` (`""` for a free slot).
    pub fn userinfo(&self, slot: i64) -> Vec<u8> {
        let Some(c) = usize::try_from(slot).ok().and_then(|s| self.client(s)) else {
            return Vec::new();
        };
        let mut info = Vec::new();
        info.extend_from_slice(b"\\name\\");
        info.extend_from_slice(&c.name);
        info.extend_from_slice(b"\\rate\\25000\\snaps\\20");
        if let Some(g) = &c.guid {
            info.extend_from_slice(b"\\cl_guid\\");
            info.extend_from_slice(g.as_bytes());
        }
        info.extend_from_slice(b"\\cg_etVersion\\ET Legacy v2.83.2");
        info
    }

    /// Bytes the files under `fs_root` take.
    pub fn disk_used(&self) -> u64 {
        list_files(&self.fs_root)
            .iter()
            .filter_map(|p| fs::metadata(self.fs_root.join(p)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// `FS_Write`: writes what the simulated disk has room for; returns what the engine would.
    fn fs_write(&mut self, fd: i64, bytes: &[u8]) -> i64 {
        let room = match self.faults.disk_capacity {
            Some(cap) => {
                usize::try_from(cap.saturating_sub(self.disk_used())).unwrap_or(usize::MAX)
            }
            None => usize::MAX,
        };
        let fits = bytes.len().min(room);
        let written = match self.open_files.get_mut(&fd) {
            Some(f) => f.write_all(&bytes[..fits]).map(|()| fits).unwrap_or(0),
            None => 0,
        };
        self.fs_ops.push(FsOp::Write { fd, bytes: written });
        let all = written == bytes.len();
        if all || (self.faults.loss_shows_only_at_close && self.open_files.contains_key(&fd)) {
            bytes.len() as i64
        } else {
            0
        }
    }

    fn os_time(&self) -> i64 {
        self.unix_at_level_zero + self.level_time.div_euclid(1000)
    }

    /// Resolves a module path under `fs_root`, refusing what `FS_CreatePath` refuses.
    fn resolve(&self, name: &[u8]) -> Option<PathBuf> {
        let name = std::str::from_utf8(name).ok()?;
        if name.is_empty() || name.contains("..") || name.contains("::") {
            return None;
        }
        Some(self.fs_root.join(name.trim_start_matches('/')))
    }
}

/// `Info_ValueForKey` on a `\key\value` string; `""` when the key is absent.
pub fn info_value_for_key<'a>(info: &'a [u8], key: &[u8]) -> &'a [u8] {
    let mut parts = info.split(|&b| b == b'\\');
    if info.first() == Some(&b'\\') {
        parts.next();
    }
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        if k.eq_ignore_ascii_case(key) {
            return v;
        }
    }
    b""
}

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("the tracker module failed to load: {0}")]
    Load(mlua::Error),
    #[error("setting up the mock ET API failed: {0}")]
    Setup(mlua::Error),
}

/// The mock game server: engine state plus, while a map runs, one Lua VM with the module.
pub struct EtMock {
    state: Rc<RefCell<ServerState>>,
    lua: Option<Lua>,
    script: String,
    prelude: Option<String>,
    escaped: Vec<String>,
}

impl EtMock {
    /// A server whose files land under `fs_root` (`<fs_homepath>/<fs_game>`), running `script`.
    pub fn new(fs_root: impl Into<PathBuf>, script: &str) -> Self {
        Self {
            state: Rc::new(RefCell::new(ServerState::new(fs_root.into()))),
            lua: None,
            script: script.to_string(),
            prelude: None,
            escaped: Vec::new(),
        }
    }

    /// Lua code run in every new VM after the API is installed and before the module loads
    /// (benches use it to swap engine calls for pure-Lua stand-ins).
    pub fn set_prelude(&mut self, code: Option<&str>) {
        self.prelude = code.map(str::to_string);
    }

    pub fn state(&self) -> Ref<'_, ServerState> {
        self.state.borrow()
    }

    pub fn state_mut(&self) -> RefMut<'_, ServerState> {
        self.state.borrow_mut()
    }

    pub fn fs_root(&self) -> PathBuf {
        self.state.borrow().fs_root.clone()
    }

    /// Errors that escaped a callback (the module failed to protect itself).
    pub fn escaped_errors(&self) -> &[String] {
        &self.escaped
    }

    pub fn vm_running(&self) -> bool {
        self.lua.is_some()
    }

    /// Map load or `map_restart`: a fresh VM loads the module, then `et_InitGame` runs.
    pub fn start_vm(&mut self, random_seed: i64, restart: bool) -> Result<(), MockError> {
        if self.lua.is_some() {
            self.shutdown_vm(true);
        }
        let lua = Lua::new();
        install_api(&lua, &self.state).map_err(MockError::Setup)?;
        if let Some(prelude) = &self.prelude {
            lua.load(prelude.as_str())
                .set_name("=prelude")
                .exec()
                .map_err(MockError::Setup)?;
        }
        lua.load(self.script.as_str())
            .set_name("@etprox_tracker.lua")
            .exec()
            .map_err(MockError::Load)?;
        self.lua = Some(lua);
        let level_time = self.state.borrow().level_time;
        self.call("et_InitGame", (level_time, random_seed, i64::from(restart)));
        Ok(())
    }

    /// `et_ShutdownGame`, then the VM is destroyed.
    pub fn shutdown_vm(&mut self, restart: bool) {
        self.call("et_ShutdownGame", i64::from(restart));
        self.lua = None;
    }

    /// One server frame at the current level time.
    pub fn run_frame(&mut self) {
        let level_time = self.state.borrow().level_time;
        self.call("et_RunFrame", level_time);
    }

    pub fn obituary(&mut self, victim: i64, killer: i64, means_of_death: i64) {
        self.call("et_Obituary", (victim, killer, means_of_death));
    }

    /// `et_Damage(target, attacker, damage, damageFlags, meansOfDeath)`; returns whether the
    /// module cancelled the hit (returned 1), which a tracker must never do.
    pub fn damage(
        &mut self,
        target: i64,
        attacker: i64,
        damage: i64,
        flags: i64,
        mod_: i64,
    ) -> bool {
        self.call_returning("et_Damage", (target, attacker, damage, flags, mod_))
    }

    /// `et_WeaponFire(clientNum, weapon)`; returns whether the module overrode the shot.
    pub fn weapon_fire(&mut self, slot: i64, weapon: i64) -> bool {
        self.call_returning("et_WeaponFire", (slot, weapon))
    }

    /// `et_FixedMGFire(clientNum)`: a shot from a mounted MG42.
    pub fn fixed_mg_fire(&mut self, slot: i64) {
        self.call("et_FixedMGFire", slot);
    }

    /// `et_Revive(revivee, reviver, invulnEndTime)`.
    pub fn revive(&mut self, revivee: i64, reviver: i64, invuln_end_time: i64) {
        self.call("et_Revive", (revivee, reviver, invuln_end_time));
    }

    /// `et_ClientSpawn(clientNum, revived, teamChange, restoreHealth)`.
    pub fn spawn(&mut self, slot: i64, revived: bool, team_change: bool, restore_health: bool) {
        let flag = i64::from;
        self.call(
            "et_ClientSpawn",
            (slot, flag(revived), flag(team_change), flag(restore_health)),
        );
    }

    /// `et_Print(text)`: a qagame print; on a dedicated server every game-log line arrives
    /// here without its timestamp prefix.
    pub fn print(&mut self, text: &str) {
        let Some(lua) = &self.lua else { return };
        let Ok(s) = lua.create_string(text) else {
            return;
        };
        self.call("et_Print", s);
    }

    /// Calls a global callback if the module defines it, as the engine's hooks do.
    pub fn call(&mut self, name: &str, args: impl IntoLuaMulti) {
        let Some(lua) = &self.lua else { return };
        let Ok(Value::Function(f)) = lua.globals().get::<Value>(name) else {
            return;
        };
        if let Err(e) = f.call::<MultiValue>(args) {
            let msg = format!("{name}: {e}");
            self.state
                .borrow_mut()
                .console
                .push(format!("Lua API: {msg}"));
            self.escaped.push(msg);
        }
    }

    /// Like [`EtMock::call`]; true when the callback's first return value is 1 (the engine's
    /// "cancel" / "override" answer for `et_Damage` and `et_WeaponFire`).
    pub fn call_returning(&mut self, name: &str, args: impl IntoLuaMulti) -> bool {
        let Some(lua) = &self.lua else { return false };
        let Ok(Value::Function(f)) = lua.globals().get::<Value>(name) else {
            return false;
        };
        match f.call::<MultiValue>(args) {
            Ok(values) => matches!(values.into_iter().next(), Some(Value::Integer(1))),
            Err(e) => {
                let msg = format!("{name}: {e}");
                self.state
                    .borrow_mut()
                    .console
                    .push(format!("Lua API: {msg}"));
                self.escaped.push(msg);
                false
            }
        }
    }

    /// Runs a snippet in the current VM (tests use it to poke at module globals).
    pub fn exec(&self, code: &str) -> mlua::Result<()> {
        match &self.lua {
            Some(lua) => lua.load(code).exec(),
            None => Ok(()),
        }
    }
}

fn slot_client(st: &ServerState, ent: i64) -> Option<&Client> {
    usize::try_from(ent).ok().and_then(|s| st.client(s))
}

fn vec3(lua: &Lua, v: [f64; 3]) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(3, 0)?;
    t.raw_set(1, v[0])?;
    t.raw_set(2, v[1])?;
    t.raw_set(3, v[2])?;
    Ok(Value::Table(t))
}

fn gentity_get(
    lua: &Lua,
    st: &ServerState,
    ent: i64,
    field: &str,
    index: i64,
) -> mlua::Result<Value> {
    if !(0..=1023).contains(&ent) {
        return Err(mlua::Error::runtime(format!("invalid entity number {ent}")));
    }
    if st
        .faults
        .gentity_get_raises
        .iter()
        .any(|(slot, f)| f == field && slot.is_none_or(|s| s == ent))
    {
        return Err(mlua::Error::runtime(format!(
            "injected fault: gentity_get({ent}, \"{field}\")"
        )));
    }
    let client = slot_client(st, ent);
    let int = |v: i64| Ok(Value::Integer(v));
    match field {
        "health" => int(client.map_or(0, |c| c.health)),
        "inuse" => int(i64::from(client.is_some())),
        "r.svFlags" => int(client.map_or(0, |c| if c.is_bot { SVF_BOT } else { 0 })),
        "origin" | "r.currentOrigin" => vec3(lua, client.map_or([0.0; 3], |c| c.origin)),
        "sess.sessionTeam"
        | "pers.netname"
        | "pers.connected"
        | "ps.weapon"
        | "ps.origin"
        | "ps.viewangles"
        | "ps.velocity"
        | "sess.playerType"
        | "ps.stats"
        | "ps.ammo"
        | "sess.skill"
        | "pers.playerStats.hitRegions" => {
            let Some(c) = client else {
                return Ok(Value::Nil);
            };
            match field {
                "sess.sessionTeam" => int(c.team.code()),
                "pers.netname" => Ok(Value::String(lua.create_string(&c.name)?)),
                "pers.connected" => int(c.connected),
                "ps.weapon" => int(c.weapon),
                "ps.origin" => vec3(lua, c.origin),
                "ps.viewangles" | "ps.velocity" => vec3(lua, [0.0; 3]),
                // No bounds check in the engine either; out of range reads as 0 here.
                "pers.playerStats.hitRegions" => int(usize::try_from(index)
                    .ok()
                    .and_then(|i| c.hit_regions.get(i).copied())
                    .unwrap_or(0)),
                _ => int(0),
            }
        }
        _ => Err(mlua::Error::runtime(format!(
            "tried to get invalid gentity field \"{field}\""
        ))),
    }
}

fn fs_open(st: &mut ServerState, name: &[u8], mode: i64) -> (i64, i64) {
    let shown = String::from_utf8_lossy(name).into_owned();
    let opened = st.resolve(name).and_then(|path| {
        if mode == 0 {
            let f = fs::File::open(&path).ok()?;
            let len = f.metadata().ok()?.len() as i64;
            Some((f, len))
        } else {
            if st.faults.fail_open_write {
                return None;
            }
            fs::create_dir_all(path.parent()?).ok()?;
            let f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(mode == 1)
                .append(mode != 1)
                .open(&path)
                .ok()?;
            Some((f, 0))
        }
    });
    let (fd, len) = match opened {
        Some((f, len)) => {
            let fd = st.next_fd;
            st.next_fd += 1;
            st.open_files.insert(fd, f);
            (fd, len)
        }
        None => (0, -1),
    };
    st.fs_ops.push(FsOp::Open {
        path: shown,
        mode,
        fd,
    });
    (fd, len)
}

fn refuse_fatal_extension(name: &[u8]) -> mlua::Result<()> {
    let lower = name.to_ascii_lowercase();
    for ext in [&b".pk3"[..], b".so", b".dll", b".dylib"] {
        if lower.ends_with(ext) {
            return Err(mlua::Error::runtime(
                "Com_Error: refusing to write a pk3 or library (fatal on a real server)",
            ));
        }
    }
    Ok(())
}

/// The `et` table (constants, game and file functions) and the simulated clock.
fn install_api(lua: &Lua, state: &Rc<RefCell<ServerState>>) -> mlua::Result<()> {
    let et = lua.create_table()?;

    for (name, value) in [
        ("FS_READ", 0),
        ("FS_WRITE", 1),
        ("FS_APPEND", 2),
        ("FS_APPEND_SYNC", 3),
        ("TEAM_FREE", 0),
        ("TEAM_AXIS", 1),
        ("TEAM_ALLIES", 2),
        ("TEAM_SPECTATOR", 3),
        ("GS_INITIALIZE", -1),
        ("GS_PLAYING", 0),
        ("GS_WARMUP_COUNTDOWN", 1),
        ("GS_WARMUP", 2),
        ("GS_INTERMISSION", 3),
        ("GS_WAITING_FOR_PLAYERS", 4),
        ("GS_RESET", 5),
        ("MOD_SUICIDE", 33),
        ("MOD_SWITCHTEAM", 59),
    ] {
        et.set(name, value)?;
    }

    install_game_api(lua, &et, state)?;
    install_fs_api(lua, &et, state)?;
    lua.globals().set("et", et)?;
    install_clock(lua, state)
}

/// Entities, cvars, userinfo, the millisecond clock and printing.
fn install_game_api(
    lua: &Lua,
    et: &mlua::Table,
    state: &Rc<RefCell<ServerState>>,
) -> mlua::Result<()> {
    let st = Rc::clone(state);
    et.set(
        "gentity_get",
        lua.create_function(
            move |lua, (ent, field, index): (i64, mlua::String, Option<i64>)| {
                let mut s = st.borrow_mut();
                s.gentity_get_calls += 1;
                let field = field.to_str()?;
                gentity_get(lua, &s, ent, &field, index.unwrap_or(0))
            },
        )?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_Cvar_Get",
        lua.create_function(move |lua, name: mlua::String| {
            let name = name.to_str()?;
            lua.create_string(st.borrow().cvar(&name))
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_Cvar_Set",
        lua.create_function(move |_, (name, value): (mlua::String, mlua::String)| {
            let name = name.to_str()?.to_string();
            st.borrow_mut().set_cvar(&name, value.as_bytes());
            Ok(())
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_GetUserinfo",
        lua.create_function(move |lua, slot: i64| lua.create_string(st.borrow().userinfo(slot)))?,
    )?;

    et.set(
        "Info_ValueForKey",
        lua.create_function(|lua, (info, key): (mlua::String, mlua::String)| {
            lua.create_string(info_value_for_key(&info.as_bytes(), &key.as_bytes()))
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_Milliseconds",
        lua.create_function(move |_, ()| {
            let s = st.borrow();
            Ok(s.level_time + s.ms_offset)
        })?,
    )?;

    for name in ["G_Print", "G_LogPrint"] {
        let st = Rc::clone(state);
        et.set(
            name,
            lua.create_function(move |_, msg: mlua::String| {
                let text = String::from_utf8_lossy(&msg.as_bytes()).into_owned();
                st.borrow_mut().console.push(text);
                Ok(())
            })?,
        )?;
    }

    Ok(())
}

/// The `trap_FS_*` file functions, rooted in the mock's folder.
fn install_fs_api(
    lua: &Lua,
    et: &mlua::Table,
    state: &Rc<RefCell<ServerState>>,
) -> mlua::Result<()> {
    let st = Rc::clone(state);
    et.set(
        "trap_FS_FOpenFile",
        lua.create_function(move |_, (name, mode): (mlua::String, i64)| {
            let name = name.as_bytes().to_vec();
            if mode != 0 {
                refuse_fatal_extension(&name)?;
            }
            Ok(fs_open(&mut st.borrow_mut(), &name, mode))
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_FS_Write",
        lua.create_function(move |_, (data, count, fd): (mlua::String, i64, i64)| {
            let bytes = data.as_bytes();
            let n = usize::try_from(count).unwrap_or(0).min(bytes.len());
            Ok(st.borrow_mut().fs_write(fd, &bytes[..n]))
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_FS_Read",
        lua.create_function(move |lua, (fd, count): (i64, i64)| {
            use std::io::Read;
            let mut s = st.borrow_mut();
            let mut buf = vec![0u8; usize::try_from(count).unwrap_or(0)];
            let n = match s.open_files.get_mut(&fd) {
                Some(f) => f.read(&mut buf).unwrap_or(0),
                None => 0,
            };
            buf.truncate(n);
            lua.create_string(buf)
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_FS_FCloseFile",
        lua.create_function(move |_, fd: i64| {
            let mut s = st.borrow_mut();
            s.open_files.remove(&fd);
            s.fs_ops.push(FsOp::Close { fd });
            Ok(())
        })?,
    )?;

    let st = Rc::clone(state);
    et.set(
        "trap_FS_Rename",
        lua.create_function(move |_, (from, to): (mlua::String, mlua::String)| {
            let (from, to) = (from.as_bytes().to_vec(), to.as_bytes().to_vec());
            refuse_fatal_extension(&to)?;
            let mut s = st.borrow_mut();
            if let (Some(src), Some(dst)) = (s.resolve(&from), s.resolve(&to)) {
                if let Some(dir) = dst.parent() {
                    let _ = fs::create_dir_all(dir);
                }
                let _ = fs::rename(&src, &dst);
            }
            s.fs_ops.push(FsOp::Rename {
                from: String::from_utf8_lossy(&from).into_owned(),
                to: String::from_utf8_lossy(&to).into_owned(),
            });
            Ok(())
        })?,
    )?;

    Ok(())
}

/// `os.time()` follows the simulated clock.
fn install_clock(lua: &Lua, state: &Rc<RefCell<ServerState>>) -> mlua::Result<()> {
    // os.time() follows the simulated clock so file names are reproducible; os.time(t) and
    // os.date stay real.
    let st = Rc::clone(state);
    lua.globals().set(
        "__etmock_clock",
        lua.create_function(move |_, ()| Ok(st.borrow().os_time()))?,
    )?;
    lua.load(
        "local real, clock = os.time, __etmock_clock\n\
         os.time = function(t) if t == nil then return clock() end return real(t) end\n\
         __etmock_clock = nil",
    )
    .set_name("=etmock_clock")
    .exec()?;
    Ok(())
}

/// Files under `dir` (recursively), sorted, as paths relative to `dir`.
pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_value_for_key_finds_keys_and_misses_absent_ones() {
        let info = b"\\name\\a|b\\cl_guid\\ABC\\rate\\25000";
        assert_eq!(info_value_for_key(info, b"cl_guid"), b"ABC");
        assert_eq!(info_value_for_key(info, b"name"), b"a|b");
        assert_eq!(info_value_for_key(info, b"missing"), b"");
        assert_eq!(info_value_for_key(b"", b"cl_guid"), b"");
    }

    fn mock_with(script: &str) -> (tempfile::TempDir, EtMock) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("legacy");
        (dir, EtMock::new(root, script))
    }

    #[test]
    fn gentity_get_behaves_like_the_engine() {
        let probe = r#"
            function et_InitGame()
                local o = et.gentity_get(0, "ps.origin")
                assert(type(o) == "table" and o[1] == 1.5 and o[3] == -3.0)
                assert(math.type(o[2]) == "float")
                assert(o[0] == nil and o.x == nil)
                assert(et.gentity_get(1, "sess.sessionTeam") == nil)
                assert(et.gentity_get(1, "health") == 0)
                assert(math.type(et.gentity_get(0, "sess.sessionTeam")) == "integer")
                local ok, err = pcall(et.gentity_get, 0, "sess.guid")
                assert(not ok and tostring(err):find("invalid gentity field"))
                assert(et.trap_Cvar_Get("gamestate") == "0")
                assert(et.Info_ValueForKey(et.trap_GetUserinfo(0), "cl_guid") == "")
                assert(et.trap_Milliseconds() == 12000 + 777)
                assert(not pcall(string.format, "%d", o[1]))
                et.G_Print("probe ok\n")
            end"#;
        let (_dir, mut mock) = mock_with(probe);
        {
            let mut s = mock.state_mut();
            s.set_cvar("gamestate", "0");
            s.level_time = 12000;
            s.ms_offset = 777;
            s.clients[0] = Some(Client {
                name: b"x".to_vec(),
                guid: None,
                team: Team::Axis,
                health: 100,
                connected: CON_CONNECTED,
                origin: [1.5, 2.0, -3.0],
                weapon: 3,
                is_bot: false,
                hit_regions: [0; 4],
            });
        }
        mock.start_vm(1, false).expect("vm starts");
        assert!(
            mock.escaped_errors().is_empty(),
            "{:?}",
            mock.escaped_errors()
        );
        assert!(mock.state().console.iter().any(|l| l == "probe ok\n"));
    }

    #[test]
    fn file_api_writes_under_fs_root_and_refuses_dot_dot() {
        let script = r#"
            function et_InitGame()
                local fd, len = et.trap_FS_FOpenFile("sub/a.txt.tmp", et.FS_WRITE)
                assert(fd > 0 and len == 0)
                assert(et.trap_FS_Write("hello!", 5, fd) == 5)
                et.trap_FS_FCloseFile(fd)
                et.trap_FS_Rename("sub/a.txt.tmp", "sub/a.txt")
                local bad, blen = et.trap_FS_FOpenFile("../escape.txt", et.FS_WRITE)
                assert(bad == 0 and blen == -1)
            end"#;
        let (_dir, mut mock) = mock_with(script);
        mock.start_vm(1, false).expect("vm starts");
        assert!(
            mock.escaped_errors().is_empty(),
            "{:?}",
            mock.escaped_errors()
        );
        let root = mock.fs_root();
        assert_eq!(
            fs::read(root.join("sub/a.txt")).expect("renamed file"),
            b"hello"
        );
        assert_eq!(list_files(&root), vec![PathBuf::from("sub/a.txt")]);
    }

    #[test]
    fn a_full_disk_cuts_writes_and_reports_them_as_the_engine_would() {
        let script = r#"
            function et_InitGame()
                local fd = et.trap_FS_FOpenFile("a.txt", et.FS_WRITE)
                assert(et.trap_FS_Write("12345", 5, fd) == 5)
                local short = et.trap_FS_Write("6789", 4, fd)
                et.trap_FS_FCloseFile(fd)
                local rfd, len = et.trap_FS_FOpenFile("a.txt", et.FS_READ)
                et.trap_FS_FCloseFile(rfd)
                et.G_Print(short .. " " .. len)
            end"#;
        for (at_close, want) in [(false, "0 7"), (true, "4 7")] {
            let (_dir, mut mock) = mock_with(script);
            mock.state_mut().faults.disk_capacity = Some(7);
            mock.state_mut().faults.loss_shows_only_at_close = at_close;
            mock.start_vm(1, false).expect("vm starts");
            assert!(
                mock.escaped_errors().is_empty(),
                "{:?}",
                mock.escaped_errors()
            );
            assert_eq!(mock.state().console.last().map(String::as_str), Some(want));
            assert_eq!(mock.state().disk_used(), 7);
        }
    }

    #[test]
    fn escaped_errors_are_collected_and_vm_state_is_dropped_at_shutdown() {
        let script = "counter = (counter or 0) + 1\nfunction et_RunFrame() error('boom') end";
        let (_dir, mut mock) = mock_with(script);
        mock.start_vm(1, false).expect("vm starts");
        mock.run_frame();
        assert_eq!(mock.escaped_errors().len(), 1);
        mock.shutdown_vm(false);
        assert!(!mock.vm_running());
        mock.start_vm(2, true).expect("vm restarts");
        mock.exec("assert(counter == 1)").expect("fresh VM");
    }
}
