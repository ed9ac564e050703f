#!/bin/bash
# Supervisor figures and exports: stats per grid/category/officer with date
# filters, CSV (parsed with python3's csv module, BOM option) and GeoJSON (jq).
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_HOME="$TMP/ws"
fb() { "$FB" "$@"; }

export FIELDBOOK_NOW=2026-11-20T02:00:00Z
fb init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null || fail "init"
# A: grid G-01, closed two days after opening.
A=$(fb --lat 24.414 --lon 111.566 case new --form signboard --address '解放路1号, "东"' --grid G-01)
fb inspect "$A" --set SB04=pass >/dev/null 2>&1
# B: grid G-01, ordered with a deadline that passes (overdue on the 30th).
B=$(fb --lat 24.415 --lon 111.567 case new --form lane --address "=HYPERLINK(1)" --grid G-01)
fb inspect "$B" --set LO01=vendor --set LO02=sidewalk --set LO07=fail >/dev/null || fail "inspect B"
fb order "$B" --days 1 >/dev/null || fail "order B"
export FIELDBOOK_NOW=2026-11-22T02:00:00Z
fb close "$A" --outcome no-violation >/dev/null || fail "close A"
# C: grid G-02, opened later, no location.
export FIELDBOOK_NOW=2026-11-25T02:00:00Z
C=$(fb case new --form lane --address "中山路8号" --grid G-02)
export FIELDBOOK_NOW=2026-11-30T02:00:00Z

out=$(fb stats --json)
expect_eq "stats by grid: G-01 opened 2, closed 1, overdue 1" \
	"$(printf '%s' "$out" | jq -c '.[] | select(.key=="G-01") | [.opened,.closed,.overdue,.open]')" "[2,1,1,1]"
expect_eq "mean days to close of G-01" "$(printf '%s' "$out" | jq '.[] | select(.key=="G-01") | .mean_days_to_close')" "2"
expect_eq "the last row is the total" "$(printf '%s' "$out" | jq -c '.[-1] | [.key,.opened]')" '["",3]'
expect_eq "stats by category" "$(fb stats --by category --json | jq -c '[.[] | .key]')" '["07006","09006",""]' 
expect_eq "stats by officer" "$(fb stats --by officer --json | jq -c '.[0] | [.key,.opened]')" '["3101-0042",3]'
expect_eq "--from keeps cases opened on or after the date" \
	"$(fb stats --from 2026-11-21 --json | jq -c '.[-1].opened')" 1
expect_eq "--to keeps cases opened on or before the date" \
	"$(fb stats --to 2026-11-21 --json | jq -c '.[-1].opened')" 2
check_fails "a bad date is refused" fb stats --from 2026-13-45
check_fails "an unknown grouping is refused" fb stats --by colour
txt=$(fb stats)
expect_match "stats prints a table" "$txt" "^grid +opened +closed +overdue +open"
fb stats --csv --bom >"$TMP/s.csv"
expect_eq "--bom starts the CSV with a UTF-8 BOM" "$(head -c 3 "$TMP/s.csv" | od -An -tx1 | tr -d ' ')" efbbbf
expect_eq "stats CSV parses" "$(python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1],encoding="utf-8-sig"))); print(r[0][0], len(r))' "$TMP/s.csv")" "grid 4"

check "export-all CSV" fb export-all --format csv -o "$TMP/all.csv"
py='import csv,sys,json; r=list(csv.DictReader(open(sys.argv[1],encoding="utf-8",newline=""))); print(json.dumps(r,ensure_ascii=False))'
rows=$(python3 -c "$py" "$TMP/all.csv")
expect_eq "CSV has a row per case" "$(printf '%s' "$rows" | jq length)" 3
expect_eq "CSV quotes commas and quotes" "$(printf '%s' "$rows" | jq -r ".[] | select(.id==\"$A\") | .address")" '解放路1号, "东"'
expect_eq "CSV defuses formulas" "$(printf '%s' "$rows" | jq -r ".[] | select(.id==\"$B\") | .address")" "'=HYPERLINK(1)"
expect_eq "CSV status overdue" "$(printf '%s' "$rows" | jq -r ".[] | select(.id==\"$B\") | .status")" overdue
expect_eq "CSV location" "$(printf '%s' "$rows" | jq -r ".[] | select(.id==\"$A\") | .lat+\",\"+.lon")" "24.414,111.566"
expect_eq "CSV no location for a case without one" "$(printf '%s' "$rows" | jq -r ".[] | select(.id==\"$C\") | .lat")" ""
check_fails "no BOM unless asked" sh -c "head -c 3 '$TMP/all.csv' | od -An -tx1 | grep -q ef"
check "export-all CSV --status closed" fb export-all --format csv -o "$TMP/closed.csv" --status closed
expect_eq "only the closed case" "$(python3 -c "$py" "$TMP/closed.csv" | jq -r '.[].id')" "$A"

check "export-all GeoJSON" fb export-all --format geojson -o "$TMP/all.geojson"
g="$TMP/all.geojson"
expect_eq "a FeatureCollection" "$(jq -r .type "$g")" FeatureCollection
expect_eq "one feature per case" "$(jq '.features | length' "$g")" 3
expect_eq "points are [lon, lat]" "$(jq -c ".features[] | select(.id==\"$A\") | .geometry.coordinates" "$g")" "[111.566,24.414]"
expect_eq "no geometry without a location" "$(jq -c ".features[] | select(.id==\"$C\") | .geometry" "$g")" null
expect_eq "properties" "$(jq -c ".features[] | select(.id==\"$B\") | .properties | [.state,.status,.category,.grid,.deadline,.officer]" "$g")" \
	'["ordered","overdue","09006","G-01","2026-11-21","3101-0042"]'
check "export-all GeoJSON --status overdue" fb export-all --format geojson -o "$TMP/od.geojson" --status overdue
expect_eq "only the overdue case" "$(jq -r '.features[].id' "$TMP/od.geojson")" "$B"
check_fails "an unknown format is refused" fb export-all --format xml -o "$TMP/x"
check_fails "an unknown status is refused" fb export-all --format csv -o "$TMP/x" --status lost
