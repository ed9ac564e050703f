#!/bin/bash
# A full disk: every recording command fails with a clear message and a
# non-zero exit, the ledger stays fsck-clean, the draft survives, and once
# space is freed the same command finishes the job.  The workspace lives on
# a 4 MiB tmpfs (needs root to mount, as in CI).
. "$FIELDBOOK_TOP/test/lib.sh"
M="$TMP/small"
mkdir -p "$M"
if ! mount -t tmpfs -o size=4m tmpfs "$M" 2>/dev/null; then
	echo "# disk-full tier skipped: mounting a tmpfs needs root"
	exit 0
fi
trap 'umount "$M" 2>/dev/null; rm -rf "$TMP"' EXIT
export FIELDBOOK_HOME="$M/ws"
fb() { "$FB" "$@"; }
fb init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null
C=$(fb case new --form signboard --address "解放路12号")
check "a draft is saved while there is space" fb inspect "$C" --set SB04=fail --note SB04="锈蚀" --draft
"$BUILDDIR/tools/mkjpeg" "$TMP/p.jpg" --lat 24.414 --lon 111.566 --taken "2026:11:23 10:00:00" --offset +08:00 --seed 1 >/dev/null
head=$(git -C "$M/ws/ledger.git" rev-parse main)
dd if=/dev/zero of="$M/fill" bs=64k count=1000 2>/dev/null   # fills the disk (dd stops at ENOSPC)
for cmd in "inspect $C" "note $C hello" "attach $C $TMP/p.jpg" "case new --form lane --address x"; do
	# shellcheck disable=SC2086
	out=$(fb $cmd 2>&1); rc=$?
	expect_eq "full disk: '$(echo "$cmd" | cut -d' ' -f1-2)' exits 1" "$rc" 1
	expect_match "full disk: '$(echo "$cmd" | cut -d' ' -f1-2)' says the disk is full" "$out" "disk is full|No space left"
done
expect_eq "nothing was committed" "$(git -C "$M/ws/ledger.git" rev-parse main)" "$head"
check "the ledger is fsck-clean on a full disk" git -C "$M/ws/ledger.git" fsck --strict
rm -f "$M/fill"
expect_eq "the draft kept every answer" "$(fb drafts --json | jq -c '.[0].draft.answers')" '{"SB04":"fail"}'
check "with space again, the same inspect records the draft" fb inspect "$C"
expect_eq "the inspection is in the ledger" "$(fb show "$C" --json | jq -r .state.status)" inspected
expect_eq "with the note given before the disk filled" "$(fb show "$C" --json | jq -r '.timeline[-1].event.notes.SB04')" "锈蚀"
check "the photo attaches now" fb attach "$C" "$TMP/p.jpg"
check "fsck after recovery" git -C "$M/ws/ledger.git" fsck --strict
fb list --status all --json > "$TMP/a"; fb reindex 2>/dev/null; fb list --status all --json > "$TMP/b"
check "the index equals a rebuild after recovery" cmp "$TMP/a" "$TMP/b"
check "verify: every signature valid" fb verify

# an evidence package onto a full stick: a clear error naming the package, and nothing
# half-written left behind (the case's photo and report do not fit in 96 KiB)
O="$TMP/stick"
mkdir -p "$O"
if mount -t tmpfs -o size=96k tmpfs "$O" 2>/dev/null; then
	trap 'umount "$O" 2>/dev/null; umount "$M" 2>/dev/null; rm -rf "$TMP"' EXIT
	for how in "" --zip; do
		out=$(fb export "$C" -o "$O/pkg$how" $how 2>&1); rc=$?
		expect_eq "full stick: export $how exits 1" "$rc" 1
		expect_match "full stick: export $how says the disk is full" "$out" "No space left|disk is full"
		expect_match "full stick: export $how names where it wrote" "$out" "$O/pkg"
		expect_eq "full stick: export $how leaves nothing behind" "$(ls -A "$O")" ""
	done
	umount "$O"
else
	echo "# full-stick export skipped: mounting a tmpfs needs root"
fi
