#!/bin/bash
# The hub refuses pushes whose events or roster changes the roster does not
# back (pre-receive hook over git daemon, and the client's own check for a
# path hub), and pins its trust root.
. "$FIELDBOOK_TOP/test/lib.sh"
DPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT
dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
export FIELDBOOK_BIN="$FB"

dev admin init --officer 3101-0001 --name 李主任 --unit HZ01 --admin >/dev/null
root=$(dev admin key show | head -1)
mkdir -p "$TMP/srv"
check "hub-init pins the trust root given" "$TOP/sync/hub-init" --trust-root "$root" "$TMP/srv/hub.git"
expect_eq "the hub's config holds it" "$(git -C "$TMP/srv/hub.git" config fieldbook.trustRoot)" "$root"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --export-all --enable=receive-pack --base-path="$TMP/srv" --port="$PORT" \
	--listen=127.0.0.1 --reuseaddr "$TMP/srv" >"$TMP/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do git ls-remote "git://127.0.0.1:$PORT/hub.git" >/dev/null 2>&1 && break; sleep 0.1; done
URL="git://127.0.0.1:$PORT/hub.git"

dev off init --officer 3101-0003 --name 张伟 --unit HZ01 >/dev/null
dev admin roster add --officer 3101-0003 --name 张伟 --role officer --key "$(dev off key show | head -1)" >/dev/null
check "the admin's roster reaches the hub" dev admin sync "$URL"
check "the officer gets the roster" dev off sync "$URL"
C=$(dev off case new --form signboard --address "解放路12号")
check "a rostered officer's events are accepted" dev off sync "$URL"

# an event pushed by stock git without its .sig (the hub checks it after its walk)
dev off note "$C" "its signature left behind" >/dev/null
EV=$(git -C "$TMP/off/ledger.git" diff-tree --no-commit-id --name-only -r main | grep '\.json$')
git clone -q "$URL" "$TMP/t"
mkdir -p "$TMP/t/$(dirname "$EV")"
git -C "$TMP/off/ledger.git" show "main:$EV" >"$TMP/t/$EV"
git -C "$TMP/t" add "$EV"
git -C "$TMP/t" -c user.name=x -c user.email=x@y commit -qm "no sig"
out=$(git -C "$TMP/t" push origin HEAD:main 2>&1); rc=$?
check_fails "an event without its .sig is refused by the hub" test "$rc" = 0
expect_match "naming the file and the missing signature" "$out" "$(basename "$EV"): no signature"

dev rogue init --officer 3101-0077 --name 无名 --unit HZ01 >/dev/null
dev rogue sync "$URL" >/dev/null 2>&1   # fetches; its own push carries nothing new yet
dev rogue note "$C" "from an unknown key" >/dev/null
out=$(dev rogue sync "$URL" 2>&1); rc=$?
expect_eq "an event signed by an unknown key is refused by the hub (exit 1)" "$rc" 1
expect_match "with the file and the reason" "$out" "events/.*json: signed by a key not in the roster"
expect_eq "the hub does not have it" "$(git -C "$TMP/srv/hub.git" log --oneline main | grep -c 'from an unknown key')" 0

dev off roster add --officer 3101-0099 --name 冒名 --role admin --key "$(dev off key show | head -1)" >/dev/null
out=$(dev off sync "$URL" 2>&1); rc=$?
expect_eq "a roster change by a non-admin is refused (exit 1)" "$rc" 1
expect_match "saying who signed it" "$out" "roster change .*signed by 3101-0003, who is not an admin"

# a path hub gets the same check from the client before it writes
cp -a "$TMP/srv/hub.git" "$TMP/pathhub.git"
out=$(dev rogue sync "$TMP/pathhub.git" 2>&1); rc=$?
expect_eq "a path hub is protected by the client's check (exit 1)" "$rc" 1
expect_match "with the same reason" "$out" "signed by a key not in the roster"
check "git fsck on the hub" git -C "$TMP/srv/hub.git" fsck --strict
check "verify on a device that synced: all valid" dev admin verify
