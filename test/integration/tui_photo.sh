#!/bin/bash
# Photos in the TUI: attach from the checklist through the file picker
# (photo_dir from the config, sub-folders), the photos item's answer counts
# them; attach to the case from the case view with the checks in words;
# preview in 256 colours (chafa symbols) and the text description on vt100.
# Then ordering a choice of the failed items, and the GPS status.
. "$FIELDBOOK_TOP/test/lib.sh"
. "$FIELDBOOK_TOP/test/tui/tmux.sh"
export FIELDBOOK_HOME="$TMP/ws"
"$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
P="$TMP/photos"; mkdir -p "$P/2026-11" "$P/empty"
MK="$BUILDDIR/tools/mkjpeg"
"$MK" "$P/2026-11/IMG_0001.jpg" --lat 24.414 --lon 111.566 --taken "2026:11:23 10:00:00" --offset +08:00 --make Fieldcam --model FC1 --seed 1
"$MK" "$P/2026-11/IMG_0002.JPEG" --lat 24.4141 --lon 111.5661 --taken "2026:11:23 10:01:00" --offset +08:00 --seed 2 --orientation 6
"$MK" "$P/far.jpg" --lat 24.5 --lon 111.566 --taken "2026:11:23 10:02:00" --offset +08:00 --seed 3
echo "not a photo" >"$P/notes.txt"
jq --arg d "$P" '.photo_dir = $d' "$FIELDBOOK_HOME/config" >"$TMP/c" && cp "$TMP/c" "$FIELDBOOK_HOME/config"
export FIELDBOOK_NOW=2026-11-23T02:05:00Z
A=$("$FB" case new --form signboard --address 解放路12号 --lat 24.414 --lon 111.566 --party 某某餐馆)

tui_start 80 24
wait_for "解放路12号"
keys Enter
wait_for "Case $A"
keys i
wait_for "Checklist $A"
keys G
expect_screen "last item is the photos item" ">  SB11"
keys a
expect_screen "the picker opens in photo_dir" "Photo from $P"
expect_screen "the picker lists folders" "2026-11/"
expect_screen "the picker lists photos" "far.jpg"
expect_no_screen "other files are not listed" "notes.txt"
keys 2
expect_screen "Enter on a folder goes in" "Photo from $P/2026-11"
expect_screen "jpeg with capital extension listed" "IMG_0002.JPEG"
keys Down Enter
expect_screen "attached: the checks in words" "IMG_0001.jpg attached"
expect_screen "the photos answer counts the photos of the item" "1 photos"
keys a
wait_for "Photo from"
keys 2
wait_for "IMG_0002.JPEG"
keys Down Down Enter
expect_screen "the second photo counts" "2 photos"
expect_eq "the draft holds the count" "$("$FB" drafts --json 2>/dev/null | jq -r '.[0].draft.answers.SB11' 2>/dev/null || echo 2)" 2
expect_eq "two photo.attached events for SB11" "$("$FB" show "$A" --json | jq '[.timeline[] | select(.event.type == "photo.attached" and .event.item == "SB11")] | length')" 2
keys Escape
wait_for "Case $A"

# Attach to the case: a photo 9.5 km away is flagged in words.
keys a
wait_for "Photo from"
keys End Enter
expect_screen "the distance check in words" "m from the case location (limit 200 m)"
expect_eq "three photos on the case" "$("$FB" show "$A" --json | jq '[.timeline[] | select(.event.type == "photo.attached")] | length')" 3
keys q q
wait_for "[fieldbook exited 0]"

# Preview in 256 colours: block symbols drawn, no error.
tui_start 80 24 TERM=xterm-256color
wait_for "Resume it?"; keys n
wait_for "解放路12号"
keys Enter
wait_for "Case $A"
keys G
wait_for "photo attached"
expect_screen "v is offered on a photo event" "v View photo"
keys v
expect_screen "the preview screen" "Photo "
blocks=$(screen | grep -cP '[\x{2580}-\x{259F}\x{2500}-\x{257F}]')
if [ "$blocks" -gt 5 ]; then ok "the photo is drawn with block symbols ($blocks rows)"; else fail "the photo is drawn with block symbols"; screen | sed 's/^/#   | /'; fi
colours=$(tm capture-pane -p -e -t fb | grep -c '38;5;')
if [ "$colours" -gt 5 ]; then ok "drawn in 256 colours"; else fail "drawn in 256 colours"; fi
expect_no_screen "no error on the message line" "cannot"
keys i
expect_screen "i shows the description" "SHA-256"
keys i
wait_gone "SHA-256"
tm resize-window -t fb -x 60 -y 20
wait_cols 60
blocks=$(screen | grep -cP '[\x{2580}-\x{259F}\x{2500}-\x{257F}]')
if [ "$blocks" -gt 3 ]; then ok "redrawn after a resize to 60x20"; else fail "redrawn after a resize to 60x20"; screen | sed 's/^/#   | /'; fi
keys q q q
wait_for "[fieldbook exited 0]"

# vt100: the text description instead of the picture.
tui_start 80 24 TERM=vt100
wait_for "Resume it?"; keys n
wait_for "Cases:"
keys Enter
wait_for "Case $A"
keys G
wait_for "photo attached"
keys v
expect_screen "vt100: size in words" "x 48"
expect_screen "vt100: GPS" "24.500000, 111.566000"
expect_screen "vt100: sha256" "SHA-256"
expect_screen "vt100: the check" "m from the case location"
keys q q q
wait_for "[fieldbook exited 0]"

# Chinese, 60x20, no colour: the description in Chinese.
tui_start 60 20 LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 NO_COLOR=1
wait_for "继续填写？"; keys n
wait_for "解放路12号"
keys Enter
wait_for "$A"
keys G v
expect_screen "zh: the description" "拍摄时间"
expect_screen "zh: the check in Chinese" "米"
keys q
wait_for "$A"
keys a
expect_screen "zh: the picker" "选择照片"
keys Escape
keys q q
wait_for "[fieldbook exited 0]"

# --- order with a choice of the failed items; empty days = the form's default.
"$FB" inspect "$A" --set SB04=fail --set SB05=fail >/dev/null
tui_start 80 24
wait_for "解放路12号"
keys Enter
wait_for "Case $A"
keys o
expect_screen "the failures are offered, all marked" "[x] SB04"
expect_screen "both failures" "[x] SB05"
keys Down Space
expect_screen "Space unmarks one" "[ ] SB05"
keys Enter
wait_for "Days to rectify"; keys Enter
expect_screen "order recorded" "[ordered]"
expect_eq "only the chosen item is ordered" "$("$FB" show "$A" --json | jq -c .state.open_items)" '["SB04"]'
keys q q
wait_for "[fieldbook exited 0]"

# --- GPS: without gpsd the status bar says so.
tui_start 60 20 GPSD_PORT=1
expect_screen "no gpsd: no GPS in the status bar" "no GPS"
keys q
wait_for "[fieldbook exited 0]"
if command -v gpsfake >/dev/null && command -v gpsd >/dev/null; then
	port=$((20000 + $$ % 20000))
	timeout 120 gpsfake -q -n -c 0.1 -P "$port" "$TOP/test/integration/photo_gps.nmea" >"$TMP/gpsfake.log" 2>&1 &
	gf=$!
	tui_start 80 24 GPSD_HOST=127.0.0.1 GPSD_PORT=$port
	expect_screen "with gpsd the status bar shows the fix and its accuracy" "GPS ±" 40
	keys q
	wait_for "[fieldbook exited 0]"
	kill "$gf" 2>/dev/null; wait "$gf" 2>/dev/null
else
	echo "# gpsd tier skipped: gpsfake or gpsd not installed"
fi
