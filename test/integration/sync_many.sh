#!/bin/bash
# 20 simulated devices, 25 events each, sync concurrently to one path hub
# (compare-and-swap on the hub's branch, fetch-merge-retry with backoff);
# then the hub and, after a final round, every device hold all 500 events.
# Then SYNC_DAEMON_DEVICES (10) of them concurrently through stock git daemon
# (receive-pack's own compare-and-swap; the hook checks every push).
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_PIN=123456
N=${SYNC_DEVICES:-20}
E=${SYNC_EVENTS:-25}
ND=${SYNC_DAEMON_DEVICES:-10}
DPID=
stop_agents() { for i in $(seq "$N"); do [ -S "$TMP/d$i/agent.sock" ] && dev "$i" lock >/dev/null 2>&1; done; }
trap 'stop_agents; [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT

dev() { local h=$1; shift; "$FB" --home "$TMP/d$h" "$@"; }
events_in() { git -C "$1" ls-tree -r --name-only main | grep -c '/events/[^/]*\.json$'; }

make_device() {
	local i=$1 c
	dev "$i" init --officer "3101-$(printf %04d "$i")" --name "officer$i" --unit HZ01 >/dev/null || return 1
	dev "$i" unlock --for 10 >/dev/null || return 1 # the PIN once per device session
	c=$(dev "$i" case new --form signboard --address "路$i号") || return 1
	for k in $(seq 2 "$E"); do dev "$i" note "$c" "记录 $k" >/dev/null || return 1; done
}

start=$(date +%s)
"$TOP/sync/hub-init" "$TMP/hub.git" >/dev/null
pids=()
for i in $(seq "$N"); do make_device "$i" & pids+=($!); done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
expect_eq "$N devices recorded $E events each" "$bad" 0
ok "recording took $(($(date +%s) - start)) s"

t0=$(date +%s.%N)
pids=()
for i in $(seq "$N"); do dev "$i" sync "$TMP/hub.git" >"$TMP/sync$i.log" 2>&1 & pids+=($!); done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
t1=$(date +%s.%N)
expect_eq "every concurrent sync succeeded" "$bad" 0
[ "$bad" = 0 ] || grep -h fieldbook "$TMP"/sync*.log | sed 's/^/#   /' | head
ok "$N concurrent syncs to the path hub took $(echo "$t1 - $t0" | bc) s"
expect_eq "the hub holds all $((N * E)) events" "$(events_in "$TMP/hub.git")" $((N * E))
attempts=$(for i in $(seq "$N"); do dev "$i" sync "$TMP/hub.git" --json --no-push | jq .attempts; done | sort -n | tail -1)
expect_eq "a final fetch round takes one attempt each" "$attempts" 1
bad=0
for i in $(seq "$N"); do [ "$(events_in "$TMP/d$i/ledger.git")" = $((N * E)) ] || bad=$((bad + 1)); done
expect_eq "after a final round every device holds all $((N * E)) events" "$bad" 0
bad=0
for i in $(seq "$N"); do [ "$(dev "$i" list --json | jq length)" = "$N" ] || bad=$((bad + 1)); done
expect_eq "every device lists all $N cases" "$bad" 0
check "git fsck --strict on the hub" git -C "$TMP/hub.git" fsck --strict
check "git fsck --strict on device 1" git -C "$TMP/d1/ledger.git" fsck --strict
check "git fsck --strict on device $N" git -C "$TMP/d$N/ledger.git" fsck --strict
uniq=$(git -C "$TMP/hub.git" ls-tree -r --name-only main | grep '/events/[^/]*\.json$' | xargs -n1 basename | sort -u | wc -l)
expect_eq "every event present once" "$uniq" $((N * E))

# devices 1..ND through stock git daemon with the hook: one more event each
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
mkdir -p "$TMP/srv"
"$TOP/sync/hub-init" "$TMP/srv/hub.git" >/dev/null
git daemon --export-all --enable=receive-pack --base-path="$TMP/srv" --port="$PORT" \
	--listen=127.0.0.1 --reuseaddr --max-connections=64 "$TMP/srv" >"$TMP/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do git ls-remote "git://127.0.0.1:$PORT/hub.git" >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq "$ND"); do dev "$i" note "$(dev "$i" list --json | jq -r '.[0].id')" "daemon round" >/dev/null; done
t0=$(date +%s.%N)
pids=()
for i in $(seq "$ND"); do dev "$i" sync "git://127.0.0.1:$PORT/hub.git" --json >"$TMP/dsync$i.log" 2>&1 & pids+=($!); done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
t1=$(date +%s.%N)
expect_eq "every concurrent sync through git daemon succeeded" "$bad" 0
[ "$bad" = 0 ] || grep -h fieldbook "$TMP"/dsync*.log | sed 's/^/#   /' | head
ok "$ND concurrent syncs through git daemon took $(echo "$t1 - $t0" | bc) s (attempts: $(cat "$TMP"/dsync*.log | jq -s -c 'map(.attempts) | sort' 2>/dev/null))"
expect_eq "the daemon's hub holds all $((N * E + ND)) events" "$(events_in "$TMP/srv/hub.git")" $((N * E + ND))
check "git fsck --strict on the daemon's hub" git -C "$TMP/srv/hub.git" fsck --strict
ok "whole test took $(($(date +%s) - start)) s"
