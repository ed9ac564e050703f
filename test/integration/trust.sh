#!/bin/bash
# Officer keys, signed events and commits, the roster and roles, supervisor
# review, and a tampering catalogue, checked with fieldbook verify and with
# stock ssh-keygen and git verify-commit.
. "$FIELDBOOK_TOP/test/lib.sh"
W="$TMP/w"; mkdir -p "$W"
H="$TMP/hub.git"
# Move histories with stock git through a plain bare hub (fast-forward only):
# each actor takes the latest history, acts, and gives it back.
pull() { git -C "$W/$1/ledger.git" fetch -q "$H" main:main 2>/dev/null || true; }
push() { git -C "$W/$1/ledger.git" push -q "$H" main; }
act() { who=$1; shift; pull "$who"; "$FB" --home "$W/$who" "$@"; rc=$?; push "$who"; return $rc; }
join() { # join WHO OFFICER NAME: a new device whose ledger starts from the hub
	git clone -q --bare "$H" "$W/$1/ledger.git"
	"$FB" --home "$W/$1" init --officer "$2" --name "$3" --unit HZ01 >/dev/null
}
pub() { "$FB" --home "$W/$1" key show | head -1; }

# --- keys and the trust root
check "admin init with --admin becomes the trust root" "$FB" --home "$W/admin" init --officer 3101-0001 --name 李主任 --unit HZ01 --admin
expect_eq "key file is 0600" "$(stat -c %a "$W/admin/key")" 600
check_fails "no plaintext secret key on disk" grep -rq "PRIVATE KEY" "$W/admin"
expect_eq "the key is stored encrypted (argon2id + secretbox)" "$(jq -r .kdf "$W/admin/key")" argon2id13
git clone -q --bare "$W/admin/ledger.git" "$H"
join sup 3101-0002 王督查
join off 3101-0003 张伟
check "admin adds a supervisor" act admin roster add --officer 3101-0002 --name 王督查 --role supervisor --key "$(pub sup)"
check "admin adds an officer" act admin roster add --officer 3101-0003 --name 张伟 --role officer --key "$(pub off)"
pull off
out=$("$FB" --home "$W/off" roster show)
expect_match "the roster lists three officers with roles" "$out" '3101-0003 +officer'
expect_eq "the device pinned the trust root (first admin key)" "$(jq -r .trust_root "$W/off/config")" "$(pub admin)"

# --- an officer's case, a supervisor's approval
C=$(act off case new --form signboard --address "解放路12号" --party "某某餐馆")
act off inspect "$C" --set SB04=fail --note SB04="锈蚀" >/dev/null
act off order "$C" --days 3 >/dev/null
act off reinspect "$C" --set SB04=pass >/dev/null
act off close "$C" --outcome rectified >/dev/null
pull sup
expect_match "the closure waits in the supervisor's queue" "$("$FB" --home "$W/sup" review)" "^closure +$C"
check "the supervisor approves" act sup approve "$C" --note "整改到位"
expect_eq "approved" "$("$FB" --home "$W/sup" show "$C" --json | jq -r .state.review)" approved
check "verify: the whole ledger is valid" "$FB" --home "$W/sup" verify
expect_eq "verify --json says ok" "$("$FB" --home "$W/sup" verify --json | jq .ok)" true
expect_eq "every event carries verdict ok" "$("$FB" --home "$W/sup" show "$C" --json | jq -r '[.timeline[].verdict] | unique | join(",")')" ok

# --- stock OpenSSH and git accept our signatures
L="$W/sup/ledger.git"
"$FB" --home "$W/sup" roster allowed-signers --output "$TMP/allowed_signers"
# the case's opening event, by 3101-0003, with the address in it (the
# supervisor's approval, made in the same second, may sort first)
ev=$(git -C "$L" ls-tree -r --name-only main | grep "/$C/events/.*json$" | while read -r f; do
	git -C "$L" cat-file -p "main:$f" | jq -e '.officer == "3101-0003" and (tostring | test("解放路"))' >/dev/null &&
		{ echo "$f"; break; }
done)
git -C "$L" cat-file -p "main:$ev" > "$TMP/e.json"
git -C "$L" cat-file -p "main:$ev.sig" > "$TMP/e.json.sig"
check "ssh-keygen -Y verify accepts an event signature" sh -c "ssh-keygen -Y verify -f '$TMP/allowed_signers' -I 3101-0003 -n fieldbook -s '$TMP/e.json.sig' < '$TMP/e.json'"
sed 's/解放路/中山路/' "$TMP/e.json" > "$TMP/e2.json"; cp "$TMP/e.json.sig" "$TMP/e2.json.sig"
check_fails "ssh-keygen rejects a changed event" sh -c "ssh-keygen -Y verify -f '$TMP/allowed_signers' -I 3101-0003 -n fieldbook -s '$TMP/e2.json.sig' < '$TMP/e2.json'"
check_fails "ssh-keygen rejects it under another officer's name" sh -c "ssh-keygen -Y verify -f '$TMP/allowed_signers' -I 3101-0002 -n fieldbook -s '$TMP/e.json.sig' < '$TMP/e.json'"
check "git verify-commit accepts our commits" git -C "$L" -c gpg.ssh.allowedSignersFile="$TMP/allowed_signers" verify-commit main main~1 main~2
git clone -q --bare "$L" "$TMP/rw.git"
amended=$(git -C "$TMP/rw.git" cat-file commit main | sed 's/^Officer: /Officer: X/' | git -C "$TMP/rw.git" hash-object -t commit -w --stdin)
check_fails "git verify-commit rejects a rewritten commit" git -C "$TMP/rw.git" -c gpg.ssh.allowedSignersFile="$TMP/allowed_signers" verify-commit "$amended"

# --- the tampering catalogue, from devices that break the rules
act off approve "$C" >/dev/null 2>&1 || true   # (already approved) -> refused locally, nothing written
C2=$(act off case new --form fencing --address "人民路88号")
act off close "$C2" --outcome no-violation >/dev/null
act off approve "$C2" >/dev/null 2>"$TMP/warn"          # an officer approving: recorded, then flagged
expect_match "approving without the role warns" "$(cat "$TMP/warn")" "supervisor role"
act sup roster add --officer 3101-0099 --name 冒名 --role admin --key "$(pub sup)" >/dev/null  # not an admin
join rogue 3101-0077 无名
act rogue note "$C2" "unknown key" >/dev/null         # a key the roster never held
act admin roster retire --officer 3101-0003 >/dev/null
act off note "$C2" "after retirement" >/dev/null       # the retired key signs again
join audit 3101-0100 审计
"$FB" --home "$W/audit" verify > "$TMP/v.out"; rc=$?
v=$(cat "$TMP/v.out")
expect_eq "verify exits non-zero on any failure" "$rc" 1
expect_match "approval by a non-supervisor is flagged" "$v" "review.approved needs the supervisor role; 3101-0003 is officer"
expect_match "roster change by a non-admin is flagged" "$v" "roster change signed by 3101-0002, who is not an admin"
expect_match "an unknown key is flagged with its fingerprint" "$v" "signed by a key not in the roster \(SHA256:"
expect_match "an event after key retirement is flagged" "$v" "signed after the key was retired"
expect_match "the verdict line says FAILED with counts" "$v" "^FAILED: [0-9]+ cases \(1 failed\)"
expect_match "the good case still verifies" "$v" "$C  verified"
expect_match "the device shows the invalid event flagged, not dropped" \
	"$("$FB" --home "$W/audit" show "$C2" --json | jq -r '.timeline[] | select(.event.type == "review.approved") | .verdict')" "needs the supervisor role"
check "verify --case on the good case passes" "$FB" --home "$W/audit" verify --case "$C"
expect_eq "verify --json counts the 3 invalid events" "$("$FB" --home "$W/audit" verify --json | jq .summary.invalid_events)" 3

# --- history tampering, seen by a fresh device
tamper() { # tamper NAME FILTER: a copy of the hub rewritten by git filter-branch
	git clone -q --bare "$H" "$TMP/$1.git"
	git -C "$TMP/$1.git" filter-branch -f --index-filter "$2" -- main >/dev/null 2>&1
	mkdir -p "$W/$1"; git clone -q --bare "$TMP/$1.git" "$W/$1/ledger.git"
	"$FB" --home "$W/$1" init --officer 3101-0101 --name 核查 --unit HZ01 >/dev/null
	"$FB" --home "$W/$1" verify > "$TMP/$1.out" 2>&1; echo $? >> "$TMP/$1.out"
}
tamper bytes "if git cat-file -e :$ev 2>/dev/null; then git show :$ev | sed s/解放路/中山路/ > $TMP/x.json; git update-index --cacheinfo 100644,\$(git hash-object -w $TMP/x.json),$ev; fi"
expect_match "an event byte changed: the signature does not match" "$(cat "$TMP/bytes.out")" "the signature does not match the content"
expect_match "and the rewritten commits are flagged (filter-branch drops their signatures)" "$(cat "$TMP/bytes.out")" "commit [0-9a-f]{12}: commit is not signed"
tamper nosig "git rm -q --cached --ignore-unmatch $ev.sig"
expect_match "a .sig removed is flagged" "$(cat "$TMP/nosig.out")" "no signature \(.sig file missing\)"
expect_eq "and verify fails" "$(tail -1 "$TMP/nosig.out")" 1
verdict_of_ev() { "$FB" --home "$W/$1" show "$C" --json | jq -r --arg p "$ev" '.timeline[] | select(.path == $p) | .verdict'; }
expect_match "the device shows that event flagged" "$(verdict_of_ev nosig)" "no signature"
# the .sig comes back in a later commit (stock git): the device's index
# attaches it to its event and checks the event again
R="$W/nosig/ledger.git"
blob=$(git -C "$R" hash-object -w "$TMP/e.json.sig")
GIT_INDEX_FILE="$TMP/late.idx" git -C "$R" read-tree main
GIT_INDEX_FILE="$TMP/late.idx" git -C "$R" update-index --add --cacheinfo "100644,$blob,$ev.sig"
late=$(git -C "$R" -c user.name=t -c user.email=t@t commit-tree "$(GIT_INDEX_FILE="$TMP/late.idx" git -C "$R" write-tree)" -p main -m "the signature, late")
git -C "$R" update-ref refs/heads/main "$late"
expect_eq "a .sig that arrives later: the event verifies again" "$(verdict_of_ev nosig)" "ok"

# a device that indexed the true history refuses a rewritten one
cp -a "$W/audit" "$W/audit2"
git -C "$W/audit2/ledger.git" fetch -q -f "$TMP/bytes.git" main:main
out=$("$FB" --home "$W/audit2" list 2>&1); rc=$?
expect_eq "a rewritten history is refused on open (exit 1)" "$rc" 1
expect_match "naming the commit that is no longer there" "$out" "history was rewritten: commit [0-9a-f]{12}"

# --- PIN and key errors
check_fails "a wrong PIN is refused" env FIELDBOOK_PIN=000000 "$FB" --home "$W/off" note "$C" x
out=$(FIELDBOOK_PIN=000000 "$FB" --home "$W/off" note "$C" x 2>&1)
expect_match "with a clear message" "$out" "wrong PIN \([0-9]+ failed attempts\)"
FIELDBOOK_PIN=000000 "$FB" --home "$W/off" note "$C" x >/dev/null 2>&1
out=$(FIELDBOOK_PIN=123456 "$FB" --home "$W/off" note "$C" x 2>&1)
expect_match "after 3 wrong PINs even the right one must wait" "$out" "wrong PINs: try again in [0-9]+ seconds"
out=$(FIELDBOOK_NOW=$(date -u -d '+2 minutes' +%FT%TZ) "$FB" --home "$W/off" note "$C" "later" 2>&1)
expect_match "after the wait the right PIN works again" "$out" "note: later"
check_fails "a short PIN is refused at init" env FIELDBOOK_PIN=123 "$FB" --home "$W/short" init --officer 1 --name a --unit U
check_fails "and no workspace is left behind" test -e "$W/short/config"
cp "$W/off/key" "$TMP/key.bak"
printf '{"version": 1, "public": "ssh-ed25519 AAAA", "box": "%%%%"}' > "$W/off/key"
out=$("$FB" --home "$W/off" note "$C" x 2>&1)
expect_match "a corrupted key file is named" "$out" "key: the key file is damaged"
rm "$W/off/key"
out=$("$FB" --home "$W/off" note "$C" x 2>&1)
expect_match "a missing key says how to make one" "$out" "no officer key in .*fieldbook key create"
cp "$TMP/key.bak" "$W/off/key"
out=$(env -u FIELDBOOK_PIN "$FB" --home "$W/off" note "$C" x 2>&1 </dev/null)
expect_match "no terminal and no FIELDBOOK_PIN: a clear message" "$out" "run in a terminal to enter the PIN, or set FIELDBOOK_PIN"

# --- unlock once per session: a key agent holds the key in memory
check "unlock starts a key agent (PIN asked once)" "$FB" --home "$W/off" unlock --for 5
expect_eq "the agent socket is private (0600)" "$(stat -c %a "$W/off/agent.sock")" 600
check "recording needs no PIN while unlocked" env -u FIELDBOOK_PIN "$FB" --home "$W/off" note "$C" "signed by the agent" </dev/null
expect_match "the agent's signature verifies (only the roster rule flags it: this officer was retired above)" \
	"$("$FB" --home "$W/off" show "$C" --json | jq -r '.timeline[] | select(.event.text == "signed by the agent") | .verdict')" "^signed after the key was retired"
check "lock stops the agent" "$FB" --home "$W/off" lock
check_fails "after lock the PIN is needed again" env -u FIELDBOOK_PIN "$FB" --home "$W/off" note "$C" x </dev/null
check_fails "no agent socket is left" test -e "$W/off/agent.sock"
check_fails "no plaintext key in the workspace after all this" grep -rqa "BEGIN OPENSSH PRIVATE KEY" "$W"
