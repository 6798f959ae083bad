#!/usr/bin/env bash
# Builds the Debian package with `cargo deb` (release build) and checks it:
#   1. the file list, owners and modes inside the .deb; the conffile; the maintainer scripts;
#   2. the systemd unit (`systemd-analyze verify` when available, else a syntax check);
#   3. installs it with dpkg on this machine: the etprox user, folder and config permissions,
#      the post-install message naming `etprox check`, the deployment build (no `etprox demo`);
#   4. runs the unit's ExecStart by hand as the unit's user, with its EnvironmentFile and
#      WorkingDirectory (systemd itself need not run here), expecting the clear
#      "DISCORD_TOKEN is not set" error of the shipped configuration;
#   5. upgrades to a newer package version: the edited config stays;
#   6. purges the package and leaves the machine as it was.
#
# Needs root (dpkg) and cargo-deb (`cargo install cargo-deb --locked`).
# Usage: packaging/check-deb.sh [path/to/existing.deb]   (no argument: build it)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "check-deb: $*"; }
fail() {
    echo "check-deb: FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root: the check installs the package with dpkg"
if dpkg-query -W -f='${Status}' etprox 2>/dev/null | grep -q "installed"; then
    fail "etprox is already installed on this machine; this check installs and purges it, so it refuses to touch an existing installation (dpkg --purge etprox first)"
fi

work=$(mktemp -d)
user_existed=no
getent passwd etprox >/dev/null && user_existed=yes
installed=no
cleanup() {
    status=$?
    if [ "$installed" = yes ]; then
        dpkg --purge etprox >/dev/null 2>&1 || echo "check-deb: could not purge etprox" >&2
    fi
    if [ "$user_existed" = no ] && getent passwd etprox >/dev/null; then
        userdel etprox >/dev/null 2>&1 || echo "check-deb: could not remove user etprox" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# ---- 1. build ------------------------------------------------------------------------------
if [ $# -ge 1 ]; then
    deb=$1
else
    command -v cargo-deb >/dev/null || fail "cargo-deb is missing: cargo install cargo-deb --locked"
    started=$(date +%s)
    deb=$(cargo deb --locked --output target/debian/)
    say "built $deb in $(($(date +%s) - started)) s"
fi
[ -f "$deb" ] || fail "no package at '$deb'"
say "package size: $(stat -c %s "$deb") bytes ($(du -h "$deb" | cut -f1))"

version=$(dpkg-deb -f "$deb" Version)
[ "$(dpkg-deb -f "$deb" Package)" = etprox ] || fail "package name is not etprox"
dpkg-deb -f "$deb" Depends | grep -q libc6 || fail "Depends lacks libc6: $(dpkg-deb -f "$deb" Depends)"

# ---- 2. contents ---------------------------------------------------------------------------
# cargo-deb writes numeric owners (0/0): read them as names.
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sed -e 's# \./# /#' -e 's# 0/0 # root/root #' >"$work/contents"
# Files (not folders): "<mode> <owner> <path>".
grep -v '^d' "$work/contents" | sort -k3 >"$work/files"

expected=(
    "-rwxr-xr-x root/root /usr/bin/etprox"
    "-rw-r----- root/root /etc/etprox/etprox.env"
    "-rw-r--r-- root/root /usr/lib/systemd/system/etprox.service"
    "-rw-r--r-- root/root /usr/share/etprox/assets/maps.csv"
    "-rw-r--r-- root/root /usr/share/etprox/assets/mods.csv"
    "-rw-r--r-- root/root /usr/share/etprox/assets/fonts/DejaVuSans.ttf"
    "-rw-r--r-- root/root /usr/share/etprox/assets/fonts/DejaVu-LICENSE.txt"
    "-rw-r--r-- root/root /usr/share/etprox/lua/etprox_tracker.lua"
    "-rw-r--r-- root/root /usr/share/doc/etprox/README.md"
    "-rw-r--r-- root/root /usr/share/doc/etprox/copyright"
)
for doc in docs/*.md; do
    expected+=("-rw-r--r-- root/root /usr/share/doc/etprox/$(basename "$doc")")
done
printf '%s\n' "${expected[@]}" | sort -k3 >"$work/expected"
if ! diff -u "$work/expected" "$work/files" >"$work/diff"; then
    cat "$work/diff" >&2
    fail "file list, owners or modes differ from what the package must hold (- expected, + found)"
fi
if grep -v '^d' "$work/contents" | awk '{print $1}' | grep -q '^.\{8\}w'; then
    fail "a world-writable file in the package"
fi
if grep '^d' "$work/contents" | awk '{print $2}' | grep -vq '^root/root$'; then
    fail "a folder in the package not owned by root"
fi
say "contents: ${#expected[@]} files, owners and modes as expected"

dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$work"
grep -qx /etc/etprox/etprox.env "$work/conffiles" || fail "/etc/etprox/etprox.env is not a conffile"
for script in postinst prerm postrm; do
    [ -x "$work/$script" ] || fail "maintainer script $script missing or not executable"
    sh -n "$work/$script" || fail "maintainer script $script: syntax error"
done
grep -q 'etprox check' "$work/postinst" || fail "the post-install message does not name 'etprox check'"
say "control: conffile, maintainer scripts ok"

# The env file is read by systemd (EnvironmentFile=) and, below, by sh: only lines both read
# the same way (VARIABLE=value without quotes, spaces or backslashes).
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./etc/etprox/etprox.env ./usr/lib/systemd/system/etprox.service
if grep -vE '^(#.*|[A-Z_][A-Z0-9_]*=[^"'"'"' \\$`]*|)$' "$work/etc/etprox/etprox.env"; then
    fail "lines above in etprox.env are not plain VARIABLE=value"
fi

# ---- 3. the unit, before installing ---------------------------------------------------------
unit="$work/usr/lib/systemd/system/etprox.service"
for line in "User=etprox" "Restart=on-failure" "ExecStart=/usr/bin/etprox bot" \
    "EnvironmentFile=/etc/etprox/etprox.env" "NoNewPrivileges=yes" "ProtectSystem=strict" \
    "WantedBy=multi-user.target"; do
    grep -qx "$line" "$unit" || fail "etprox.service lacks '$line'"
done
# Sections and key=value lines only (what systemd-analyze checks more deeply below).
if grep -vE '^(#.*|\[(Unit|Service|Install)\]|[A-Za-z]+=.*|)$' "$unit"; then
    fail "lines above in etprox.service are neither section, key=value nor comment"
fi

# ---- 4. install ----------------------------------------------------------------------------
installed=yes
dpkg -i "$deb" >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    fail "dpkg -i failed"
}
grep -q 'etprox check' "$work/install.log" || fail "the post-install message does not name 'etprox check'"
say "installed $version"

entry=$(getent passwd etprox) || fail "the postinst did not create the user etprox"
uid=$(echo "$entry" | cut -d: -f3)
shell=$(echo "$entry" | cut -d: -f7)
[ "$uid" -lt 1000 ] || fail "etprox is not a system user (uid $uid)"
[ "$shell" = /usr/sbin/nologin ] || fail "etprox has a login shell ($shell)"
perm() { stat -c '%a %U:%G' "$1"; }
[ "$(perm /etc/etprox/etprox.env)" = "640 root:etprox" ] || fail "/etc/etprox/etprox.env is $(perm /etc/etprox/etprox.env), want 640 root:etprox"
[ "$(perm /var/lib/etprox)" = "750 etprox:etprox" ] || fail "/var/lib/etprox is $(perm /var/lib/etprox)"
[ -f /var/lib/etprox/assets/maps.csv ] || fail "the calibration table was not seeded"
/usr/bin/etprox --version >/dev/null || fail "/usr/bin/etprox does not run"
say "user etprox (uid $uid), folders and permissions ok"
# The deployment flavour (default-features = false): no simulator, no Lua; `etprox demo` says so.
/usr/bin/etprox demo >"$work/demo.log" 2>&1 && code=0 || code=$?
[ "$code" = 2 ] && grep -q 'not in this build' "$work/demo.log" ||
    fail "the packaged etprox is not the deployment build: 'etprox demo' exited $code: $(cat "$work/demo.log")"
say "deployment build: 'etprox demo' is not in it (exit 2, with where to find it)"

installed_unit=/usr/lib/systemd/system/etprox.service
if command -v systemd-analyze >/dev/null; then
    # Without a running systemd, verify still loads the unit, resolves User= and checks that
    # ExecStart's binary exists; any finding about our unit fails the check.
    if ! systemd-analyze verify "$installed_unit" >"$work/verify.log" 2>&1 ||
        grep -q 'etprox' "$work/verify.log"; then
        cat "$work/verify.log" >&2
        fail "systemd-analyze verify found problems in etprox.service"
    fi
    say "systemd-analyze verify: ok"
    if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
        exposure=$(systemd-analyze security --offline=yes "$installed_unit" 2>/dev/null |
            sed -n 's/.*Overall exposure level for etprox.service: \([0-9.]*\).*/\1/p')
        say "systemd-analyze security: exposure ${exposure:-unknown} (0 = locked down, 10 = none)"
    fi
else
    say "systemd-analyze not available: the unit got the syntax check only"
fi

# ---- 5. the unit's ExecStart by hand, as the unit's user ------------------------------------
unit_value() { sed -n "s/^$1=//p" "$installed_unit" | tail -n1; }
run_user=$(unit_value User)
run_dir=$(unit_value WorkingDirectory)
env_file=$(unit_value EnvironmentFile)
exec_start=$(unit_value ExecStart)
# shellcheck disable=SC2016 # expanded by the inner shell
runuser -u "$run_user" -- sh -c 'cd "$1" && set -a && . "$2" && set +a && shift 2 && exec timeout 30 "$@"' \
    sh "$run_dir" "$env_file" $exec_start >"$work/exec.log" 2>&1 && code=0 || code=$?
cat "$work/exec.log" | sed 's/^/check-deb:   | /'
[ "$code" != 124 ] || fail "'$exec_start' was still running after 30 s (expected the missing-token error)"
[ "$code" != 0 ] || fail "'$exec_start' succeeded without a Discord token"
grep -q 'DISCORD_TOKEN' "$work/exec.log" ||
    fail "'$exec_start' as $run_user did not stop with the missing DISCORD_TOKEN message (exit $code)"
say "ExecStart as $run_user: exit $code with the missing-token message"

if /usr/bin/etprox --help 2>/dev/null | grep -qE '^\s+check\b'; then
    # As the post-install message tells an admin to run it.
    runuser -u "$run_user" -- sh -c 'cd "$1" && exec timeout 60 /usr/bin/etprox check --env-file "$2"' \
        sh "$run_dir" "$env_file" >"$work/check.log" 2>&1 && code=0 || code=$?
    sed 's/^/check-deb:   | /' "$work/check.log"
    [ "$code" = 1 ] || fail "etprox check with the shipped configuration exited $code, want 1 (something to fix)"
    say "etprox check as $run_user: exit 1, as the unconfigured setup deserves"
fi

# ---- 6. upgrade keeps the edited configuration ---------------------------------------------
echo "# edited by check-deb" >>/etc/etprox/etprox.env
upgrade="$work/etprox_upgrade.deb"
cargo deb --no-build --locked --deb-version "${version%-*}-99" --output "$upgrade" >/dev/null 2>&1 ||
    fail "could not build the upgrade package"
dpkg -i "$upgrade" >"$work/upgrade.log" 2>&1 || {
    cat "$work/upgrade.log" >&2
    fail "upgrade with dpkg -i failed"
}
grep -q '^# edited by check-deb$' /etc/etprox/etprox.env || fail "the upgrade overwrote /etc/etprox/etprox.env"
[ "$(perm /etc/etprox/etprox.env)" = "640 root:etprox" ] || fail "the upgrade changed the config's permissions"
say "upgrade to ${version%-*}-99 kept the edited /etc/etprox/etprox.env"

# ---- 7. remove -----------------------------------------------------------------------------
dpkg --purge etprox >"$work/purge.log" 2>&1 || {
    cat "$work/purge.log" >&2
    fail "dpkg --purge failed"
}
installed=no
for path in /usr/bin/etprox /etc/etprox /var/lib/etprox /usr/share/etprox "$installed_unit"; do
    [ ! -e "$path" ] || fail "$path is left after purge"
done
! dpkg-statoverride --list /etc/etprox/etprox.env >/dev/null 2>&1 || fail "the statoverride is left after purge"
say "purged; nothing left behind"
say "all checks passed"
