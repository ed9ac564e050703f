#!/bin/bash
# Two devices change the same case offline and sync through a hub, in either
# order: through a path hub and through stock `git daemon` on 127.0.0.1 with
# the fieldbook hook installed.  Both converge, every event once, fsck clean.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_PIN=123456
DPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT

dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
events_in() { git -C "$1" ls-tree -r --name-only main | grep -c '/events/[^/]*\.json$'; }
unique_events_in() { git -C "$1" ls-tree -r --name-only main | grep '/events/[^/]*\.json$' | xargs -n1 basename | sort -u | wc -l; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

start_daemon() {
	PORT=$(free_port)
	git daemon --export-all --enable=receive-pack --base-path="$TMP/srv" --port="$PORT" \
		--listen=127.0.0.1 --reuseaddr "$TMP/srv" >"$TMP/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		git ls-remote "git://127.0.0.1:$PORT/hub.git" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# scenario NAME URL HUBDIR: devices <NAME>a and <NAME>b
scenario() {
	local n=$1 url=$2 hub=$3 A=${1}a B=${1}b
	check "$n: init device A" dev $A init --officer 3101-0001 --name 张伟 --unit HZ01
	check "$n: init device B" dev $B init --officer 3101-0002 --name 李娜 --unit HZ01
	C=$(dev $A case new --form signboard --address "解放路12号" --lat 24.41 --lon 111.56)
	dev $A inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 >/dev/null
	out=$(dev $A sync "$url" 2>&1); rc=$?
	expect_eq "$n: A pushes to the empty hub" "$rc" 0
	expect_match "$n: the summary counts what was sent" "$out" '2 events sent'
	out=$(dev $B sync "$url" 2>&1)
	expect_match "$n: B receives A's case" "$out" '2 events received \(1 cases changed\)'
	expect_match "$n: list on B shows A's case (index updated)" "$(dev $B list)" "$C"
	# B had recorded nothing: it takes the hub's history as it is, no merge commit to sign
	expect_eq "$n: B's first sync takes the hub's history as it is" \
		"$(git -C "$TMP/$B/ledger.git" rev-parse main)" "$(git -C "$hub" rev-parse main)"
	expect_eq "$n: no merge commit on B" "$(git -C "$TMP/$B/ledger.git" rev-list --merges main | wc -l)" 0
	check "$n: B's ledger is fsck-clean" git -C "$TMP/$B/ledger.git" fsck --strict

	# offline, both change the same case; A first
	dev $A order "$C" --days 3 >/dev/null
	dev $B note "$C" "B: 当事人电话已核实" >/dev/null
	C2=$(dev $B case new --form fencing --address "人民路88号工地" --grid G07)
	check "$n: A syncs first" dev $A sync "$url"
	check "$n: B syncs second (merge)" dev $B sync "$url"
	check "$n: A syncs again" dev $A sync "$url"
	expect_eq "$n: show --json equal on A and B" "$(dev $A show "$C" --json)" "$(dev $B show "$C" --json)"
	expect_eq "$n: list --json equal on A and B" "$(dev $A list --json)" "$(dev $B list --json)"
	expect_match "$n: list on A shows B's case" "$(dev $A list)" "$C2"

	# B first this time
	dev $A note "$C" "A: 已电话通知" >/dev/null
	dev $B note "$C" "B: 复查预约" >/dev/null
	dev $B note "$C2" "B: 围挡缺口" >/dev/null
	check "$n: B syncs first" dev $B sync "$url"
	check "$n: A syncs second (merge)" dev $A sync "$url"
	check "$n: B syncs again" dev $B sync "$url"
	expect_eq "$n: show --json equal after B-first" "$(dev $A show "$C" --json)" "$(dev $B show "$C" --json)"
	expect_eq "$n: heads equal on A, B and the hub" \
		"$(git -C "$TMP/$A/ledger.git" rev-parse main) $(git -C "$TMP/$B/ledger.git" rev-parse main)" \
		"$(git -C "$hub" rev-parse main) $(git -C "$hub" rev-parse main)"
	total=$(events_in "$hub")
	expect_eq "$n: the hub holds all 8 events" "$total" 8
	expect_eq "$n: every event present once" "$(unique_events_in "$hub")" "$total"
	expect_eq "$n: the timeline has every event once" "$(dev $B show "$C" --json | jq '.timeline | length')" 6
	check "$n: git fsck --strict on the hub" git -C "$hub" fsck --strict
	check "$n: git fsck --strict on A" git -C "$TMP/$A/ledger.git" fsck --strict
	check "$n: git fsck --strict on B" git -C "$TMP/$B/ledger.git" fsck --strict
	expect_eq "$n: no commit on the hub modifies or deletes a path" \
		"$(git -C "$hub" log --diff-filter=MDR --format=%H main | wc -l)" 0
	expect_match "$n: merges are two-parent commits" \
		"$(git -C "$hub" log --merges --format=%p -1 main)" '^[0-9a-f]+ [0-9a-f]+$'
	before=$(dev $B show "$C" --json)
	dev $B reindex >/dev/null 2>&1
	expect_eq "$n: reindex after sync equals the incremental index" "$(dev $B show "$C" --json)" "$before"
	expect_match "$n: a second sync is a no-op" "$(dev $A sync "$url")" 'up to date'
}

# --- a path hub --------------------------------------------------------------
check "hub-init creates a bare hub" "$TOP/sync/hub-init" "$TMP/hub.git"
expect_eq "hub: denyNonFastForwards" "$(git -C "$TMP/hub.git" config receive.denyNonFastForwards)" true
expect_eq "hub: denyDeletes" "$(git -C "$TMP/hub.git" config receive.denyDeletes)" true
expect_eq "hub: fsckObjects" "$(git -C "$TMP/hub.git" config receive.fsckObjects)" true
check "hub: the pre-receive hook is executable" test -x "$TMP/hub.git/hooks/pre-receive"
expect_match "hub: the hook runs fieldbook hook pre-receive" "$(cat "$TMP/hub.git/hooks/pre-receive")" 'hook pre-receive'
check_fails "hub-init refuses a non-empty directory" "$TOP/sync/hub-init" "$TMP/hub.git"
scenario path "$TMP/hub.git" "$TMP/hub.git"

# --- clocks that disagree ----------------------------------------------------------
# Device K's clock is a year ahead: after a sync every commit of L, whose
# clock is right, is older than the hub's newest.  libgit2 walks history by
# commit time; fieldbook's record, index and sync must not depend on it.
"$TOP/sync/hub-init" "$TMP/skew.git" >/dev/null
K() { FIELDBOOK_NOW=2027-12-01T08:00:00Z dev skewk "$@"; }
K init --officer 3101-0003 --name 王芳 --unit HZ01 >/dev/null
check "clocks: init device L" dev skewl init --officer 3101-0004 --name 赵磊 --unit HZ01
KC=$(K case new --form signboard --address "延安路1号" --lat 24.41 --lon 111.56)
check "clocks: K (a year ahead) pushes" K sync "$TMP/skew.git"
check "clocks: L takes the hub's history" dev skewl sync "$TMP/skew.git"
for i in 1 2 3; do dev skewl note "$KC" "L: 第${i}次回访" >/dev/null; done
expect_match "clocks: L's events behind the newest commit are indexed" \
	"$(dev skewl show "$KC" --json | jq '.timeline | length')" '^4$'
check "clocks: L pushes (fast-forward, older commits on top)" dev skewl sync "$TMP/skew.git"
K note "$KC" "K: 已整改" >/dev/null
dev skewl note "$KC" "L: 复查" >/dev/null
check "clocks: K syncs (merge)" K sync "$TMP/skew.git"
check "clocks: L syncs (merge)" dev skewl sync "$TMP/skew.git"
check "clocks: K syncs again" K sync "$TMP/skew.git"
expect_eq "clocks: heads equal on K, L and the hub" \
	"$(git -C "$TMP/skewk/ledger.git" rev-parse main) $(git -C "$TMP/skewl/ledger.git" rev-parse main)" \
	"$(git -C "$TMP/skew.git" rev-parse main) $(git -C "$TMP/skew.git" rev-parse main)"
expect_eq "clocks: show --json equal on K and L" "$(K show "$KC" --json)" "$(dev skewl show "$KC" --json)"
expect_match "clocks: the timeline has all 6 events" "$(dev skewl show "$KC" --json | jq '.timeline | length')" '^6$'
expect_eq "clocks: every event on the hub once" "$(unique_events_in "$TMP/skew.git")" 6
check "clocks: git fsck --strict on the hub" git -C "$TMP/skew.git" fsck --strict
# Commit times never go back along the history (merges included): each is
# the device's clock or, when a parent's is later, the parent's.  The
# author time keeps the device's clock: L's notes say 2026, K's 2027.
going_back() {
	git -C "$1" log --format='%H %ct %P' main | awk '
		{ t[$1] = $2; for (i = 3; i <= NF; i++) kids[$1] = kids[$1] " " $i }
		END { for (c in kids) { n = split(kids[c], p, " ");
			for (i = 1; i <= n; i++) if (t[p[i]] > t[c]) bad++ }
			print bad + 0 }'
}
expect_eq "clocks: no commit on the hub is older than its parents (git log)" "$(going_back "$TMP/skew.git")" 0
expect_match "clocks: a merge on the hub (git log --merges)" \
	"$(git -C "$TMP/skew.git" log --merges --format=%H main | wc -l)" '^[1-9]'
expect_eq "clocks: L's notes keep L's clock as author time, K's as commit time" \
	"$(git -C "$TMP/skewl/ledger.git" log --author=3101-0004 --no-merges --format='%ad %cd' \
		--date=format:%Y main | sort -u)" "$(date -u +%Y) 2027"
before=$(dev skewl list --json)
dev skewl reindex >/dev/null 2>&1
expect_eq "clocks: reindex equals the incremental index" "$(dev skewl list --json)" "$before"

# A new device's first fetch from a hub holding only packs, over this history
# with merges: the walk that validates it (merges checked on its own thread)
# also lists what the device lacks.  The newest merge's own objects (the commit
# and the trees that join its parents) sit in a pack that is mostly unreachable
# objects, which is not taken whole: they arrive only if the list has them.
M=$(git -C "$TMP/skew.git" rev-list --merges -1 main)
own=$(git -C "$TMP/skew.git" rev-list --objects "$M" --not "$M^1" "$M^2" | cut -c1-40)
two_pack_hub "$TMP/skew.git" "$TMP/skewpacked.git" "$own"
expect_match "packed merges: the merge brings trees of its own" "$(echo "$own" | wc -w)" '^([2-9]|[1-9][0-9]+)$'
dev skewm init --officer 3101-0005 --name 钱七 --unit HZ01 >/dev/null
check "packed merges: a new device takes the hub's history" dev skewm sync "$TMP/skewpacked.git" --no-push
expect_eq "packed merges: ... as it is" "$(git -C "$TMP/skewm/ledger.git" rev-parse main)" \
	"$(git -C "$TMP/skew.git" rev-parse main)"
check "packed merges: git fsck --strict on the new device" git -C "$TMP/skewm/ledger.git" fsck --strict --no-dangling
expect_eq "packed merges: the merge's own objects arrived" \
	"$(count_present "$TMP/skewm/ledger.git" "$own")" "$(echo "$own" | wc -w)"
expect_eq "packed merges: the unreachable objects did not" \
	"$(count_present "$TMP/skewm/ledger.git" "$(cat "$TMP/skewpacked.git.junk")")" 0
expect_eq "packed merges: show --json equal on the new device and L" \
	"$(dev skewm show "$KC" --json)" "$(dev skewl show "$KC" --json)"

# remotes
check "remote add" dev patha remote add station "$TMP/hub.git"
expect_match "remote list" "$(dev patha remote list)" "^station +$TMP/hub.git"
check_fails "remote add twice is refused" dev patha remote add station "$TMP/hub.git"
expect_match "sync with no argument uses the only remote" "$(dev patha sync)" 'sync with station: up to date'
check "remote remove" dev patha remote remove station
check_fails "remote remove of an unknown remote fails" dev patha remote remove station
out=$(dev patha sync 2>&1); rc=$?
expect_eq "sync with no remote fails" "$rc" 1
expect_match "and says what to do" "$out" 'remote add'
out=$(dev patha sync "$TMP/nohub.git" 2>&1)
expect_match "sync to a missing path names it" "$out" 'nohub.git'
check "file:// URLs work" dev patha sync "file://$TMP/hub.git"

# --- git daemon -------------------------------------------------------------------
mkdir -p "$TMP/srv"
"$TOP/sync/hub-init" "$TMP/srv/hub.git" >/dev/null
if start_daemon; then
	ok "git daemon serves the hub on 127.0.0.1:$PORT"
	scenario daemon "git://127.0.0.1:$PORT/hub.git" "$TMP/srv/hub.git"
	# a named remote over git://
	dev daemona remote add hub "git://127.0.0.1:$PORT/hub.git"
	out=$(dev daemona sync --json 2>&1); expect_match "git:// through a named remote" "$out" "\"remote\": \"hub\""
else
	fail "git daemon did not start"; cat "$TMP/daemon.log"
fi
