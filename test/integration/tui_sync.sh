#!/bin/bash
# Sync from the TUI: S on the list, pick a hub, the summary; the list then
# shows the cases that came in.  Without a hub: a message, no crash.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
dev a init --officer 3101-0001 --name 张伟 --unit HZ01 >/dev/null
dev b init --officer 3101-0002 --name 李娜 --unit HZ01 >/dev/null
export FIELDBOOK_HOME="$TMP/a"

tui_start 80 24
wait_for "Cases: open (0)"
keys S
expect_screen "no hub: a message" "no hub to sync with"
keys q
wait_for "[fieldbook exited 0]"

"$TOP/sync/hub-init" "$TMP/hub.git" >/dev/null 2>&1 || git init -q --bare "$TMP/hub.git"
git init -q --bare "$TMP/other.git"
dev b case new --form signboard --address 解放路12号 >/dev/null
dev b sync "$TMP/hub.git" >/dev/null 2>&1
dev a remote add central "$TMP/hub.git" >/dev/null
dev a remote add spare "$TMP/other.git" >/dev/null
dev a case new --form lane --address "Main Street 5" >/dev/null

tui_start 80 24
wait_for "Cases: open (1)"
expect_screen "before the sync, the status bar counts the event no hub has" "unsynced 1 "
keys S
expect_screen "two hubs: a picker" "Sync with"
expect_screen "the picker names the hubs" "central  $TMP/hub.git"
keys 1
expect_screen "the summary" "Sync with central: done"
expect_screen "events received" "Received: 1 events"
expect_screen "events sent" "Sent: 1 events"
expect_screen "merged" "merged"
keys q
expect_screen "the list shows the case that came in" "Cases: open (2)"
expect_screen "the other device's case" "解放路12号"
expect_screen "after the sync nothing is unsynced" "unsynced 0 "
expect_eq "the hub has both cases" "$(git -C "$TMP/hub.git" ls-tree -r --name-only main | grep -c 'case.opened\|/events/' | tr -d ' ')" "$(git -C "$TMP/a/ledger.git" ls-tree -r --name-only main | grep -c 'case.opened\|/events/' | tr -d ' ')"
keys q
wait_for "[fieldbook exited 0]"

# a sync that only pushes (nothing comes in, the local head does not move)
# still clears the count; a count past 99 shows as 99+
A1=$("$FB" list --status all --json | jq -r '.[0].id')
"$FB" note "$A1" "回访一次" >/dev/null
tui_start 80 24
expect_screen "a new note is unsynced" "unsynced 1 "
keys S
wait_for "Sync with"
keys 1
expect_screen "the push-only sync is done" "Sync with central: done"
keys q
expect_screen "after a push-only sync nothing is unsynced" "unsynced 0 "
keys q
wait_for "[fieldbook exited 0]"
FIELDBOOK_PIN=123456 "$FB" unlock --for 5 >/dev/null
for i in $(seq 100); do "$FB" note "$A1" "第 $i 次" >/dev/null || break; done
"$FB" lock >/dev/null
tui_start 80 24
expect_screen "a hundred notes show as 99+" "unsynced 99+ "
keys q
wait_for "[fieldbook exited 0]"
