#!/bin/bash
# kill -9 during fetch and during push (path hub and git daemon), several
# trials at random small delays; then sync again: converges, nothing lost,
# git fsck clean everywhere.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_PIN=123456
TRIALS=${SYNC_KILL_TRIALS:-6}
DPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT

dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
events_in() { git -C "$1" ls-tree -r --name-only main | grep -c '/events/[^/]*\.json$'; }
ids_in() { git -C "$1" ls-tree -r --name-only main | grep '/events/[^/]*\.json$' | sort; }
# random delay 0.000 .. 0.099 s (a sync here takes some tens of ms)
delay() { printf '0.%03d' $((RANDOM % 100)); }
note() { local d=$1; dev "$d" note "$(dev "$d" list --json | jq -r '.[0].id')" "$2" >/dev/null; }

# kill_trials LABEL DEVICE URL PREPARE [--no-push]: each trial runs PREPARE
# (so there is something to transfer), starts a sync and kill -9s it after a
# random delay.
kill_trials() {
	local label=$1 d=$2 url=$3 prep=$4 extra=${5:-} killed=0 rc
	for t in $(seq "$TRIALS"); do
		$prep "$t"
		dev "$d" sync "$url" $extra >/dev/null 2>&1 &
		local p=$!
		sleep "$(delay)"
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null; rc=$?
		[ "$rc" = 137 ] && killed=$((killed + 1))
	done
	ok "$label: $TRIALS trials, $killed killed mid-sync"
}
prep_push_a() { note A "A push trial $1"; WANT=$((WANT + 1)); }
prep_fetch_b() { note A "A for B's fetch $1"; dev A sync "$URL" >/dev/null 2>&1; WANT=$((WANT + 1)); }
prep_both() { note B "B trial $1"; prep_fetch_b "$1"; WANT=$((WANT + 1)); }

"$TOP/sync/hub-init" "$TMP/hub.git" >/dev/null
dev A init --officer 3101-0001 --name 张伟 --unit HZ01 >/dev/null
dev B init --officer 3101-0002 --name 李娜 --unit HZ01 >/dev/null
# enough data that a transfer takes a moment: photos and events
for k in 1 2 3; do
	C=$(dev A case new --form signboard --address "解放路${k}号")
	"$BUILDDIR/tools/mkjpeg" "$TMP/p$k.jpg" --lat 24.4$k --lon 111.5$k
	dev A attach "$C" "$TMP/p$k.jpg" >/dev/null
	for n in 1 2 3 4 5; do dev A note "$C" "记录 $n" >/dev/null; done
done
for k in 1 2 3; do
	C=$(dev B case new --form fencing --address "人民路${k}号")
	for n in 1 2 3 4 5; do dev B note "$C" "B 记录 $n" >/dev/null; done
done
WANT=$(( $(events_in "$TMP/A/ledger.git") + $(events_in "$TMP/B/ledger.git") ))

run_kills() {
	local n=$1 hub=$3
	URL=$2
	kill_trials "$n: kill -9 during A's push" A "$URL" prep_push_a
	check "$n: A syncs again after the kills" dev A sync "$URL"
	expect_eq "$n: the hub holds every event of A" "$(ids_in "$hub" | grep -c .)" "$(events_in "$TMP/A/ledger.git")"
	kill_trials "$n: kill -9 during B's fetch" B "$URL" prep_fetch_b --no-push
	kill_trials "$n: kill -9 during B's fetch, merge and push" B "$URL" prep_both
	check "$n: B syncs again after the kills" dev B sync "$URL"
	check "$n: A syncs again" dev A sync "$URL"
	expect_eq "$n: the hub holds every event of A and B once ($WANT)" "$(events_in "$hub")" "$WANT"
	expect_eq "$n: A and B hold the same events as the hub" \
		"$(ids_in "$TMP/A/ledger.git" | md5sum) $(ids_in "$TMP/B/ledger.git" | md5sum)" \
		"$(ids_in "$hub" | md5sum) $(ids_in "$hub" | md5sum)"
	expect_eq "$n: list --json equal on A and B" "$(dev A list --json)" "$(dev B list --json)"
	check "$n: git fsck --strict on the hub" git -C "$hub" fsck --strict
	check "$n: git fsck --strict on A" git -C "$TMP/A/ledger.git" fsck --strict
	check "$n: git fsck --strict on B" git -C "$TMP/B/ledger.git" fsck --strict
	before=$(dev B list --json)
	dev B reindex >/dev/null 2>&1
	expect_eq "$n: B's index after the kills equals a rebuild" "$(dev B list --json)" "$before"
}

run_kills path "$TMP/hub.git" "$TMP/hub.git"

# a staging directory left by a fetch killed while it checked a path hub's
# loose objects is removed by a later fetch once it is an hour old
objs="$TMP/B/ledger.git/objects"
mkdir -p "$objs/incoming-fieldbook-stale1/ab" "$objs/incoming-fieldbook-fresh1/cd"
echo x >"$objs/incoming-fieldbook-stale1/ab/cdef"; echo y >"$objs/incoming-fieldbook-fresh1/cd/ef"
touch -d '2 hours ago' "$objs/incoming-fieldbook-stale1"
note A "for the sweep"; dev A sync "$TMP/hub.git" >/dev/null
check "path: B fetches A's new loose objects" dev B sync "$TMP/hub.git" --no-push
expect_eq "path: the stale staging directory is gone" "$(ls -d "$objs/incoming-fieldbook-stale1" 2>/dev/null)" ""
check "path: a recent one (a fetch in progress) is kept" test -d "$objs/incoming-fieldbook-fresh1"
rm -rf "$objs/incoming-fieldbook-fresh1"
WANT=$((WANT + 1))

# the same through git daemon (a fresh hub: the first push carries everything)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
mkdir -p "$TMP/srv"
"$TOP/sync/hub-init" "$TMP/srv/hub.git" >/dev/null
git daemon --export-all --enable=receive-pack --base-path="$TMP/srv" --port="$PORT" \
	--listen=127.0.0.1 --reuseaddr "$TMP/srv" >"$TMP/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do git ls-remote "git://127.0.0.1:$PORT/hub.git" >/dev/null 2>&1 && break; sleep 0.1; done
run_kills daemon "git://127.0.0.1:$PORT/hub.git" "$TMP/srv/hub.git"
