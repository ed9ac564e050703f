#!/bin/bash
# Bundles (USB stick): round trips with stock git in both directions.
#   ours -> `git bundle verify` accepts, `git fetch` reads;
#   `git bundle create` (v2 and v3, full and incremental) -> we import;
#   missing prerequisites, tampering and corrupt files are refused.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_PIN=123456

dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
LA="$TMP/A/ledger.git" LB="$TMP/B/ledger.git"

dev A init --officer 3101-0001 --name 张伟 --unit HZ01 >/dev/null
dev B init --officer 3101-0002 --name 李娜 --unit HZ01 >/dev/null
export FIELDBOOK_NOW=2030-01-05T02:00:00Z
C=$(dev A case new --form signboard --address "解放路12号")
dev A inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 >/dev/null
"$BUILDDIR/tools/mkjpeg" "$TMP/p.jpg" --lat 24.41 --lon 111.56
dev A attach "$C" "$TMP/p.jpg" >/dev/null

# --- ours, read by stock git ------------------------------------------------
out=$(dev A bundle create "$TMP/a1.bundle")
expect_match "bundle create reports commits and events" "$out" 'a1.bundle: [0-9]+ commits, 3 events'
expect_eq "the header is a v2 bundle" "$(head -1 "$TMP/a1.bundle")" "# v2 git bundle"
expect_eq "the bundle names refs/heads/main" "$(sed -n 2p "$TMP/a1.bundle")" "$(git -C "$LA" rev-parse main) refs/heads/main"
expect_eq "the bundle file is private (0600)" "$(stat -c %a "$TMP/a1.bundle")" 600
check "stock git bundle verify accepts ours" git -C "$LA" bundle verify "$TMP/a1.bundle"
git init -q --bare "$TMP/plain.git"
check "stock git fetch reads ours" git -C "$TMP/plain.git" fetch -q "$TMP/a1.bundle" main:main
expect_eq "the fetched head is A's head" "$(git -C "$TMP/plain.git" rev-parse main)" "$(git -C "$LA" rev-parse main)"
check "git fsck --strict on what stock git fetched" git -C "$TMP/plain.git" fsck --strict
check "stock git clone reads ours" git clone -q -b main "$TMP/a1.bundle" "$TMP/clone"

# --- ours, imported by fieldbook ------------------------------------------------
out=$(dev B bundle import "$TMP/a1.bundle")
expect_match "B imports A's bundle" "$out" '3 events received \(1 cases changed\)'
expect_match "list on B shows A's case" "$(dev B list)" "$C"
expect_eq "show --json equal on A and B" "$(dev A show "$C" --json)" "$(dev B show "$C" --json)"
expect_match "importing twice is a no-op" "$(dev B bundle import "$TMP/a1.bundle")" 'up to date'

# incremental, --since REF and --since DATE
base=$(git -C "$LA" rev-parse main)
export FIELDBOOK_NOW=2030-01-10T02:00:00Z
dev A order "$C" --days 3 >/dev/null
dev A note "$C" "已送达整改通知书" >/dev/null
out=$(dev A bundle create "$TMP/a2.bundle" --since "$base" --json)
expect_eq "--since REF: one prerequisite" "$(printf '%s' "$out" | jq .prerequisites)" 1
expect_eq "--since REF: two commits, two events" "$(printf '%s' "$out" | jq -c '[.commits, .events]')" "[2,2]"
expect_match "the prerequisite line names the commit" "$(sed -n 2p "$TMP/a2.bundle")" "^-$base "
check "stock git bundle verify accepts an incremental bundle where the base is" git -C "$LB" bundle verify "$TMP/a2.bundle"
check_fails "stock git bundle verify refuses it where the base is missing" git -C "$TMP/B/../plain2.git" bundle verify "$TMP/a2.bundle"
out=$(dev A bundle create "$TMP/a3.bundle" --since 2030-01-08 --json)
expect_eq "--since DATE: the commits from that date on" "$(printf '%s' "$out" | jq -c '[.commits, .events, .prerequisites]')" "[2,2,1]"
expect_eq "--since DATE and --since REF pack the same history" "$(sed -n 2,3p "$TMP/a3.bundle" | cut -c1-41)" "$(sed -n 2,3p "$TMP/a2.bundle" | cut -c1-41)"
out=$(dev A bundle create "$TMP/none.bundle" --since 2031-01-01 2>&1); rc=$?
expect_eq "--since a date with nothing after it fails" "$rc" 1
expect_match "... saying so" "$out" 'nothing was recorded'
check_fails "--since something unknown fails" dev A bundle create "$TMP/none.bundle" --since nonsense

dev C init --officer 3101-0003 --name 王强 --unit HZ01 >/dev/null
out=$(dev C bundle import "$TMP/a2.bundle" 2>&1); rc=$?
expect_eq "a bundle whose prerequisite is missing is refused" "$rc" 1
expect_match "... naming the missing commit" "$out" "needs commit $base"
out=$(dev B bundle import "$TMP/a2.bundle")
expect_match "B imports the incremental bundle" "$out" '2 events received'
expect_eq "show --json equal after the incremental import" "$(dev A show "$C" --json)" "$(dev B show "$C" --json)"

# --- stock git bundles, imported by fieldbook ------------------------------------------
dev B note "$C" "B: 现场复查预约" >/dev/null
C2=$(dev B case new --form fencing --address "人民路88号工地")
dev A note "$C" "A: 又一条记录" >/dev/null
abase=$(git -C "$LA" rev-parse main) # A before its merges
check "stock git bundle create (v2) from B" git -C "$LB" bundle create -q "$TMP/b1.bundle" main
out=$(dev A bundle import "$TMP/b1.bundle")
expect_match "A imports a stock v2 bundle (union merge)" "$out" '2 events received \(2 cases changed\).*merged'
expect_match "list on A shows B's case" "$(dev A list)" "$C2"
bb=$(git -C "$LB" rev-parse main)
dev B note "$C2" "围挡缺口已补" >/dev/null
check "stock git bundle create (v3, incremental)" git -C "$LB" bundle create -q --version=3 "$TMP/b2.bundle" main "^$bb"
expect_eq "stock v3 header" "$(head -1 "$TMP/b2.bundle")" "# v3 git bundle"
out=$(dev A bundle import "$TMP/b2.bundle")
expect_match "A imports a stock v3 incremental bundle" "$out" '1 events received'
check "stock git bundle create --all (HEAD and main)" git -C "$LB" bundle create -q "$TMP/b3.bundle" --all
expect_match "A imports a stock --all bundle" "$(dev A bundle import "$TMP/b3.bundle")" 'import of .*b3.bundle'
expect_eq "show --json of B's case equal on A and B" "$(dev A show "$C2" --json)" "$(dev B show "$C2" --json)"
check "A syncs back to B through a bundle" dev A bundle create "$TMP/a4.bundle"
dev B bundle import "$TMP/a4.bundle" >/dev/null
expect_eq "A and B converge to the same head" "$(git -C "$LA" rev-parse main)" "$(git -C "$LB" rev-parse main)"
# --since REF over merges: the pack lists what the range adds (the ledger's
# walk, merges' own trees included); stock git, holding only the
# prerequisite's history, fetches it and checks that nothing is missing
out=$(dev A bundle create "$TMP/a5.bundle" --since "$abase" --json)
expect_match "--since REF over merges: A's range holds merges" \
	"$(git -C "$LA" rev-list --merges --count "$abase..main")" '^[1-9]'
expect_eq "--since REF over merges: the summary counts the range" \
	"$(printf '%s' "$out" | jq -c '[.commits, .prerequisites]')" "[$(git -C "$LA" rev-list --count "$abase..main"),1]"
git init -q --bare "$TMP/upto.git"
git -C "$TMP/upto.git" fetch -q "$LA" "$abase:refs/heads/main"
check "--since REF over merges: stock git bundle verify" git -C "$TMP/upto.git" bundle verify "$TMP/a5.bundle"
check "--since REF over merges: stock git fetches it" git -C "$TMP/upto.git" fetch -q "$TMP/a5.bundle" main:main
expect_eq "--since REF over merges: ... to A's head" "$(git -C "$TMP/upto.git" rev-parse main)" "$(git -C "$LA" rev-parse main)"
check "--since REF over merges: git fsck --strict" git -C "$TMP/upto.git" fsck --strict --no-dangling

# --- refusals ------------------------------------------------------------------------------
head_a=$(git -C "$LA" rev-parse main)
git clone -q "$LB" "$TMP/t"
git -C "$TMP/t" config user.name M; git -C "$TMP/t" config user.email m@x
EV=$(git -C "$TMP/t" ls-files | grep '/events/.*\.json$' | head -1)
jq '.site.address = "别处"' "$TMP/t/$EV" >"$TMP/x" && cp "$TMP/x" "$TMP/t/$EV"
git -C "$TMP/t" commit -qam tamper
git -C "$TMP/t" bundle create -q "$TMP/bad.bundle" HEAD:refs/heads/main 2>/dev/null ||
	git -C "$TMP/t" bundle create -q "$TMP/bad.bundle" main
out=$(dev A bundle import "$TMP/bad.bundle" 2>&1); rc=$?
expect_eq "a bundle that modifies an event is refused" "$rc" 1
expect_match "... naming the commit and the path" "$out" "refused: commit [0-9a-f]{40} modifies $EV"
expect_eq "... and the ledger did not move" "$(git -C "$LA" rev-parse main)" "$head_a"
head -c 200 "$TMP/a4.bundle" >"$TMP/cut.bundle"
out=$(dev B bundle import "$TMP/cut.bundle" 2>&1); rc=$?
expect_eq "a truncated bundle is refused" "$rc" 1
echo "hello" >"$TMP/junk.bundle"
out=$(dev B bundle import "$TMP/junk.bundle" 2>&1)
expect_match "a file that is not a bundle is refused" "$out" 'is not a git bundle'
check "git fsck --strict on A" git -C "$LA" fsck --strict
check "git fsck --strict on B" git -C "$LB" fsck --strict

# --- photos are not delta-searched against each other ---------------------------------
# (libgit2's packbuilder, used by bundles and by pushes over ssh/git/https,
# spent 18 s of 19 comparing 12 phone photos; ledger_pack_settings)
for i in 1 2; do
	"$BUILDDIR/tools/mkjpeg" "$TMP/big$i.jpg" --size 5000x4000 --quality 100 --seed 11 \
		--lat 24.41 --lon 111.56 --taken "2030:01:05 09:0$i:00"
done
dev A attach "$C" "$TMP/big1.jpg" "$TMP/big2.jpg" >/dev/null
check "a bundle with two phone-size photos almost alike" dev A bundle create "$TMP/big.bundle"
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d[d.index(b"\n\n") + 2:])' \
	"$TMP/big.bundle" "$TMP/big.pack"
check "stock git index-pack reads the bundle's pack" git index-pack -o "$TMP/big.idx" "$TMP/big.pack"
deltas=0
for i in 1 2; do
	oid=$(git -C "$LA" rev-parse "main:$(git -C "$LA" ls-tree -r --name-only main | grep "$(sha256sum "$TMP/big$i.jpg" | cut -c1-64)")")
	line=$(git verify-pack -v "$TMP/big.idx" | grep "^$oid ")
	[ "$(echo "$line" | wc -w)" -gt 5 ] && deltas=$((deltas + 1))
done
expect_eq "neither photo is stored as a delta of the other" "$deltas" 0
