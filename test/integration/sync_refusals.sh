#!/bin/bash
# Tampering is refused, with a message that says what and where:
#  - by the hub's pre-receive hook, when stock git pushes from a tampering clone;
#  - by the client, when it syncs from a hub that was tampered with directly.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_PIN=123456

dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }
tgit() { git -C "$TMP/t" "$@"; }

"$TOP/sync/hub-init" "$TMP/hub.git" >/dev/null
dev A init --officer 3101-0001 --name 张伟 --unit HZ01 >/dev/null
dev B init --officer 3101-0002 --name 李娜 --unit HZ01 >/dev/null
C=$(dev A case new --form signboard --address "解放路12号")
dev A inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 >/dev/null
"$BUILDDIR/tools/mkjpeg" "$TMP/p.jpg" --lat 24.41 --lon 111.56
check "attach a photo" dev A attach "$C" "$TMP/p.jpg"
check "A pushes its case to the hub" dev A sync "$TMP/hub.git"
good=$(git -C "$TMP/hub.git" rev-parse main)

git clone -q "$TMP/hub.git" "$TMP/t"
tgit config user.name Mallory; tgit config user.email m@example.org
EV=$(tgit ls-files | grep '/events/.*\.json$' | head -1)
PH=$(tgit ls-files | grep '/photos/.*\.jpg$' | head -1)
DIR=$(dirname "$(dirname "$EV")")
expect_match "the ledger holds an event and a photo" "$EV $PH" 'events/.*json .*photos/[0-9a-f]{64}\.jpg'

reset_clone() { tgit fetch -q origin && tgit reset -q --hard "$1"; tgit clean -qfdx; }

# Each tampering: a function that changes the clone and commits.
t_modify() { jq '.site.address = "别处"' "$TMP/t/$EV" >"$TMP/x" && cp "$TMP/x" "$TMP/t/$EV" && tgit commit -qam "edit"; }
t_delete_photo() { tgit rm -q "$PH" && tgit commit -qm "rm photo"; }
t_delete_event() { tgit rm -q "$EV" && tgit commit -qm "rm event"; }
t_forge_path() { echo hi >"$TMP/t/evil.txt" && tgit add evil.txt && tgit commit -qm "forged"; }
t_forge_dir() { mkdir -p "$TMP/t/$DIR/notes" && echo x >"$TMP/t/$DIR/notes/a.txt" && tgit add -A && tgit commit -qm "forged"; }
t_bad_json() { echo '{"id": ' >"$TMP/t/$DIR/events/20990101T000000Z-zzzzzz-000001.json" && tgit add -A && tgit commit -qm "bad"; }
t_wrong_id() {
	jq '.id = "20990101T000000Z-zzzzzz-000009"' "$TMP/t/$EV" >"$TMP/t/$DIR/events/20990101T000000Z-zzzzzz-000001.json" &&
		tgit add -A && tgit commit -qm "wrong id"
}
t_bad_photo() { echo notajpeg >"$TMP/t/$DIR/photos/$(printf '%064d' 0).jpg" && tgit add -A && tgit commit -qm "bad photo"; }
t_merge_delete() {
	local tree
	tgit rm -q --cached "$EV" && tree=$(tgit write-tree) &&
		tgit reset -q --hard "$(tgit commit-tree "$tree" -p HEAD -p HEAD~1 -m 'merge that drops')"
}
# a merge whose tree changes an event of its parents, or adds one neither holds
# (in a new day's directory: the check descends into what no parent has)
t_merge_modify() {
	local tree blob
	blob=$(echo '{}' | tgit hash-object -w --stdin) &&
		tgit update-index --cacheinfo "100644,$blob,$EV" && tree=$(tgit write-tree) &&
		tgit reset -q --hard "$(tgit commit-tree "$tree" -p HEAD -p HEAD~1 -m 'merge that edits')"
}
t_merge_add() {
	local tree blob
	blob=$(echo '{}' | tgit hash-object -w --stdin) &&
		tgit update-index --add --cacheinfo \
			"100644,$blob,cases/2099/01/01/HZ01-20990101-zzzzzz-1/events/20990101T000000Z-zzzzzz-000001.json" &&
		tree=$(tgit write-tree) &&
		tgit reset -q --hard "$(tgit commit-tree "$tree" -p HEAD -p HEAD~1 -m 'merge that adds')"
}

# kind | tampering | what the message must say
cases=(
	"modified event|t_modify|modifies cases/.*/events/.*\\.json"
	"deleted photo|t_delete_photo|deletes cases/.*/photos"
	"deleted event|t_delete_event|deletes cases/.*/events/"
	"forged path|t_forge_path|adds evil\\.txt, which is outside the ledger layout"
	"forged directory|t_forge_dir|notes/a\\.txt, which is outside the ledger layout"
	"malformed event|t_bad_json|20990101T000000Z-zzzzzz-000001\\.json.*not valid JSON"
	"event id not its file name|t_wrong_id|\"id\" is not the file name"
	"photo whose content is not its name|t_bad_photo|photo .* sha256"
	"merge that drops a file|t_merge_delete|merge commit [0-9a-f]{40} deletes cases/"
	"merge that edits an event|t_merge_modify|merge commit [0-9a-f]{40} modifies cases/.*/events/.*\\.json"
	"merge that adds a file of neither parent|t_merge_add|merge commit [0-9a-f]{40} adds cases/2099/01/01/HZ01-20990101-zzzzzz-1/events/.*, which none of its parents holds"
)

# --- the hub hook, stock git pushing ------------------------------------------
for c in "${cases[@]}"; do
	IFS='|' read -r kind fn msg <<<"$c"
	reset_clone "$good"
	$fn
	out=$(tgit push origin HEAD:main 2>&1); rc=$?
	expect_eq "hook: $kind is refused (git push exits 1)" "$rc" 1
	expect_match "hook: $kind: the message names commit and path" "$out" "remote: fieldbook: refused: .*$msg"
	expect_eq "hook: $kind: the hub did not move" "$(git -C "$TMP/hub.git" rev-parse main)" "$good"
done
reset_clone "$good"
tgit reset -q --hard HEAD~1
tgit commit -q --allow-empty -m "rewritten"
out=$(tgit push -f origin HEAD:main 2>&1); rc=$?
check_fails "hook: a force-push (rewritten history) is refused" test "$rc" = 0
expect_match "hook: the refusal says history may not be rewritten" "$out" "does not contain the hub's head $good: rewriting"
out=$(tgit push origin :main 2>&1); rc=$?
check_fails "hook: deleting the branch is refused" test "$rc" = 0
expect_match "hook: ... with a reason" "$out" 'deleting the ledger branch is not allowed|deletion prohibited'
reset_clone "$good"
tgit branch -q side
out=$(tgit push origin side 2>&1); rc=$?
check_fails "hook: other branches are refused" test "$rc" = 0
expect_match "hook: ... naming the ref" "$out" 'refs/heads/side: only refs/heads/main'
expect_eq "the hub is still at the good head" "$(git -C "$TMP/hub.git" rev-parse main)" "$good"
check "git fsck --strict on the hub after the refusals" git -C "$TMP/hub.git" fsck --strict
# a good push from stock git still passes the hook (a valid new event)
reset_clone "$good"
dev A note "$C" "一条正常的记录" >/dev/null
check "the hook accepts a good push (through fieldbook)" dev A sync "$TMP/hub.git"
good=$(git -C "$TMP/hub.git" rev-parse main)

# --- the client, syncing from a hub tampered with directly ----------------------
git clone -q --bare "$TMP/hub.git" "$TMP/bad.git"  # no hooks: anything goes in
# --no-push: B takes the hub's history as it is (it has recorded nothing);
# were it to push a commit of its own, the tampered pushes below would drop
# it, and B would see a rewritten history instead of the tampering.
check "B syncs from the (still good) hub copy" dev B sync "$TMP/bad.git" --no-push
bgood=$(git -C "$TMP/B/ledger.git" rev-parse main)
blist=$(dev B list --json)
for c in "${cases[@]}"; do
	IFS='|' read -r kind fn msg <<<"$c"
	reset_clone "$good"
	$fn
	tgit push -q -f "$TMP/bad.git" HEAD:main 2>/dev/null
	out=$(dev B sync "$TMP/bad.git" 2>&1); rc=$?
	expect_eq "client: $kind is refused" "$rc" 1
	expect_match "client: $kind: the message names commit and path" "$out" "refused: .*$msg"
	expect_eq "client: $kind: the ledger did not move" "$(git -C "$TMP/B/ledger.git" rev-parse main)" "$bgood"
	git -C "$TMP/bad.git" update-ref refs/heads/main "$good"
done
expect_eq "client: the case list is unchanged" "$(dev B list --json)" "$blist"

# the same tamperings met by a new device's first fetch from a packed hub (after
# git gc): the hub's history is validated from its pack while the pack is indexed
dev E init --officer 3101-0005 --name 孙七 --unit HZ01 >/dev/null
estart=$(git -C "$TMP/E/ledger.git" rev-parse main)
for c in "${cases[@]}"; do
	IFS='|' read -r kind fn msg <<<"$c"
	reset_clone "$good"
	$fn
	rm -rf "$TMP/packed.git" && git init -q --bare "$TMP/packed.git"
	tgit push -q -f "$TMP/packed.git" HEAD:main 2>/dev/null
	git -C "$TMP/packed.git" repack -q -a -d && git -C "$TMP/packed.git" prune-packed
	out=$(dev E sync "$TMP/packed.git" --no-push 2>&1); rc=$?
	expect_eq "first fetch: $kind is refused" "$rc" 1
	expect_match "first fetch: $kind: the message names commit and path" "$out" "refused: .*$msg"
	expect_eq "first fetch: $kind: the new device did not move" "$(git -C "$TMP/E/ledger.git" rev-parse main)" "$estart"
done
expect_eq "first fetch: nothing of the tampered hubs was kept" "$(ls "$TMP"/E/ledger.git/objects/pack/ 2>/dev/null)" ""
# the new device indexes the hub's history in the walk that validates it: a
# refused history leaves nothing in the index either
expect_eq "first fetch: nothing of the tampered hubs is in the index" \
	"$(sqlite3 "$TMP/E/index.sqlite" "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM cases) + (SELECT count(*) FROM problems)")" 0
expect_eq "first fetch: the case list stays empty" "$(dev E list --json)" "[]"
rm -rf "$TMP/packed.git" && git clone -q --bare --no-local "$TMP/hub.git" "$TMP/packed.git"
git -C "$TMP/packed.git" repack -q -a -d
out=$(dev E sync "$TMP/packed.git" --no-push --json); rc=$?
expect_eq "first fetch: the new device takes a good packed hub" "$rc" 0
# the commits counted while validating are the hub's history
expect_eq "first fetch: the summary counts the hub's commits and events" \
	"$(echo "$out" | jq -c '[.commits_received, .events_received]')" \
	"[$(git -C "$TMP/packed.git" rev-list --count main),$(git -C "$TMP/packed.git" ls-tree -r --name-only main | grep -c '/events/[^/]*\.json$')]"
expect_eq "first fetch: ... as it is" "$(git -C "$TMP/E/ledger.git" rev-parse main)" "$good"
check "first fetch: git fsck --strict on the new device" git -C "$TMP/E/ledger.git" fsck --strict
index_dump() {
	sqlite3 "$TMP/$1/index.sqlite" "SELECT * FROM events ORDER BY id; SELECT * FROM cases ORDER BY id;
		SELECT id, text FROM cases_fts ORDER BY id; SELECT * FROM photos ORDER BY sha256, event_id;
		SELECT * FROM roster ORDER BY id; SELECT * FROM problems ORDER BY path;
		SELECT value FROM meta WHERE key = 'ledger_head'"
}
intake=$(index_dump E)
expect_eq "first fetch: the index holds every event of the hub" \
	"$(sqlite3 "$TMP/E/index.sqlite" "SELECT count(*) FROM events")" \
	"$(git -C "$TMP/packed.git" ls-tree -r --name-only main | grep -c '/events/[^/]*\.json$')"
dev E reindex >/dev/null 2>&1
expect_eq "first fetch: the index built while validating equals a rebuild, row for row" "$(index_dump E)" "$intake"

# a packed hub whose newest objects sit in a pack that is mostly other objects
# (unreachable ones: a rejected push, a repack of another branch): that pack is
# not taken whole, and what the history needs of it still arrives.  On a hub
# holding only packs, the walk that validates the history also lists what the
# new device lacks; a miss in that list would leave the device without objects.
newest=$(git -C "$TMP/hub.git" rev-list --objects main --not main~1 | cut -c1-40)
two_pack_hub "$TMP/hub.git" "$TMP/two.git" "$newest"
expect_eq "two packs: the hub holds no loose object" "$(find "$TMP/two.git/objects" -path '*/objects/??/*' -type f | wc -l)" 0
expect_eq "two packs: the hub holds two packs" "$(ls "$TMP"/two.git/objects/pack/*.pack | wc -l)" 2
dev F init --officer 3101-0006 --name 周八 --unit HZ01 >/dev/null
check "two packs: a new device takes the hub's history" dev F sync "$TMP/two.git" --no-push
expect_eq "two packs: ... as it is" "$(git -C "$TMP/F/ledger.git" rev-parse main)" "$good"
check "two packs: git fsck --strict on the new device" git -C "$TMP/F/ledger.git" fsck --strict --no-dangling
expect_eq "two packs: the newest commit's objects arrived" \
	"$(count_present "$TMP/F/ledger.git" "$newest")" "$(echo "$newest" | wc -w)"
expect_eq "two packs: the unreachable objects did not" \
	"$(count_present "$TMP/F/ledger.git" "$(cat "$TMP/two.git.junk")")" 0
expect_eq "two packs: the device lists the hub's cases" "$(dev F list --json)" "$(dev E list --json)"

# a hub that devices have pushed to since its last repack: a pack and loose
# objects.  Each loose object is read once, whole, before the walk that
# validates the history reads them with libgit2 (which never returns from
# one cut short); the new device takes the history as it is
loose_hub() {
	rm -rf "$1" && git init -q --bare "$1"
	git -C "$TMP/hub.git" push -q "$1" main~2:refs/heads/main
	git -C "$1" repack -q -a -d
	git -C "$TMP/hub.git" push -q --receive-pack='git -c receive.unpackLimit=100000 receive-pack' "$1" main:main
}
loose_hub "$TMP/loose.git"
nloose=$(find "$TMP/loose.git/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l)
check "loose hub: the hub holds a pack and loose objects" test "$nloose" -gt 10
dev G init --officer 3101-0007 --name 吴九 --unit HZ01 >/dev/null
out=$(dev G sync "$TMP/loose.git" --no-push --json); rc=$?
expect_eq "loose hub: a new device takes the hub's history" "$rc" 0
expect_eq "loose hub: ... as it is" "$(git -C "$TMP/G/ledger.git" rev-parse main)" "$good"
check "loose hub: git fsck --strict on the new device" git -C "$TMP/G/ledger.git" fsck --strict --no-dangling
expect_eq "loose hub: the summary counts the hub's commits" "$(echo "$out" | jq .commits_received)" \
	"$(git -C "$TMP/loose.git" rev-list --count main)"
expect_eq "loose hub: the device lists the hub's cases" "$(dev G list --json)" "$(dev E list --json)"
# cut_short HUB WHAT REV: a hub like that with the loose object REV (WHAT)
# cut in half: a new device's first fetch is refused, named, in bounded time
# (libgit2 1.5 never returns from reading such an object), and it stays put
dev H init --officer 3101-0008 --name 郑十 --unit HZ01 >/dev/null
hstart=$(git -C "$TMP/H/ledger.git" rev-parse main)
cut_short() {
	local hub=$1 what=$2 cut cutf out rc
	loose_hub "$hub"
	cut=$(git -C "$hub" rev-parse "$3")
	cutf="$hub/objects/${cut:0:2}/${cut:2}"
	check "loose hub: the $what is loose on the hub" test -f "$cutf"
	chmod u+w "$cutf"; truncate -s $(($(stat -c %s "$cutf") / 2)) "$cutf"
	out=$(timeout 60 "$FB" --home "$TMP/H" sync "$hub" --no-push 2>&1); rc=$?
	expect_eq "loose hub: a loose $what cut short is refused (not a hang)" "$rc" 1
	expect_match "loose hub: the message names the $what's object, its file and the damage" "$out" \
		"object $cut from .*${hub##*/}/objects/${cut:0:2}/${cut:2} cannot be taken: .*cut short"
	expect_eq "loose hub: the new device did not move ($what)" "$(git -C "$TMP/H/ledger.git" rev-parse main)" "$hstart"
}
# an event file of the newest commit; the newest root tree, which any walk
# of the history reads with libgit2: refused before that
cut_short "$TMP/loose2.git" "event file" \
	"main:$(git -C "$TMP/hub.git" diff-tree -r --name-only --no-commit-id main~1 main | grep '/events/.*json$' | head -1)"
cut_short "$TMP/loose3.git" "root tree" "main^{tree}"
# a device that already holds the older history fetches the newer commits,
# loose on the hub, one of them cut short: the same, for the commit and the
# trees its walk reads (the newest commit, its root tree, a case directory)
rm -rf "$TMP/old.git" && git init -q --bare "$TMP/old.git"
git -C "$TMP/hub.git" push -q "$TMP/old.git" main~2:refs/heads/main
dev I init --officer 3101-0009 --name 钱一 --unit HZ01 >/dev/null
check "loose hub, later fetch: a device takes the older history" dev I sync "$TMP/old.git" --no-push
istart=$(git -C "$TMP/I/ledger.git" rev-parse main)
case_dir=$(git -C "$TMP/hub.git" diff-tree -r --name-only --no-commit-id main~1 main | grep '/events/' | head -1)
case_dir=${case_dir%/events/*}
for what in "commit:main" "root tree:main^{tree}" "case directory:main:$case_dir"; do
	loose_hub "$TMP/loose4.git"
	cut=$(git -C "$TMP/loose4.git" rev-parse "${what#*:}")
	cutf="$TMP/loose4.git/objects/${cut:0:2}/${cut:2}"
	chmod u+w "$cutf"; truncate -s $(($(stat -c %s "$cutf") / 2)) "$cutf"
	out=$(timeout 60 "$FB" --home "$TMP/I" sync "$TMP/loose4.git" --no-push 2>&1); rc=$?
	expect_eq "loose hub, later fetch: a loose ${what%%:*} cut short is refused (not a hang)" "$rc" 1
	expect_match "loose hub, later fetch: the message names the ${what%%:*}'s object and the damage" "$out" \
		"loose4.git/objects/${cut:0:2}/${cut:2} is damaged: .*cut short"
	expect_eq "loose hub, later fetch: the device did not move (${what%%:*})" \
		"$(git -C "$TMP/I/ledger.git" rev-parse main)" "$istart"
done
check "loose hub, later fetch: git fsck --strict on the device" git -C "$TMP/I/ledger.git" fsck --strict --no-dangling
loose_hub "$TMP/loose4.git"
check "loose hub, later fetch: from a whole hub the device takes the rest" dev I sync "$TMP/loose4.git" --no-push
expect_eq "loose hub, later fetch: ... up to the hub's head" "$(git -C "$TMP/I/ledger.git" rev-parse main)" "$good"

# history rewritten on the hub: the client remembers what it saw
reset_clone "$good"
tgit reset -q --hard HEAD~1
tgit commit -q --allow-empty -m "rewritten"
tgit push -q -f "$TMP/bad.git" HEAD:main 2>/dev/null
out=$(dev B sync "$TMP/bad.git" 2>&1); rc=$?
expect_eq "client: a rewritten hub history is refused" "$rc" 1
expect_match "client: the message names both heads" "$out" "rewrote its history: its head [0-9a-f]{40} does not contain $good"
git -C "$TMP/bad.git" update-ref -d refs/heads/main
out=$(dev B sync "$TMP/bad.git" 2>&1); rc=$?
expect_eq "client: a hub that lost its branch is refused" "$rc" 1
expect_match "client: ... with a message" "$out" 'lost its history'

# same path, other content, in a history that does not contain ours: union merge refuses
reset_clone "$good"
tgit checkout -q --orphan forged
jq '.site.address = "别处"' "$TMP/t/$EV" >"$TMP/x" && cp "$TMP/x" "$TMP/t/$EV"
tgit add -A && tgit commit -qm "forged root"
git init -q --bare "$TMP/bad2.git"
tgit push -q "$TMP/bad2.git" forged:main 2>/dev/null
out=$(dev B sync "$TMP/bad2.git" 2>&1); rc=$?
expect_eq "client: the same path with other content is refused" "$rc" 1
expect_match "client: the message names the path and both blobs" "$out" "$EV differs between this ledger \(blob [0-9a-f]+\) and .*bad2.git \(blob [0-9a-f]+\)"
expect_eq "client: nothing changed" "$(git -C "$TMP/B/ledger.git" rev-parse main)" "$bgood"
out=$(dev B sync "$TMP/bad2.git" --json 2>/dev/null)
expect_eq "client: the JSON summary says refused" "$(printf '%s' "$out" | jq -r .refused)" true
expect_match "client: ... and why" "$(printf '%s' "$out" | jq -r .reason)" 'differs between'
# a path hub whose loose object file was swapped for another valid object:
# loose objects travel as files, and each is read back, hash checked,
# before it is taken
"$BUILDDIR/tools/mkjpeg" "$TMP/p2.jpg" --lat 24.41 --lon 111.56 --seed 7
dev A attach "$C" "$TMP/p2.jpg" >/dev/null
git init -q --bare "$TMP/bad3.git"
check "A pushes a new photo to a path hub" dev A sync "$TMP/bad3.git"
ph2=$(git -C "$TMP/bad3.git" rev-parse "main:$(git -C "$TMP/bad3.git" ls-tree -r --name-only main | grep "$(sha256sum "$TMP/p2.jpg" | cut -c1-64)")")
loose="$TMP/bad3.git/objects/${ph2:0:2}/${ph2:2}"
check "the hub holds the photo as the loose object A wrote" cmp "$loose" "$TMP/A/ledger.git/objects/${ph2:0:2}/${ph2:2}"
other=$(echo "not the photo" | git -C "$TMP/bad3.git" hash-object -w --stdin)
chmod u+w "$loose"; cp "$TMP/bad3.git/objects/${other:0:2}/${other:2}" "$loose"
out=$(dev B sync "$TMP/bad3.git" 2>&1); rc=$?
expect_eq "client: a swapped loose object is refused" "$rc" 1
expect_match "client: the message names the object, the file and the hash mismatch" "$out" "object $ph2 from .*bad3.git/objects/${ph2:0:2}/${ph2:2} cannot be taken: .*mismatch"
expect_eq "client: the swapped object did not get in" "$(git -C "$TMP/B/ledger.git" cat-file -t "$ph2" 2>/dev/null)" ""
expect_eq "client: no staging directory is left" "$(ls -d "$TMP"/B/ledger.git/objects/incoming-* 2>/dev/null)" ""
# ... and one cut short (a stick pulled out while a device copied to it): libgit2 1.5
# never returns from reading such an object; it is refused, named, in bounded time
chmod u+w "$loose"; cp "$TMP/A/ledger.git/objects/${ph2:0:2}/${ph2:2}" "$loose"
truncate -s $(($(stat -c %s "$loose") / 2)) "$loose"
out=$(timeout 60 "$FB" --home "$TMP/B" sync "$TMP/bad3.git" 2>&1); rc=$?
expect_eq "client: a loose object cut short is refused (not a hang)" "$rc" 1
expect_match "client: the message names the object, the file and the damage" "$out" "object $ph2 from .*bad3.git/objects/${ph2:0:2}/${ph2:2} cannot be taken: .*cut short"
expect_eq "client: the object cut short did not get in" "$(git -C "$TMP/B/ledger.git" cat-file -t "$ph2" 2>/dev/null)" ""
expect_eq "client: no staging directory is left (cut short)" "$(ls -d "$TMP"/B/ledger.git/objects/incoming-* 2>/dev/null)" ""
check "git fsck --strict on B after the refusals" git -C "$TMP/B/ledger.git" fsck --strict
check "B still syncs with the good hub" dev B sync "$TMP/hub.git"

# a new device's first fetch from a path hub whose pack was damaged: the
# hub's packs are indexed ahead, while the history is walked; the damage is
# found, named, and nothing of it is kept
git clone -q --bare --no-local "$TMP/hub.git" "$TMP/bad4.git"
git -C "$TMP/bad4.git" repack -q -a -d
pack=$(ls "$TMP"/bad4.git/objects/pack/pack-*.pack)
chmod u+w "$pack"
size=$(stat -c %s "$pack")
printf 'XXXXXXXX' | dd of="$pack" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
dev D init --officer 3101-0004 --name 赵六 --unit HZ01 >/dev/null
dstart=$(git -C "$TMP/D/ledger.git" rev-parse main)
out=$(dev D sync "$TMP/bad4.git" --no-push 2>&1); rc=$?
expect_eq "client: a damaged pack on a path hub is refused (first fetch)" "$rc" 1
# (named by the indexer, or by the walk that validates the hub's history from its pack meanwhile)
expect_match "client: the message names the hub and the damage" "$out" "bad4.git(/objects/pack/pack-[0-9a-f]+\.pack: |: the hub's objects are damaged: )"
expect_eq "client: the new device did not move" "$(git -C "$TMP/D/ledger.git" rev-parse main)" "$dstart"
expect_eq "client: no pack was taken" "$(ls "$TMP"/D/ledger.git/objects/pack/ 2>/dev/null)" ""
expect_eq "client: no staging directory is left (first fetch)" "$(ls -d "$TMP"/D/ledger.git/objects/incoming-* 2>/dev/null)" ""
check "the new device then takes the good hub's history" dev D sync "$TMP/hub.git" --no-push
expect_eq "... as it is" "$(git -C "$TMP/D/ledger.git" rev-parse main)" "$(git -C "$TMP/hub.git" rev-parse main)"
check "git fsck --strict on the new device" git -C "$TMP/D/ledger.git" fsck --strict
