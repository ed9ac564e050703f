#!/bin/bash
# Resize during a checklist keeps the answers; kill -9 mid-checklist, start
# again: the TUI offers the draft and every answer is back.  In Chinese.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
"$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
export FIELDBOOK_NOW=2026-11-23T02:00:00Z
C=$("$FB" case new --form signboard --address 解放路12号 --party 某某餐馆)
ZH=(LC_ALL=zh_CN.UTF-8 LANG=zh_CN.UTF-8)

tui_start 80 24 "${ZH[@]}"
wait_for "解放路12号"
keys Enter
wait_for "$C"
keys i
expect_screen "zh_CN checklist shows Chinese form labels" "结构牢固无松动锈蚀倾斜"
keys Down Down p f p
wait_for "3/10"
keys Down Down Enter
wait_for "底部净高"
type_text "2.1"; keys Enter
expect_screen "number answer in the checklist" "! 2.1 m"
keys g m
wait_for "SB01"
type_text "无审批"; keys Enter
expect_screen "note marker" "> +SB01"

screen >"$TMP/before.txt"
tm resize-window -t fb -x 60 -y 20
wait_cols 60
expect_screen "resize to 60x20 keeps the answers" "! 2.1 m"
widest=$(screen | wc -L)
expect_eq "60x20 lines fit" "$((widest <= 60))" 1
expect_screen "resize keeps the selection" "> +SB01"
tm resize-window -t fb -x 80 -y 24
wait_cols 80
screen >"$TMP/after.txt"
if diff -u "$TMP/before.txt" "$TMP/after.txt" >"$TMP/resize.diff"; then
	ok "back to 80x24 the screen is as before"
else
	fail "back to 80x24 the screen is as before"
	sed 's/^/#   /' "$TMP/resize.diff"
fi

# A dead battery: kill -9, no clean exit.
tui_kill
expect_screen "fieldbook killed" "[fieldbook exited 137]"
drafts=$("$FB" drafts --json)
expect_match "the draft survived" "$drafts" '"SB09": 2.1'

tui_start 80 24 "${ZH[@]}"
expect_screen "start offers the draft" "$C"
expect_screen "the offer is a y/n dialog" "y/n"
keys y
expect_screen "resumed into the checklist: fail (zh_CN)" "不合格"
expect_screen "resumed: the number" "! 2.1 m"
expect_screen "resumed: the note marker" "+SB01"
answered=$(screen | grep -c -E " (合格|不合格) *$")
expect_eq "resumed: the three pass/fail answers" "$answered" 3
keys q
wait_for "$C"
keys q q
wait_for "[fieldbook exited 0]"

# n at the offer goes to the list; the draft stays.
tui_start 60 20
expect_screen "offer again (English, 60x20)" "Resume it?"
keys n
expect_screen "n goes to the list" "Cases: open (1)"
keys q
wait_for "[fieldbook exited 0]"
expect_match "draft still there" "$("$FB" drafts --json)" '"SB09": 2.1'
