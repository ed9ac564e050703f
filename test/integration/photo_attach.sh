#!/bin/bash
# Photos: attach self-made JPEGs (mkjpeg), check the ledger with stock git,
# the checks written into the events, and that bad input stores nothing.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_HOME="$TMP/ws"
# Cases are opened at 12:17:29 +08:00 and photos attached at 12:47:29 (now);
# the photos' times below are relative to these.
export FIELDBOOK_NOW=2026-11-23T04:17:29Z
MK="$BUILDDIR/tools/mkjpeg"
L="$FIELDBOOK_HOME/ledger.git"
P="$TMP/p"; mkdir -p "$P"
fb() { "$FB" "$@"; }
commits() { git -C "$L" rev-list --count main; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
case_path() { local d; d=$(echo "$1" | cut -d- -f2); echo "cases/${d:0:4}/${d:4:2}/${d:6:2}/$1"; }
# The last event of a case, as recorded.
last_event() { fb show "$1" --json | jq -c '.timeline[-1].event'; }
checks_of() { last_event "$1" | jq -c '[.checks[].check]'; }
set_config() { jq "$1" "$FIELDBOOK_HOME/config" >"$TMP/config" && cat "$TMP/config" >"$FIELDBOOK_HOME/config"; }

fb init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null || fail "init"
export FIELDBOOK_PIN=${FIELDBOOK_PIN:-123456}
C=$(fb case new --form signboard --address "解放路12号" --lat 24.414 --lon 111.566)
expect_match "case with a location" "$C" '^HZ01-'
export FIELDBOOK_NOW=2026-11-23T04:47:29Z

mk() { "$MK" "$P/$1" "${@:2}" >/dev/null || fail "mkjpeg $1"; }
mk near.jpg --lat 24.4141 --lon 111.5661 --alt 12.5 --taken "2026:11:23 12:40:00" --offset +08:00 \
	--make Fieldcam --model "FC 1" --seed 1
mk far.jpg --lat 24.417 --lon 111.566 --taken "2026:11:23 12:41:00" --offset +08:00 --seed 2
mk nogps.jpg --taken "2026:11:23 12:42:00" --offset +08:00 --seed 3
mk zero.jpg --lat 0 --lon 0 --taken "2026:11:23 12:42:30" --offset +08:00 --seed 4
mk early.jpg --lat 24.414 --lon 111.566 --taken "2026:11:23 10:00:00" --offset +08:00 --seed 5
mk old.jpg --lat 24.414 --lon 111.566 --taken "2026:11:20 09:00:00" --offset +08:00 --seed 6
mk future.jpg --lat 24.414 --lon 111.566 --taken "2026:11:23 13:30:00" --offset +08:00 --seed 7
mk local.jpg --lat 24.414 --lon 111.566 --taken "2026:11:23 12:45:00" --seed 8
mk noexif.jpg --no-exif --seed 9
# An Exif segment whose first IFD lies beyond the end: nothing readable.
{ printf '\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\xff\xff\xff\x7f'; tail -c +3 "$P/noexif.jpg"; } >"$P/badexif.jpg"

# --- one good photo: one commit, original bytes, event fields -------------------------
n0=$(commits)
out=$(fb attach "$C" "$P/near.jpg"); rc=$?
expect_eq "attach a photo exits 0" "$rc" 0
expect_match "attach prints the event id, sha (12) and file" "$out" \
	"^[0-9]{8}T[0-9]{6}Z-[a-z0-9]+-[0-9]{6}  photo attached $(sha "$P/near.jpg" | cut -c1-12)  .*near.jpg$"
expect_eq "one commit for the photo" "$(commits)" $((n0 + 1))
s=$(sha "$P/near.jpg")
blob="$(case_path "$C")/photos/$s.jpg"
check "the photo is stored at photos/<sha256>.jpg" git -C "$L" cat-file -e "main:$blob"
git -C "$L" cat-file blob "main:$blob" >"$TMP/blob"
check "the stored blob is byte-identical" cmp "$TMP/blob" "$P/near.jpg"
# JPEG is compressed already: the loose object stores the bytes as they are
# (zlib level 0), so reading or sending it costs no inflate or deflate
oid=$(git -C "$L" rev-parse "main:$blob")
check "the photo's loose object is a zlib stream of the bytes as they are (stored)" python3 -c '
import sys, zlib
raw, photo = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert zlib.decompress(raw) == b"blob %d\0" % len(photo) + photo
assert len(photo) <= len(raw) <= len(photo) + 64 + len(photo) // 1000' "$L/objects/${oid:0:2}/${oid:2}" "$P/near.jpg"
ev=$(last_event "$C")
eid=$(printf '%s' "$ev" | jq -r .id)
files=$(git -C "$L" show --name-only --format= main)
expect_match "the commit holds the event" "$files" "events/$eid.json"
expect_match "the same commit holds the photo" "$files" "photos/$s.jpg"
expect_eq "event type" "$(printf '%s' "$ev" | jq -r .type)" photo.attached
expect_eq "event sha256" "$(printf '%s' "$ev" | jq -r .sha256)" "$s"
expect_eq "event size" "$(printf '%s' "$ev" | jq -r .size)" "$(stat -c %s "$P/near.jpg")"
expect_eq "event EXIF summary" "$(printf '%s' "$ev" | jq -c '.exif | [.lat, .lon, .alt, .taken, .offset, .make, .model, .gps, .exif]')" \
	'[24.4141,111.5661,12.5,"2026:11:23 12:40:00","+08:00","Fieldcam","FC 1","ok","ok"]'
expect_eq "a good photo has no checks" "$(printf '%s' "$ev" | jq -c .checks)" '[]'
expect_eq "state counts the photo" "$(fb show "$C" --json | jq .state.photos)" 1

# --- checks ----------------------------------------------------------------------------
out=$(fb attach "$C" "$P/far.jpg")
expect_match "far: the distance in words" "$out" 'photo is 334 m from the case location \(limit 200 m\)'
expect_eq "far: distance and limit in the event" "$(last_event "$C" | jq -c '.checks[0] | [.check, .distance_m, .limit_m]')" '["far",334,200]'

out=$(fb attach "$C" "$P/nogps.jpg")
expect_match "no_gps in words" "$out" 'photo has no GPS position'
expect_eq "no_gps in the event" "$(last_event "$C" | jq -c '.checks')" '[{"check":"no_gps","gps":"none"}]'
fb attach "$C" "$P/zero.jpg" >/dev/null
expect_eq "GPS 0,0 counts as no GPS" "$(last_event "$C" | jq -c '.checks')" '[{"check":"no_gps","gps":"zero"}]'

out=$(fb attach "$C" "$P/early.jpg")
expect_eq "before_case" "$(checks_of "$C")" '["before_case"]'
expect_match "before_case in words" "$out" 'taken 2 h 17 min before the case was opened'
out=$(fb attach "$C" "$P/old.jpg")
expect_eq "long_before (and before_case)" "$(checks_of "$C")" '["before_case","long_before"]'
expect_match "long_before in words" "$out" 'before it was attached \(limit 24 h\)'
expect_eq "long_before hours" "$(last_event "$C" | jq '.checks[1].hours')" 75.8
out=$(fb attach "$C" "$P/future.jpg")
expect_eq "future" "$(checks_of "$C")" '["future"]'
expect_match "future in words" "$out" 'taken in the future .*camera clock'
fb attach "$C" "$P/local.jpg" >/dev/null
expect_eq "local time without offset is read in the device's zone" "$(checks_of "$C")" '[]'
out=$(fb attach "$C" "$P/badexif.jpg"); rc=$?
expect_eq "broken EXIF with a valid image is stored" "$rc" 0
expect_eq "exif_unreadable" "$(checks_of "$C")" '["exif_unreadable","no_gps"]'
expect_match "exif_unreadable in words" "$out" 'EXIF data is unreadable'

set_config '.photo_max_distance_m = 500 | .photo_max_age_h = 100'
mk far2.jpg --lat 24.417 --lon 111.566 --taken "2026:11:20 09:00:00" --offset +08:00 --seed 12
fb attach "$C" "$P/far2.jpg" >/dev/null
expect_eq "limits come from the config" "$(checks_of "$C")" '["before_case"]'
set_config 'del(.photo_max_distance_m, .photo_max_age_h)'

# --- a case without a location takes it from a photo -------------------------------------
C2=$(FIELDBOOK_NOW=2026-11-23T04:17:29Z fb case new --form signboard --address "人民路88号")
out=$(fb attach "$C2" "$P/nogps.jpg" "$P/near.jpg" "$P/far.jpg")
expect_eq "three photos, three events" "$(fb show "$C2" --json | jq '.state.photos')" 3
expect_eq "case takes the location from the first photo with GPS" \
	"$(fb show "$C2" --json | jq -c '.state.where')" '{"lat":24.4141,"lon":111.5661,"src":"photo"}'
expect_match "attach says so" "$out" 'takes this photo.s GPS position'
ev=$(fb show "$C2" --json | jq -c '[.timeline[].event | select(.sha256 == "'"$s"'")][0]')
expect_eq "that event has case_location and where src photo" \
	"$(printf '%s' "$ev" | jq -c '[.case_location, .where.src]')" '[true,"photo"]'
expect_eq "later photos are checked against the new location" "$(checks_of "$C2" | jq -c 'map(select(. == "far"))')" '["far"]'
expect_eq "duplicate: same photo in another case" \
	"$(printf '%s' "$ev" | jq -c '.checks[] | select(.check == "duplicate") | .cases')" "[\"$C\"]"
expect_match "duplicate in words" "$out" "the same photo is attached to case $C"
n=$(commits)
out=$(fb attach "$C2" "$P/near.jpg" 2>&1); rc=$?
expect_eq "the same photo twice in one case is refused" "$rc" 1
expect_match "and says which file" "$out" 'near.jpg: this photo is already attached to case'
expect_eq "nothing stored" "$(commits)" "$n"

# --- items ------------------------------------------------------------------------------
mk item.jpg --lat 24.414 --lon 111.566 --taken "2026:11:23 12:46:00" --offset +08:00 --seed 20
fb attach "$C" "$P/item.jpg" --item SB04 >/dev/null
expect_eq "--item is recorded" "$(last_event "$C" | jq -r .item)" SB04
expect_match "summary shows the item" "$(fb show "$C")" 'photo attached [0-9a-f]{12} → SB04'
mk item2.jpg --seed 21
n=$(commits)
out=$(fb attach "$C" "$P/item2.jpg" --item NOPE 2>&1); rc=$?
expect_eq "unknown item exits 1" "$rc" 1
expect_match "unknown item is named" "$out" 'no item NOPE in form signboard'
expect_eq "unknown item stores nothing" "$(commits)" "$n"

# --- bad input: the message names the file, exit non-zero, nothing stored --------------------
printf 'hello, not a photo\n' >"$P/text.jpg"
: >"$P/empty.jpg"
head -c 600 "$P/near.jpg" >"$P/cut.jpg"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0' >"$P/image.png"
mkdir "$P/folder.jpg"
mk good.jpg --lat 24.414 --lon 111.566 --seed 30
gs=$(sha "$P/good.jpg")
for bad in text.jpg empty.jpg cut.jpg image.png folder.jpg missing.jpg; do
	n=$(commits)
	out=$(fb attach "$C" "$P/good.jpg" "$P/$bad" 2>&1); rc=$?
	expect_match "bad input $bad: exit non-zero" "$rc" '^[1-9]'
	expect_match "bad input $bad: the message names the file" "$out" "$bad"
	expect_eq "bad input $bad: nothing stored (commits)" "$(commits)" "$n"
	check_fails "bad input $bad: the good photo of the batch is not stored" \
		git -C "$L" cat-file -e "main:$(case_path "$C")/photos/$gs.jpg"
	check_fails "photo info $bad exits non-zero" fb photo info "$P/$bad"
done
expect_match "empty file says so" "$(fb attach "$C" "$P/empty.jpg" 2>&1)" 'empty.jpg.*(empty|zero|0 bytes)'
expect_match "PNG is named as PNG" "$(fb attach "$C" "$P/image.png" 2>&1)" 'image.png.*PNG'
expect_match "truncated is named" "$(fb attach "$C" "$P/cut.jpg" 2>&1)" 'cut.jpg.*(truncated|cut|end)'
expect_match "a batch error says nothing was attached" "$(fb attach "$C" "$P/good.jpg" "$P/text.jpg" 2>&1)" \
	'no photo was attached'
check_fails "attach to a missing case" fb attach HZ01-20261123-zzzzzz-9 "$P/good.jpg"
check_fails "attach without photos is a usage error" fb attach "$C"

# --- photo info ------------------------------------------------------------------------------
j=$(fb photo info "$P/near.jpg" --json)
expect_eq "photo info --json" "$(printf '%s' "$j" | jq -c '[.lat, .lon, .alt, .taken, .offset, .make, .model, .width, .height, .sha256, .size]')" \
	"[24.4141,111.5661,12.5,\"2026:11:23 12:40:00\",\"+08:00\",\"Fieldcam\",\"FC 1\",64,48,\"$s\",$(stat -c %s "$P/near.jpg")]"
expect_eq "photo info taken_utc" "$(printf '%s' "$j" | jq -r .taken_utc)" 2026-11-23T04:40:00Z
out=$(fb photo info "$P/near.jpg")
expect_match "photo info text shows make and GPS" "$out" 'make +Fieldcam'
out=$(fb photo info "$P/cut.jpg" --json 2>/dev/null); rc=$?
expect_eq "photo info --json on a truncated file exits 1" "$rc" 1
expect_match "and still reports the EXIF it read, with the error" "$(printf '%s' "$out" | jq -r '.make, .error')" 'Fieldcam'

# --- the ledger stays clean; a rebuilt index equals the incremental one ---------------------------
check "git fsck --strict is clean" git -C "$L" fsck --strict
expect_eq "no commit modifies or deletes a path" "$(git -C "$L" log --diff-filter=MDR --format=%H | wc -l)" 0
fb list --status all --json >"$TMP/list1"; fb show "$C" --json >"$TMP/show1"; fb show "$C2" --json >"$TMP/show2"
check "reindex" fb reindex
fb list --status all --json >"$TMP/list1b"; fb show "$C" --json >"$TMP/show1b"; fb show "$C2" --json >"$TMP/show2b"
check "list --json equal after reindex" cmp "$TMP/list1" "$TMP/list1b"
check "show --json equal after reindex" cmp "$TMP/show1" "$TMP/show1b"
check "show --json (photo location) equal after reindex" cmp "$TMP/show2" "$TMP/show2b"
expect_eq "the second case holds its three photos" \
	"$(git -C "$L" ls-tree --name-only main "$(case_path "$C2")/photos/" | wc -l)" 3
