#!/bin/bash
# Real photos: every file of ../shared/testdata/photos against its manifest.tsv
# (exiftool -n values; the notes column says where libexif legitimately
# differs).  Skipped, and still passing, when the folder is not there.
. "$FIELDBOOK_TOP/test/lib.sh"
D="$TOP/../shared/testdata/photos"
if [ ! -f "$D/manifest.tsv" ]; then
	echo "# real-photo tier skipped: ../shared/testdata/photos not found"
	exit 0
fi
export FIELDBOOK_HOME="$TMP/ws"
L="$FIELDBOOK_HOME/ledger.git"
fb() { "$FB" "$@"; }
commits() { git -C "$L" rev-list --count main; }
# near VALUE EXPECTED TOLERANCE: |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }

fb init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null || fail "init"
export FIELDBOOK_PIN=${FIELDBOOK_PIN:-123456}
C=$(fb case new --form signboard --address "测试路1号" --lat 43.4674 --lon 11.8851)

# A manifest value: "none", "(empty)" and "(blank)" mean fieldbook reports nothing.
absent() { [ "$1" = none ] || [ "$1" = "(empty)" ] || [ "$1" = "(blank)" ]; }
expect_str() { # desc json key manifest-value
	local got; got=$(printf '%s' "$2" | jq -r --arg k "$3" '.[$k] // "∅"')
	if absent "$4"; then expect_eq "$1: $3 absent" "$got" "∅"; else expect_eq "$1: $3" "$got" "$4"; fi
}
expect_num() { # desc json key manifest-value tolerance
	local got; got=$(printf '%s' "$2" | jq -r --arg k "$3" '.[$k] // "∅"')
	if absent "$4"; then expect_eq "$1: $3 absent" "$got" "∅"
	elif near "$got" "$4" "$5"; then ok "$1: $3 $got"
	else fail "$1: $3"; echo "#   got: $got  expected: $4 (±$5)"; fi
}

ran=0
attach=()
while IFS=$'\t' read -r file sha size make model bo dto lat lon alt thumb mn status says notes; do
	[ "$file" = file ] && continue
	f="$D/$file"
	j=$(timeout 20 "$FB" photo info "$f" --json 2>"$TMP/err"); rc=$?
	expect_match "$file: photo info terminates (exit 0 or 1)" "$rc" '^[01]$'
	expect_eq "$file: sha256" "$(printf '%s' "$j" | jq -r .sha256)" "$sha"
	expect_eq "$file: size" "$(printf '%s' "$j" | jq -r .size)" "$size"
	case $status in
	ok|odd)
		expect_eq "$file: readable photo (exit 0)" "$rc" 0
		expect_str "$file" "$j" make "$make"
		expect_str "$file" "$j" model "$model"
		expect_str "$file" "$j" taken "$dto"
		expect_num "$file" "$j" alt "$alt" 0.0005
		if [[ $notes == *"Accept 'none' or those values"* ]] && printf '%s' "$j" | jq -e 'has("lat")' >/dev/null; then
			# The notes give the values with 0/0 seconds taken as 0.
			alt_lat=$(printf '%s' "$notes" | sed -n 's/.*would give \([-0-9.]*\), \([-0-9.]*\).*/\1/p')
			alt_lon=$(printf '%s' "$notes" | sed -n 's/.*would give \([-0-9.]*\), \([-0-9.]*\).*/\2/p')
			expect_num "$file (per notes)" "$j" lat "$alt_lat" 0.000001
			expect_num "$file (per notes)" "$j" lon "$alt_lon" 0.000001
		else
			expect_num "$file" "$j" lat "$lat" 0.000001
			expect_num "$file" "$j" lon "$lon" 0.000001
		fi
		if [ "$lat" = 0.000000 ] && [ "$lon" = 0.000000 ]; then
			expect_eq "$file: 0,0 is a placeholder, not a position" "$(printf '%s' "$j" | jq -r .gps)" zero
		fi
		attach+=("$f")
		ran=$((ran + 1)) ;;
	truncated-copy)
		expect_eq "$file: a truncated photo is an error (exit 1)" "$rc" 1
		expect_match "$file: the error names the file" "$(cat "$TMP/err")" "$file"
		expect_str "$file (EXIF still read)" "$j" make "$make"
		expect_num "$file (EXIF still read)" "$j" lat "$lat" 0.000001
		n=$(commits)
		check_fails "$file: attach refuses it" fb attach "$C" "$f"
		expect_eq "$file: nothing stored" "$(commits)" "$n" ;;
	malformed)
		n=$(commits)
		out=$(timeout 20 "$FB" attach "$C" "$f" 2>&1); rc=$?
		if [ "$rc" = 0 ]; then
			expect_match "$file: stored only with its EXIF flagged" \
				"$(fb show "$C" --json | jq -c '.timeline[-1].event.checks')" 'exif_unreadable|no_gps'
		else
			expect_match "$file: refused with a message naming it" "$out" "$file"
			expect_eq "$file: nothing stored" "$(commits)" "$n"
		fi ;;
	esac
done <"$D/manifest.tsv"

# Attach every readable photo in one batch: one commit each, bytes unchanged.
n=$(commits)
check "attach the ${#attach[@]} readable photos" fb attach "$C" "${attach[@]}"
expect_eq "one commit per photo" "$(commits)" $((n + ${#attach[@]}))
day=$(echo "$C" | cut -d- -f2)
dir="cases/${day:0:4}/${day:4:2}/${day:6:2}/$C/photos"
same=0
for f in "${attach[@]}"; do
	s=$(sha256sum "$f" | cut -d' ' -f1)
	git -C "$L" cat-file blob "main:$dir/$s.jpg" 2>/dev/null | cmp -s - "$f" && same=$((same + 1))
done
expect_eq "every stored photo is byte-identical" "$same" "${#attach[@]}"
# The EXIF summary in each event is what photo info reads.
diffs=0
for f in "${attach[@]}"; do
	s=$(sha256sum "$f" | cut -d' ' -f1)
	a=$(fb show "$C" --json | jq -cS --arg s "$s" '[.timeline[].event | select(.sha256 == $s)][0].exif')
	b=$(fb photo info "$f" --json | jq -cS 'del(.file, .size, .sha256, .taken_utc, .taken_utc_src, .error)')
	[ "$a" = "$b" ] || { diffs=$((diffs + 1)); echo "# $f: event $a"; echo "#   photo info $b"; }
done
expect_eq "event EXIF equals photo info for every photo" "$diffs" 0
check "git fsck --strict is clean" git -C "$L" fsck --strict
echo "# real-photo tier ran on $ran photos"
