#!/bin/bash
# A full inspection through the TUI (new case, checklist, record, order,
# reinspect, close) gives the same case state as the same steps through the
# CLI.  Then the case view's refusals and the history view.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
"$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null

# The CLI path.
CLI=$("$FB" case new --form signboard --address 解放路12号 --grid G-07 --lat 24.414 --lon 111.566 --party 某某餐馆)
"$FB" inspect "$CLI" --set SB01=approved --set SB02=XK-2026-001 --set SB03=pass --set SB04=fail \
	--set SB05=pass --set SB06=na --set SB07=pass --set SB08=pass --set SB09=2.1 --set SB10=pass \
	--set SB11=2 --note SB04=锈蚀严重 >/dev/null

# The same through the TUI.
tui_start 80 24
wait_for "Cases: open (1)"
keys n
expect_screen "n offers the checklists" "which checklist?"
keys 4
expect_screen "address prompt" "Address:"
type_text "解放路12号"; keys Enter
wait_for "Grid"; type_text "G-07"; keys Enter
wait_for "Location"; type_text "24.414, 111.566"; keys Enter
wait_for "Party"; type_text "某某餐馆"; keys Enter
expect_screen "new case goes straight into the checklist" "Checklist HZ01-"
TUI=$(screen | sed -n 's/^Checklist \(HZ01-[^ ]*\).*/\1/p')
expect_no_screen "SB02 hidden until SB01 is approved or filed" "SB02"
keys Enter
wait_for "1. Approved"; keys 1
expect_screen "conditional item appears" "SB02   Permit number"
keys Enter
wait_for "SB02 Permit number:"; type_text "XK-2026-001"; keys Enter
expect_screen "text answer shown" "XK-2026-001"
keys p f p n p p
expect_screen "quick keys answer pass/fail/na" ">  SB09"
keys Enter
wait_for "SB09 Ground clearance (m"; type_text "abc"; keys Enter
expect_screen "a bad number shows the form's error" "must be a number"
keys Enter
wait_for "SB09 Ground clearance (m"; keys C-u; type_text "2.1"; keys Enter
expect_screen "number answer shown with unit, marked failed" "! 2.1 m"
keys p Enter
wait_for "SB11 Overview"; type_text "2"; keys Enter
expect_screen "photo count answer" "2 photos"
keys g Down Down Down m
wait_for "Note on SB04:"; type_text "锈蚀严重"; keys Enter
expect_screen "note marker on the item" ">*+SB04"
keys r
expect_screen "record shows a summary" "Record it now?"
expect_screen "summary lists the failure" "x SB04"
expect_screen "summary gives the legal basis" "CJJ/T 149-2021"
expect_screen "summary gives the default days" "default deadline: 1 days"
keys y
expect_screen "recorded: the case view" "Case $TUI  [inspected]"

expect_eq "same answers as the CLI" "$(state_block "$TUI" answers)" "$(state_block "$CLI" answers)"
expect_eq "same failures as the CLI" "$(state_block "$TUI" failures)" "$(state_block "$CLI" failures)"
note_of() { "$FB" show "$1" --json | grep -c '"SB04": "锈蚀严重"'; }
expect_eq "same note as the CLI" "$(note_of "$TUI")" "$(note_of "$CLI")"
site_of() { "$FB" show "$1" --json | grep -E '"(address|grid|lat|lon|name)":' | sort -u; }
expect_eq "same site and party as the CLI" "$(site_of "$TUI")" "$(site_of "$CLI")"

# Order with a deadline, reinspect, close.
keys o
expect_screen "order offers the failed items, all marked" "[x] SB04"
keys Enter
wait_for "Days to rectify"; type_text "3"; keys Enter
expect_screen "order recorded" "[ordered]"
expect_screen "deadline countdown" "3 days left"
keys c
expect_screen "close offers only the outcomes the state allows" "Close with outcome"
expect_no_screen "no rectified before reinspection" "rectified"
keys Escape
wait_gone "Close with outcome"
keys r
expect_screen "reinspection shows the ordered items" "Reinspection $TUI"
expect_no_screen "reinspection hides the items not ordered" "SB03"
keys p
wait_for "SB04 saved"
keys Enter
wait_for "SB09 Ground clearance (m"; type_text "3"; keys Enter
wait_for "3 m"
keys r
wait_for "Record it now?"; keys y
expect_screen "reinspection recorded" "[reinspected]"
keys c
wait_for "Close with outcome"
keys 1
wait_for "Reason"; keys Enter
expect_screen "closed as rectified" "[closed]"
expect_screen "outcome shown" "rectified"
keys n
wait_for "Note:"; type_text "已复查 checked"; keys Enter
expect_screen "note on a closed case" "note"

# History: commit, time, officer, summary; Enter shows the full event.
keys h
expect_screen "history view" "History of $TUI"
expect_screen "history has the commit column" "Commit"
keys Enter
expect_screen "event JSON view" '"case": "'"$TUI"'"'
expect_screen "event JSON keys sorted, indented" '  "at": '
keys G
expect_screen "event JSON scrolls to the end" '"type": "case.opened"'
keys q
wait_for "History of"
keys q
wait_for "Case $TUI"
keys q
expect_screen "back on the list" "Cases: open"
keys q
wait_for "[fieldbook exited 0]"

# A refused step shows the core's message, never a crash: the case is
# closed by the CLI while the TUI shows it as open.
R=$("$FB" case new --form lane --address "Main Street 5")
tui_start 60 20 NO_COLOR=1
wait_for "Main Street 5"
keys Enter
wait_for "Case $R"
"$FB" close "$R" --outcome no-violation >/dev/null
keys c
wait_for "Close with outcome"; keys 1
wait_for "Reason"; keys Enter
expect_screen "refusal shows the core's error" "cannot"
keys q q
expect_screen "NO_COLOR 60x20 session ends cleanly" "[fieldbook exited 0]"

# TERM=vt100 (no colours) works.
TUI_TERM=vt100 tui_start 80 24 TERM=vt100
expect_screen "vt100 terminal opens the list" "Cases:"
keys q
expect_screen "vt100 quits" "[fieldbook exited 0]"
