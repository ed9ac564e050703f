#!/bin/bash
# `list` skips opening the ledger when the index is known to hold its head
# (a stamp of the branch's ref files).  Whatever moves the branch, stock git
# included, must still show in the next list.
. "$FIELDBOOK_TOP/test/lib.sh"
A="$TMP/a" B="$TMP/b"
fa() { FIELDBOOK_HOME=$A "$FB" "$@"; }
fb() { FIELDBOOK_HOME=$B "$FB" "$@"; }
status_of() { FIELDBOOK_HOME=$1 "$FB" list --status all --json | jq -r --arg c "$2" '.[] | select(.id == $c) | .status'; }

fa init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null
C=$(fa case new --form signboard --address "中山路8号")
expect_eq "a new case lists as opened" "$(status_of "$A" "$C")" opened
expect_match "list stamped the index with the ledger's branch" \
	"$(sqlite3 "$A/index.sqlite" "SELECT value FROM meta WHERE key = 'ledger_stamp'")" \
	"^$(git --git-dir="$A/ledger.git" rev-parse main) "

# another copy of the workspace records a step; stock git brings it over
cp -a "$A" "$B"
fb inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 --note SB04="锈蚀松动" >/dev/null
expect_eq "the other copy sees its inspection" "$(status_of "$B" "$C")" inspected
check "stock git fast-forwards the ledger" git --git-dir="$A/ledger.git" fetch -q "$B/ledger.git" main:main
expect_eq "list shows the step stock git brought in" "$(status_of "$A" "$C")" inspected

# the branch moving into packed-refs (git pack-refs) is seen too
fb close "$C" --outcome waived >/dev/null
git --git-dir="$A/ledger.git" fetch -q "$B/ledger.git" main:main
git --git-dir="$A/ledger.git" pack-refs --all
expect_eq "the ref is now only in packed-refs" "$(test -e "$A/ledger.git/refs/heads/main" && echo loose || echo packed)" packed
expect_eq "list shows the step behind a packed ref" "$(status_of "$A" "$C")" closed

# a deleted index is rebuilt, never trusted from a stale stamp
rm -f "$A/index.sqlite" "$A/index.sqlite-wal" "$A/index.sqlite-shm"
expect_eq "a removed index is rebuilt by list" "$(status_of "$A" "$C")" closed
