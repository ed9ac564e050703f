#!/bin/bash
# The case list in the TUI: filters, search, sort, overdue marking, help,
# at 80x24 and 60x20, English and Chinese.  Driven through tmux.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
"$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null

# Four cases made on 2026-11-20 with the CLI.
export FIELDBOOK_NOW=2026-11-20T02:00:00Z
A=$("$FB" case new --form signboard --address 解放路12号 --party 某某餐馆)
"$FB" inspect "$A" --set SB04=fail --set SB11=2 >/dev/null
"$FB" order "$A" --days 3 >/dev/null
B=$("$FB" case new --form lane --address "Main Street 5" --party "ACME Noodles")
C=$("$FB" case new --form signboard --address 沿江路8号 --party 小吃店)
"$FB" close "$C" --outcome no-violation >/dev/null
D=$("$FB" case new --form signboard --address 人民路3号 --party 五金店)
"$FB" inspect "$D" --set SB04=fail --set SB11=2 >/dev/null
"$FB" order "$D" --days 30 >/dev/null
# The TUI runs on 2026-12-01: A is 8 days overdue.
export FIELDBOOK_NOW=2026-12-01T02:00:00Z

tui_start 80 24
expect_screen "list opens on the open cases" "Cases: open (3)"
expect_screen "status bar shows officer and unit" "张伟 3101-0042 | HZ01"
expect_screen "overdue case shows days overdue" "overdue +8d"
expect_no_screen "closed case not in the open list" "沿江路8号"
expect_screen "case id column at 80 columns" "$A"

keys f
expect_screen "filter picker opens" "Show cases"
keys 3
expect_screen "overdue filter" "Cases: overdue (1)"
expect_no_screen "overdue filter hides the case on time" "人民路3号"

keys Tab
expect_screen "Tab goes to the next filter (closed)" "Cases: closed (1)"
expect_screen "closed case listed" "沿江路8号"
keys Tab
expect_screen "Tab to all" "Cases: all (4)"

keys /
expect_screen "search prompt" "Search:"
type_text "江路"
keys Enter
expect_screen "Chinese search finds one case" "search: 江路"
expect_screen "Chinese search shows the right case" "沿江路8号"
expect_no_screen "Chinese search hides the others" "解放路12号"

keys /
wait_for "Search:"
keys C-u
type_text "noodles"
keys Enter
expect_screen "English search (any case) finds the right case" "Main Street 5"
expect_no_screen "English search hides the others" "沿江路8号"

keys /
wait_for "Search:"
keys C-u Enter
wait_gone "search:"
keys f
wait_for "Show cases"
keys 1
wait_for "Cases: open (3)"
keys o
expect_screen "sort by deadline" "sort: deadline"
rows=$(screen | grep -nE "解放路12号|人民路3号|Main Street 5" | cut -d: -f2 | tr -d ' ' | cut -c1-6 | tr '\n' ' ')
first=$(screen | grep -E "解放路12号|人民路3号|Main Street 5" | head -1)
last=$(screen | grep -E "解放路12号|人民路3号|Main Street 5" | tail -1)
expect_match "earliest deadline first" "$first" "解放路12号"
expect_match "case without deadline last" "$last" "Main Street 5"

keys "?"
expect_screen "help is generated from the key table" "Keys on this screen"
expect_screen "help lists the search key" "Search"
screen >"$TMP/help.txt"
[ -n "${TUI_SAVE_DUMPS:-}" ] && cp "$TMP/help.txt" "$TOP/test/tui/list-help-80x24.txt"
if diff -u "$TOP/test/tui/list-help-80x24.txt" "$TMP/help.txt" >"$TMP/help.diff"; then
	ok "help screen matches the expected dump"
else
	fail "help screen matches the expected dump"
	sed 's/^/#   /' "$TMP/help.diff"
fi
keys q
expect_screen "q leaves the help" "Cases: open"
keys Escape
keys q
expect_screen "q on the list quits" "[fieldbook exited 0]"

# 60x20: the case id column is dropped, status, deadline and address stay.
tui_start 60 20
expect_screen "60x20 list opens" "Cases: open (3)"
expect_screen "60x20 shows the overdue marker" "overdue +8d"
expect_no_screen "60x20 drops the case id column" "$A"
widest=$(screen | wc -L)
expect_eq "60x20 no line wider than the terminal" "$((widest <= 60))" 1
keys q
wait_for "[fieldbook exited 0]"

# Chinese: form data and addresses line up; the list works the same.
tui_start 80 24 LC_ALL=zh_CN.UTF-8 LANG=zh_CN.UTF-8
expect_screen "zh_CN list opens" "人民路3号"
keys /
type_text "解放"
keys Enter
expect_screen "zh_CN search finds the case" "某某餐馆"
expect_no_screen "zh_CN search hides the others" "五金店"
col_a=$(screen | grep "某某餐馆" | awk '{print index($0, "某某餐馆")}')
expect_match "zh_CN row drawn" "$col_a" "^[0-9]+$"
keys q
expect_screen "zh_CN quits" "[fieldbook exited 0]"
