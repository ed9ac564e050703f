#!/bin/bash
# Bad input gets a clear message naming the file and the problem, a non-zero
# exit, and nothing is written.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_HOME="$TMP/ws"
fb() { "$FB" "$@"; }
L="$FIELDBOOK_HOME/ledger.git"
commits() { git -C "$L" rev-list --count main; }
# run_err "description" regex command...: must fail with exit 1 and print regex on stderr
run_err() {
	d=$1 re=$2; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 1 ] && printf '%s' "$out" | grep -Eq -- "$re"; then ok "$d"
	else fail "$d (exit $rc)"; printf '%s\n' "$out" | sed 's/^/#   /'; echo "#   wanted: $re"; fi
}

run_err "no workspace yet: says to run init" "no workspace at .*fieldbook init" fb list
fb init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
run_err "a bad officer id is refused" "officer" fb --home "$TMP/other" init --officer "a b" --name x --unit U
C=$(fb case new --form signboard --address "解放路12号")
before=$(commits)

run_err "unknown form" 'no form "nosuch"' fb case new --form nosuch --address x
out=$(fb case new --form signboard 2>&1); rc=$?
expect_eq "a missing --address is a usage error (exit 2)" "$rc" 2
expect_match "and says so" "$out" "address are required"
run_err "a number out of range names the item and the range" 'SB09.*0.*20' fb inspect "$C" --set SB09=99
run_err "not a number" 'SB09' fb inspect "$C" --set SB09=abc
run_err "unknown item" 'SB99' fb inspect "$C" --set SB99=pass
run_err "bad pass/fail value" 'SB04' fb inspect "$C" --set SB04=maybe
run_err "--set without =" 'ITEM=VALUE' fb inspect "$C" --set SB04
printf '{"SB04": "fail",\n  "SB09": }\n' > "$TMP/bad.json"
run_err "broken answers JSON names file:line:column" "bad.json:2:[0-9]+" fb inspect "$C" --answers "$TMP/bad.json"
run_err "unknown case" "no such case: HZ01-20200101-abcdef-9" fb inspect HZ01-20200101-abcdef-9 --set SB04=pass
run_err "not a case id" "not a case id" fb show "../../etc/passwd"
run_err "illegal step names state and allowed steps" "is opened: cannot order here. Allowed now: inspect" fb order "$C" --days 3
run_err "close needs a known outcome" 'unknown outcome "done"' fb close "$C" --outcome done
expect_eq "nothing was written by any refused command" "$(commits)" "$before"
expect_eq "no draft was left by refused commands" "$(fb drafts --json | jq length)" 0

# malformed forms: file:line:column and what is wrong
mkdir -p "$TMP/forms"
printf 'id: x\nversion: 1\ntitle: {zh: 甲, en: A}\ncategory: {zh: 乙, en: B}\nitems:\n  - id: A1\n    type: passfial\n    label: {zh: 甲, en: A}\n' > "$TMP/forms/typo.yaml"
run_err "unknown item type: file:line:column" "typo.yaml:7:[0-9]+: .*passfial" fb form check "$TMP/forms/typo.yaml"
printf 'id: x\nversion: 1\n  title: [\n' > "$TMP/forms/syntax.yaml"
run_err "YAML syntax error: file:line:column" "syntax.yaml:[0-9]+:[0-9]+" fb form check "$TMP/forms/syntax.yaml"
: > "$TMP/forms/empty.yaml"
run_err "empty form file" "empty.yaml" fb form check "$TMP/forms/empty.yaml"
run_err "missing form file" "nothere.yaml" fb form check "$TMP/forms/nothere.yaml"

# a changed form under the same id and version is refused, not silently used
mkdir -p "$FIELDBOOK_HOME/forms"
sed 's/底部净高/底部净空高度/' "$TOP/forms/signboard.yaml" > "$FIELDBOOK_HOME/forms/signboard.yaml"
run_err "a changed form must get a new version" "differs .*new version" fb case new --form signboard --address y
sed 's/^version: 1/version: 2/; s/底部净高/底部净空高度/' "$TOP/forms/signboard.yaml" > "$FIELDBOOK_HOME/forms/signboard.yaml"
C2=$(fb case new --form signboard --address y)
expect_eq "the new version is stored beside the old" "$(git -C "$L" ls-tree --name-only main forms/signboard/ | tr '\n' ' ')" "forms/signboard/1.yaml forms/signboard/2.yaml "
check "the older case still uses version 1" sh -c "'$FB' show '$C' --json | jq -e '.state.form.version == 1'"

# broken config and unusable index give clear errors
cp "$FIELDBOOK_HOME/config" "$TMP/config.bak"
echo '{"officer": ' > "$FIELDBOOK_HOME/config"
run_err "broken config names the file" "config:[0-9]+: broken config" fb list
cp "$TMP/config.bak" "$FIELDBOOK_HOME/config"
check "usage errors exit 2" sh -c "'$FB' list --bogus; [ \$? -eq 2 ]"
check "unknown command exits 2" sh -c "'$FB' frobnicate; [ \$? -eq 2 ]"

# an event's object cut short on this device's disk: libgit2 1.5 would never return
# from reading it; reindex and verify stop at once, naming the object, and the
# index a reindex was rebuilding is kept as it was
before=$(fb list --status all --json)
ev=$(git -C "$L" ls-tree -r main | awk '/events\/.*\.json$/ {print $3; exit}')
obj="$L/objects/${ev:0:2}/${ev:2}"
check "the event's object is loose" test -f "$obj"
chmod u+w "$obj"; truncate -s 20 "$obj"
run_err "reindex names the damaged object (not a hang)" "objects/${ev:0:2}/${ev:2} is damaged: not a whole git object" \
	timeout 60 "$FB" reindex
expect_eq "the index is kept as it was" "$(fb list --status all --json)" "$before"
out=$(timeout 60 "$FB" verify 2>&1); rc=$?
expect_eq "verify fails" "$rc" 1
expect_match "verify names the damaged object" "$out" "objects/${ev:0:2}/${ev:2} is damaged"
check_fails "stock git fsck agrees" git -C "$L" fsck --strict

# the same for a tree or a commit: recording reads the head commit and the
# trees on its path (through loose.c, which libgit2 1.5 would not return
# from); each cut short stops the note at once, naming the file, and
# nothing is recorded
head=$(git -C "$L" rev-parse main)
for what in "commit:main" "root tree:main^{tree}"; do
	id=$(git -C "$L" rev-parse "${what#*:}")
	f="$L/objects/${id:0:2}/${id:2}"
	check "the ${what%%:*} is loose" test -f "$f"
	cp "$f" "$TMP/whole"
	chmod u+w "$f"; truncate -s 20 "$f"
	run_err "recording names the damaged ${what%%:*} (not a hang)" \
		"objects/${id:0:2}/${id:2} is damaged: not a whole git object" timeout 60 "$FB" note "$C2" "x"
	expect_eq "nothing was recorded (${what%%:*})" "$(git -C "$L" rev-parse main)" "$head"
	cp "$TMP/whole" "$f"
done
