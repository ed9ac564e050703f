# Shared helpers for integration scripts: source it, then use ok/fail/check.
# Pins the environment so runs are reproducible.
set -u
export LC_ALL=C.UTF-8 LANG=C.UTF-8 TZ=Asia/Shanghai
unset LANGUAGE NO_COLOR XDG_DATA_HOME
FB=${FIELDBOOK_BIN:?run through test/run or set FIELDBOOK_BIN}
TOP=${FIELDBOOK_TOP:?}
BUILDDIR=${FIELDBOOK_BUILD:?}
TMP=$(mktemp -d /tmp/fbtest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export HOME="$TMP/home"; mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# Tests only: the officer key PIN, so commands need no terminal.
export FIELDBOOK_PIN=123456
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; }
# check "description" command...: ok when the command succeeds.
check() { d=$1; shift; if "$@" >"$TMP/.out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/#   /' "$TMP/.out"; fi; }
# check_fails "description" command...: ok when the command fails (non-zero).
check_fails() { d=$1; shift; if "$@" >"$TMP/.out" 2>&1; then fail "$d (succeeded)"; sed 's/^/#   /' "$TMP/.out"; else ok "$d"; fi; }
# expect_eq "description" actual expected
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; echo "#   got:      $2"; echo "#   expected: $3"; fi; }
# expect_match "description" text regex
expect_match() { if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else fail "$1"; printf '%s\n' "$2" | sed 's/^/#   /' | head -20; echo "#   wanted: $3"; fi; }
# two_pack_hub SRC DST IDS: a bare copy DST of SRC's main holding only packs,
# two of them: one with every object main reaches but IDS (object ids, one per
# line), the other with IDS and 60 unreachable blobs (DST.junk lists them).
# A new device's first fetch takes the first pack whole but not the second
# (less than half of it is wanted): IDS reach it only if the fetch lists them.
two_pack_hub() {
	local src=$1 dst=$2 ids=$3
	rm -rf "$dst" && git init -q --bare "$dst"
	git -C "$src" rev-list --objects main | cut -c1-40 | grep -vxF -f <(printf '%s\n' "$ids") |
		git -C "$src" pack-objects -q "$dst/objects/pack/pack" >/dev/null
	for i in $(seq 60); do echo "junk $i" | git -C "$dst" hash-object -w --stdin; done >"$dst.junk"
	echo "$src/objects" >"$dst/objects/info/alternates" # IDS, while packing
	printf '%s\n' "$ids" | cat - "$dst.junk" | git -C "$dst" pack-objects -q "$dst/objects/pack/pack" >/dev/null
	rm "$dst/objects/info/alternates"
	git -C "$dst" prune-packed
	git -C "$dst" update-ref refs/heads/main "$(git -C "$src" rev-parse main)"
}
# count_present REPO IDS: how many of IDS (whitespace-separated) REPO holds
count_present() {
	local n=0 o
	for o in $2; do git -C "$1" cat-file -e "$o" 2>/dev/null && n=$((n + 1)); done
	echo "$n"
}
