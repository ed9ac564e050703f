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
