#!/bin/bash
# kill -9 during `inspect`, 50 times: the ledger stays fsck-clean, no event is
# half-written, and each case ends with the event or the draft, never both.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_HOME="$TMP/ws"
fb() { "$FB" "$@"; }
fb init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
L="$FIELDBOOK_HOME/ledger.git"
trials=50 with_event=0 with_draft=0 neither=0 both=0 bad=0
for i in $(seq 1 $trials); do
	if ! C=$(fb case new --form signboard --address "测试路$i号" 2>"$TMP/err"); then
		fail "case new after a kill: $(cat "$TMP/err")"; continue
	fi
	"$FB" inspect "$C" --set SB04=fail --set SB09=2.1 --set SB11=2 --note SB04="第$i次" >/dev/null 2>&1 &
	pid=$!
	# spread the kill over the command's whole run (about 20-240 ms: the PIN
	# derivation (Argon2id) takes most of the first 100 ms)
	sleep "0.$(printf %03d $(( (i * 37) % 220 + 20 )))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	n=$(fb show "$C" --json | jq '[.timeline[] | select(.event.type == "inspection.recorded")] | length')
	d=$(fb drafts --json | jq --arg c "$C" '[.[] | select(.case == $c)] | length')
	if [ "$n" = 1 ] && [ "$d" = 0 ]; then with_event=$((with_event + 1))
	elif [ "$n" = 0 ] && [ "$d" = 1 ]; then with_draft=$((with_draft + 1))
		# the draft holds every answer given, and recording it finishes the job
		a=$(fb drafts --json | jq -c --arg c "$C" '.[] | select(.case == $c) | .draft.answers')
		[ "$a" = '{"SB04":"fail","SB09":2.1,"SB11":2}' ] || { bad=$((bad + 1)); echo "# draft answers $a"; }
		fb inspect "$C" >/dev/null || bad=$((bad + 1))
	elif [ "$n" = 0 ] && [ "$d" = 0 ]; then neither=$((neither + 1))
	else both=$((both + 1)); echo "# $C: $n events, $d drafts"
	fi
done
echo "# $trials kills: $with_event recorded, $with_draft left a draft, $neither died before saving anything"
expect_eq "no case has both the event and its draft" "$both" 0
expect_eq "every resumed draft held all answers and recorded" "$bad" 0
check "git fsck --strict after $trials kills" git -C "$L" fsck --strict
check "every event file in the ledger is valid JSON" sh -c "git -C '$L' ls-tree -r --name-only main | grep '/events/.*[.]json$' | while read p; do git -C '$L' cat-file -p main:\$p | jq -e .id >/dev/null || exit 1; done"
check "sqlite integrity after kills" sh -c "sqlite3 '$FIELDBOOK_HOME/index.sqlite' 'PRAGMA integrity_check' | grep -qx ok"
fb list --status all --json > "$TMP/a"; fb reindex 2>/dev/null; fb list --status all --json > "$TMP/b"
check "index after kills equals a rebuild" cmp "$TMP/a" "$TMP/b"
expect_eq "one inspection per case in the end (or none if killed before saving)" \
	"$(fb list --status all --json | jq '[.[] | select(.state == "inspected")] | length')" "$((with_event + with_draft))"

# --draft saves without recording; a later inspect merges and records
C=$(fb case new --form fencing --address "工地A")
check "inspect --draft saves a draft" fb inspect "$C" --set CF01=main --draft
expect_eq "nothing recorded by --draft" "$(fb show "$C" --json | jq -r .state.status)" opened
expect_eq "the draft is listed" "$(fb drafts --json | jq -r --arg c "$C" '.[] | select(.case == $c) | .draft.answers.CF01')" main
check_fails "recording with required items missing is refused" fb inspect "$C" --set CF03=pass
check "recording merges the draft" fb inspect "$C" --set CF02=2.6 --set CF03=pass
expect_eq "merged answers recorded" "$(fb show "$C" --json | jq -c '.state.answers | keys')" '["CF01","CF02","CF03"]'
expect_eq "the draft is gone" "$(fb drafts --json | jq --arg c "$C" '[.[] | select(.case == $c)] | length')" 0

# concurrent writers: the ref moves by compare-and-swap, no event is lost
C=$(fb case new --form signboard --address "并发路1号")
for i in $(seq 1 20); do "$FB" note "$C" "note $i" >/dev/null 2>"$TMP/err.$i" & done
wait
expect_eq "20 concurrent notes all recorded" "$(fb show "$C" --json | jq '[.timeline[] | select(.event.type == "note.added")] | length')" 20
check "fsck after concurrent writers" git -C "$L" fsck --strict
