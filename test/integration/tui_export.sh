#!/bin/bash
# Export from the TUI: x in the case view asks for the output, folder or
# zip, complete or redacted; Esc cancels with nothing written; the package
# is written with a progress bar, verified, and the verdict shown; the CLI
# and stock sha256sum agree.  The stats screen (T on the list): counts per
# grid, Tab cycles the grouping, a date range, 60x20, zh_CN.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
fb() { "$FB" "$@"; }

fb init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null || fail "init"
C=$(fb --lat 24.414 --lon 111.566 case new --form signboard --address "解放路12号" --grid G-07 \
	--party "某某餐馆" --contact "13800138000")
fb inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 --note SB04="招牌破损" >/dev/null || fail "inspect"
"$BUILDDIR/tools/mkjpeg" "$TMP/p.jpg" --lat 24.414 --lon 111.566 --taken "2026:11:23 10:00:00" \
	--offset +08:00 --seed 1 >/dev/null
fb attach "$C" "$TMP/p.jpg" --item SB04 >/dev/null || fail "attach"

open_case() {
	tui_start "$1" "$2"
	wait_for "Cases: open (1)" || return 1
	keys Enter
	wait_for "Case $C" || return 1
}

# --- cancel: Esc at each step writes nothing -----------------------------------------------------
open_case 80 24
keys ?
expect_screen "the case view's help offers export" "Export"
keys q
wait_for "Case $C"
keys x
expect_screen "the output prompt with the default folder" "fieldbook-export/$C"
keys Escape
wait_gone "Export to:"
keys x
wait_for "Export to:"
keys Enter
expect_screen "folder or zip" "Write the package as"
keys Escape
wait_gone "Write the package as"
expect_eq "Esc wrote nothing" "$(ls -A "$HOME")" ""

# --- a folder ---------------------------------------------------------------------------------------
P="$TMP/out/pkg"
keys x
wait_for "Export to:"
keys C-u
type_text "$P"
keys Enter
wait_for "Write the package as"
keys 1
expect_screen "complete or redacted" "Package contents"
keys 1
expect_screen "the summary screen" "Export of $C: verified" 30
expect_screen "the verdict line" "VERIFIED: "
expect_screen "the path" "Package: $P"
out=$(fb verify "$P"); rc=$?
expect_eq "fieldbook verify accepts the package" "$rc" 0
expect_match "its verdict" "$out" "^VERIFIED: package of case $C"
check "stock sha256sum -c passes on the bag" sh -c "cd '$P' && sha256sum --quiet -c manifest-sha256.txt"
S=$(sha256sum "$TMP/p.jpg" | cut -d' ' -f1)
[ -f "$P/data/photos/$S.jpg" ] && ok "the photo is in the package" || fail "the photo is in the package"

# --- the same folder again: the core's error, no crash --------------------------------------------
keys q
wait_for "Case $C"
keys x
wait_for "Export to:"
keys C-u
type_text "$P"
keys Enter
wait_for "Write the package as"
keys 1
wait_for "Package contents"
keys 1
wait_gone "Package contents"
expect_screen "a non-empty folder is refused with the core's reason" "exists and is not an empty directory"
expect_screen "the case view stays" "Case $C"
expect_no_screen "no summary" "Export of $C: verified"

# --- a redacted zip, from export_dir ---------------------------------------------------------------
keys q
wait_for "Cases: open (1)"
keys q
wait_for "[fieldbook exited 0]"
jq --arg d "$TMP/exports" '. + {export_dir: $d}' "$FIELDBOOK_HOME/config" >"$TMP/cfg" &&
	cat "$TMP/cfg" >"$FIELDBOOK_HOME/config"
open_case 80 24
keys x
expect_screen "the default follows export_dir" "$TMP/exports/$C"
keys Enter
wait_for "Write the package as"
keys 2
wait_for "Package contents"
keys 2
expect_screen "the zip's summary" "Export of $C: verified" 30
expect_screen "redacted" "Redacted for publication"
Z="$TMP/exports/$C.zip"
[ -f "$Z" ] && ok "the zip is written with .zip added" || fail "the zip is written with .zip added"
check "fieldbook verify accepts the zip" fb verify "$Z"
check_fails "no party contact in the redacted zip" sh -c "unzip -p '$Z' 'data/*' 2>/dev/null | grep -aq 13800138000"
keys q
wait_for "Case $C"
keys q
wait_for "Cases: open (1)"

# --- stats ----------------------------------------------------------------------------------------------
keys T
expect_screen "the stats screen" "Statistics by Grid, all dates"
expect_screen "column titles" "days/close"
row=$(screen | grep -E '^G-07 ')
expect_match "the case's grid, 1 opened, 0 closed, 1 open" "$row" '^G-07 +1 +0 +[01] +1 +- *$'
expect_match "the total row" "$(screen)" 'total +1 '
keys Tab
expect_screen "Tab: by category" "Statistics by Category"
keys Tab
expect_screen "Tab: by officer" "Statistics by Officer"
expect_screen "the officer" "3101-0042"
keys d
wait_for "Opened from"
type_text "2000-01-01"
keys Enter
wait_for "Opened until"
type_text "2000-12-31"
keys Enter
expect_screen "a range with nothing in it" "No cases in this range"
expect_screen "the range in the title" "2000-01-01 .. 2000-12-31"
keys d
wait_for "Opened from"
keys C-u
type_text "nonsense"
keys Enter
expect_screen "a bad date is refused" "not a date"
keys d
wait_for "Opened from"
keys C-u Enter
wait_for "Opened until"
keys C-u Enter
expect_screen "empty dates: all again" "Statistics by Officer, all dates"
keys q
expect_screen "q: back to the list" "Cases: open (1)"
keys q
wait_for "[fieldbook exited 0]"

# --- 60x20 ---------------------------------------------------------------------------------------------
tui_start 60 20
wait_for "Cases: open (1)"
keys T
wait_for "Statistics by Grid"
wait_cols 60
expect_screen "60x20: the grid row" "G-07"
expect_eq "60x20: no line wider than the terminal" "$(screen | awk '{ print }' | wc -L | awk '$1 > 60')" ""
keys Escape
wait_for "Cases: open (1)"
keys Enter
wait_for "Case $C"
keys x
wait_for "Export to:"
keys C-u
type_text "$TMP/out/small"
keys Enter
wait_for "Write the package as"
keys 1
wait_for "Package contents"
keys 1
expect_screen "60x20: the export's summary" "verified" 30
expect_eq "60x20: no line wider than the terminal during the summary" "$(screen | wc -L | awk '$1 > 60')" ""
check "60x20: the package verifies" fb verify "$TMP/out/small"
keys q
wait_for "Case $C"
keys q
wait_for "Cases: open (1)"
keys q
wait_for "[fieldbook exited 0]"

# --- zh_CN -------------------------------------------------------------------------------------------------
tui_start 80 24 LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 LANGUAGE=zh_CN
wait_for "解放路12号"
keys T
expect_screen "zh_CN: the stats screen opens" "G-07"
expect_screen "zh_CN: Chinese column titles" "平均结案天数"
expect_eq "zh_CN: no line wider than the terminal" "$(screen | wc -L | awk '$1 > 80')" ""
keys q
keys q
wait_for "[fieldbook exited 0]"
