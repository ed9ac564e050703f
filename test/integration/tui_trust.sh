#!/bin/bash
# Trust in the TUI: the masked PIN prompt (right, wrong, locked again by L
# and by the idle timeout), signature marks on the timeline (ok, and an
# approval flagged because its officer is not a supervisor), the review
# queue (overdue first, then closures; approve from the queue), the role
# warning.  80x24 and 60x20, English and Chinese.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
"$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
export FIELDBOOK_NOW=2026-11-20T02:00:00Z
A=$("$FB" case new --form signboard --address 解放路12号 --party 某某餐馆)
"$FB" inspect "$A" --set SB04=fail --set SB11=2 >/dev/null
"$FB" order "$A" --days 3 >/dev/null
C=$("$FB" case new --form lane --address "Main Street 5")
"$FB" close "$C" --outcome no-violation >/dev/null
export FIELDBOOK_NOW=2026-12-01T02:00:00Z

# --- the PIN prompt (no $FIELDBOOK_PIN)
tui_start 80 24 -u FIELDBOOK_PIN
wait_for "解放路12号" # the open list: A (C is closed)
keys Down
keys Enter
wait_for "Case $A"
keys n
wait_for "Note:"; type_text "needs a signature"; keys Enter
expect_screen "recording asks for the PIN" "Officer PIN to sign"
type_text "000000"
expect_screen "the PIN is masked" "Esc cancels): ******"
expect_no_screen "the PIN itself is not shown" "000000"
keys Enter
expect_screen "a wrong PIN shows the core's message" "wrong PIN"
expect_eq "nothing recorded with a wrong PIN" "$("$FB" show "$A" --json | jq '[.timeline[] | select(.event.type == "note.added")] | length')" 0
keys n
wait_for "Note:"; type_text "needs a signature"; keys Enter
wait_for "Officer PIN to sign"; type_text "123456"; keys Enter
expect_screen "the right PIN records the note" "Recorded "
expect_eq "the note is in the ledger" "$("$FB" show "$A" --json | jq -r '[.timeline[] | select(.event.type == "note.added")][0].event.text')" "needs a signature"
keys n
wait_for "Note:"; type_text "second"; keys Enter
expect_screen "unlocked: the next record asks no PIN" "Recorded "
expect_no_screen "no PIN prompt the second time" "Officer PIN"
keys q
wait_for "Cases: open"
keys L
expect_screen "L locks the key" "Locked: the next record asks for the PIN"
keys Enter
wait_for "Case $A"
keys n
wait_for "Note:"; type_text "third"; keys Enter
expect_screen "after L the PIN is asked again" "Officer PIN to sign"
keys Escape
expect_screen "Esc at the PIN records nothing" "no PIN given"
keys q q
wait_for "[fieldbook exited 0]"

# Idle timeout: unlock_timeout_min in the config (here 2.4 s).
jq '.unlock_timeout_min = 0.04' "$FIELDBOOK_HOME/config" >"$TMP/c" && cp "$TMP/c" "$FIELDBOOK_HOME/config"
tui_start 80 24 -u FIELDBOOK_PIN
wait_for "解放路12号" # the open list: A (C is closed)
keys Down Enter
wait_for "Case $A"
keys n
wait_for "Note:"; type_text "fourth"; keys Enter
wait_for "Officer PIN to sign"; type_text "123456"; keys Enter
wait_for "Recorded "
expect_screen "idle past the timeout locks the key" "Locked after" 15
keys n
wait_for "Note:"; type_text "fifth"; keys Enter
expect_screen "after the timeout the PIN is asked again" "Officer PIN to sign"
type_text "123456"; keys Enter
expect_screen "and the note is recorded" "Recorded "
keys q q
wait_for "[fieldbook exited 0]"
jq 'del(.unlock_timeout_min)' "$FIELDBOOK_HOME/config" >"$TMP/c" && cp "$TMP/c" "$FIELDBOOK_HOME/config"

# --- signature marks: this officer is in no roster, so every event is
# flagged; an admin workspace's events are all valid.
tui_start 80 24
wait_for "解放路12号" # the open list: A (C is closed)
keys Down Enter
wait_for "Case $A"
expect_screen "events signed by a key not in the roster are flagged" "Signature not valid: signed by a key not in the roster"
expect_no_screen "no ok mark on them" "✓"
expect_screen "the flag mark" "!  2026-11-20"
keys Enter
expect_screen "the event view gives the reason" "Signature: NOT VALID: signed by a key not in the roster"
keys q q q
wait_for "[fieldbook exited 0]"

export FIELDBOOK_HOME="$TMP/admin" FIELDBOOK_NOW=2026-11-19T02:00:00Z
"$FB" init --officer 3101-0001 --name 李主任 --unit HZ01 --admin >/dev/null
export FIELDBOOK_NOW=2026-11-20T02:00:00Z
O=$("$FB" case new --form signboard --address 人民路3号 --party 五金店)
"$FB" inspect "$O" --set SB04=fail --set SB11=2 >/dev/null
"$FB" order "$O" --days 3 >/dev/null
K=$("$FB" case new --form lane --address "Harbour Road 9")
"$FB" close "$K" --outcome no-violation >/dev/null
export FIELDBOOK_NOW=2026-12-01T02:00:00Z
tui_start 80 24
wait_for "人民路3号"
keys Enter
wait_for "Case $O"
expect_screen "valid events are marked ok" "✓  2026-11-20"
expect_no_screen "nothing flagged" "Signature not valid"
keys q
wait_for "Cases: open"

# --- the review queue: overdue order first, then the closure
keys R
expect_screen "R opens the review queue" "Review queue (2)"
expect_screen "the admin is not a supervisor: the warning" "does not give 3101-0001 the"
q=$(screen)
first=$(printf '%s\n' "$q" | grep -nE "^(overdue|closure) " | head -1)
expect_match "overdue order listed first" "$first" "overdue +$O"
expect_match "then the closure" "$q" "closure +$K"
keys Enter
expect_screen "Enter opens the case" "Case $O"
keys q
wait_for "Review queue"
keys Down a
expect_screen "approving warns about the role" "Not a supervisor here"
keys y
wait_for "Note (optional):"; type_text "ok"; keys Enter
expect_screen "approved from the queue" "Approved $K"
expect_screen "the closure left the queue" "Review queue (1)"
expect_eq "review.approved recorded" "$("$FB" show "$K" --json | jq -r .state.review)" approved
keys q
wait_for "Cases: open"
keys f
wait_for "Show cases"; keys 5
wait_for "Cases: all"
keys /
wait_for "Search:"; type_text "Harbour"; keys Enter
wait_for "Harbour Road 9"
keys Enter
wait_for "Case $K"
expect_screen "the case view shows the review state" "Review     approved"
keys G
expect_screen "the approval by a non-supervisor is flagged with the reason" "needs the supervisor role"
expect_screen "its mark" "!  2026-12-01"
keys q q
wait_for "[fieldbook exited 0]"

# Approve/return from the case view; return needs a reason.  60x20, NO_COLOR:
# ASCII marks.
K2=$("$FB" case new --form lane --address "Dock Lane 2")
"$FB" close "$K2" --outcome no-violation >/dev/null
tui_start 60 20 NO_COLOR=1
wait_for "Cases: open"
keys f
wait_for "Show cases"; keys 5
wait_for "Cases: all"
keys /
wait_for "Search:"; type_text "Dock"; keys Enter
wait_for "Dock Lane 2"
keys Enter
wait_for "Case $K2"
expect_screen "monochrome marks are ASCII" "ok 2026-12-01"
expect_screen "closed, waiting for approval" "awaiting approval"
expect_screen "approve and return offered" "A Approve t Return"
keys t
wait_for "Not a supervisor here"; keys y
wait_for "Reason for returning:"; keys Enter
expect_screen "return without a reason is refused" "needs a reason"
keys t
wait_for "Not a supervisor here"; keys y
wait_for "Reason for returning:"; type_text "照片不清楚"; keys Enter
expect_screen "returned from the case view" "Returned $K2"
expect_eq "review.returned recorded" "$("$FB" show "$K2" --json | jq -r .state.review)" returned
keys q q
wait_for "[fieldbook exited 0]"

# Chinese.
LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 tui_start 80 24 LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8
wait_for "人民路3号"
keys R
expect_screen "review queue in Chinese" "审核队列"
keys q q
wait_for "[fieldbook exited 0]"
