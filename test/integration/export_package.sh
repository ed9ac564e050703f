#!/bin/bash
# Evidence packages: export a real case with photos, verify it with
# fieldbook and with stock sha256sum / sha512sum / ssh-keygen, detect every
# kind of tampering with a precise message, redaction, zip, and the report.
. "$FIELDBOOK_TOP/test/lib.sh"
export FIELDBOOK_HOME="$TMP/ws"
MK="$BUILDDIR/tools/mkjpeg"
fb() { "$FB" "$@"; }

export FIELDBOOK_NOW=2026-11-23T02:00:00Z
fb init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null || fail "init"
C=$(fb --lat 24.414 --lon 111.566 case new --form lane --address "解放路12号" --grid G-03 \
	--party "某某餐馆" --contact "13800138000")
OTHER=$(fb case new --form signboard --address "中山路8号" --party "王五商店" --contact "13900000000")
export FIELDBOOK_NOW=2026-11-23T02:10:00Z
fb inspect "$C" --set LO01=storefront --set LO02=sidewalk --set LO05=none --set LO07=fail \
	--set LO11="李四 440101199001011234" --note LO07="盲道被占" >/dev/null || fail "inspect"
"$MK" "$TMP/p1.jpg" --lat 24.414 --lon 111.566 --taken "2026:11:23 10:00:00" --offset +08:00 --seed 1 >/dev/null
"$MK" "$TMP/p2.jpg" --lat 24.4141 --lon 111.5661 --taken "2026:11:23 10:05:00" --offset +08:00 \
	--make Fieldcam --model FC1 --seed 2 >/dev/null
fb attach "$C" "$TMP/p1.jpg" --item LO07 >/dev/null || fail "attach p1"
fb attach "$C" "$TMP/p2.jpg" --item LO07 >/dev/null || fail "attach p2"
fb order "$C" --days 3 >/dev/null || fail "order"
export FIELDBOOK_NOW=2026-11-25T02:00:00Z
fb reinspect "$C" --set LO05=compliant --set LO07=pass >/dev/null || fail "reinspect"
fb close "$C" --outcome rectified >/dev/null || fail "close"
S1=$(sha256sum "$TMP/p1.jpg" | cut -d' ' -f1)

# --- a good package ------------------------------------------------------------------------------
P="$TMP/pkg"
check "export a case with photos" fb export "$C" -o "$P"
for f in bagit.txt bag-info.txt manifest-sha256.txt manifest-sha512.txt tagmanifest-sha256.txt \
	tagmanifest-sha512.txt data/allowed_signers data/audit.tsv data/report.html data/report.pdf \
	data/forms/lane/1.yaml "data/photos/$S1.jpg"; do
	[ -f "$P/$f" ] && ok "package holds $f" || fail "package holds $f"
done
expect_eq "bagit.txt" "$(cat "$P/bagit.txt")" "$(printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8')"
info=$(cat "$P/bag-info.txt")
expect_match "bag-info: External-Identifier is the case" "$info" "^External-Identifier: $C$"
expect_match "bag-info: Source-Organization is the unit" "$info" "Source-Organization: HZ01"
expect_match "bag-info: Bag-Software-Agent" "$info" "Bag-Software-Agent: fieldbook [0-9.]+"
bytes=$(find "$P/data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$P/data" -type f | wc -l)
expect_match "bag-info: Payload-Oxum counts data/" "$info" "Payload-Oxum: $bytes\\.$files$"
nev=$(fb show "$C" --json | jq '.timeline | length')
expect_eq "every event and its signature are in data/events" "$(ls "$P/data/events" | wc -l)" $((2 * nev))
expect_eq "audit.tsv: a header and a line per event" "$(wc -l <"$P/data/audit.tsv")" $((nev + 1))
E1=$(fb show "$C" --json | jq -r '.timeline[1].event.id')
E2=$(fb show "$C" --json | jq -r '.timeline[2].event.id')
P1=$(fb show "$C" --json | jq -r '.timeline[1].path')
check "event bytes are exactly the ledger's" cmp "$P/data/events/$E1.json" \
	<(git -C "$FIELDBOOK_HOME/ledger.git" cat-file blob "main:$P1")
check_fails "no other case's data in the package" grep -rlq -e "$OTHER" -e 13900000000 -e 王五 "$P"
out=$(fb verify "$P"); rc=$?
expect_eq "fieldbook verify accepts the package" "$rc" 0
expect_match "verdict line" "$out" "^VERIFIED: package of case $C, $nev events \\($nev signatures valid\\)"
expect_match "the trust root's fingerprint is shown" "$out" "trust root: SHA256:"
check "stock sha256sum -c passes on the bag" sh -c "cd '$P' && sha256sum --quiet -c manifest-sha256.txt"
check "stock sha512sum -c passes on the bag" sh -c "cd '$P' && sha512sum --quiet -c manifest-sha512.txt"
check "stock sha256sum -c passes on the tag manifest" sh -c "cd '$P' && sha256sum --quiet -c tagmanifest-sha256.txt"
check "stock ssh-keygen -Y verify accepts an event" sh -c "ssh-keygen -Y verify -f '$P/data/allowed_signers' \
	-I 3101-0042 -n fieldbook -s '$P/data/events/$E1.json.sig' <'$P/data/events/$E1.json'"
check_fails "a non-empty output directory is refused" fb export "$C" -o "$P"
# the report's fonts are being prepared on a thread when the case turns out
# not to exist: a clear error, nothing written, a clean exit
out=$(fb export HZ01-20990101-nodev-1 -o "$TMP/none" 2>&1); rc=$?
expect_eq "export of a case that does not exist fails" "$rc" 1
expect_match "the error names the case" "$out" "no such case: HZ01-20990101-nodev-1"
check_fails "and nothing is written" test -e "$TMP/none"

# --- tampering ----------------------------------------------------------------------------------
# copy NAME: a fresh copy of the good package.  remanifest DIR: recompute
# every manifest with stock tools, as someone hiding a change would.
copy() { rm -rf "$TMP/$1"; cp -r "$P" "$TMP/$1"; echo "$TMP/$1"; }
remanifest() (
	cd "$1" || exit 1
	for a in sha256 sha512; do find data -type f | LC_ALL=C sort | xargs ${a}sum >manifest-$a.txt; done
	b=$(find data -type f -printf '%s\n' | awk '{s+=$1} END {print s}'); n=$(find data -type f | wc -l)
	sed -i "s/^Payload-Oxum: .*/Payload-Oxum: $b.$n/" bag-info.txt
	for a in sha256 sha512; do ${a}sum bagit.txt bag-info.txt manifest-sha256.txt manifest-sha512.txt >tagmanifest-$a.txt; done
)
# tampered "description" DIR REGEX: verify fails, exit 1, with a line matching REGEX.
tampered() {
	out=$(fb verify "$2" 2>&1); rc=$?
	if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q '^FAILED' && printf '%s' "$out" | grep -Eq -- "$3"; then
		ok "$1"
	else
		fail "$1 (exit $rc)"; printf '%s\n' "$out" | sed 's/^/#   /'; echo "#   wanted: $3"
	fi
}
flip() { # flip one byte in the middle of a file
	local n; n=$(stat -c %s "$1")
	printf '\x5a' | dd of="$1" bs=1 seek=$((n / 2)) conv=notrunc status=none
}

d=$(copy t-photo); flip "$d/data/photos/$S1.jpg"
tampered "a changed photo byte is found by the manifest" "$d" \
	"^data/photos/$S1.jpg: sha256 does not match manifest-sha256.txt"
remanifest "$d"
tampered "a changed photo byte is found against the event's hash, even with new manifests" "$d" \
	"^data/photos/$S1.jpg: sha256 is [0-9a-f]+, but event .* recorded $S1"

d=$(copy t-drop); rm "$d/data/events/$E1.json"
tampered "a dropped event file is named" "$d" "^data/events/$E1.json: missing, but listed in manifest-sha256.txt"
d=$(copy t-drop-photo); rm "$d/data/photos/$S1.jpg"; remanifest "$d"
tampered "a dropped photo is found from its event, even with new manifests" "$d" \
	"^data/events/.*: refers to photo data/photos/$S1.jpg, which is not in the package"
d=$(copy t-drop-sig); rm "$d/data/events/$E2.json.sig"; remanifest "$d"
tampered "a dropped signature is found" "$d" "^data/events/$E2.json: signature: no signature"

d=$(copy t-add); echo extra >"$d/data/extra.txt"
tampered "an added file is named" "$d" "^data/extra.txt: not listed in manifest-sha256.txt: a file was added"
d=$(copy t-add-top); echo extra >"$d/notes.txt"
tampered "an added tag file is named" "$d" "^notes.txt: not listed in tagmanifest-sha256.txt"
d=$(copy t-add-photo); cp "$TMP/p1.jpg" "$d/data/photos/$(sha256sum "$TMP/p2.jpg" | cut -c1-63)0.jpg"; remanifest "$d"
tampered "an added photo no event refers to is named" "$d" "no event of the case refers to this photo"

d=$(copy t-event); sed -i 's/"LO07": "fail"/"LO07": "pass"/' "$d/data/events/$E1.json"
tampered "a changed event is found by the manifest" "$d" "^data/events/$E1.json: sha256 does not match"
remanifest "$d"
tampered "a changed event is found by its signature, even with new manifests" "$d" \
	"^data/events/$E1.json: signature: "

d=$(copy t-swap)
mv "$d/data/events/$E1.json.sig" "$TMP/sig"; mv "$d/data/events/$E2.json.sig" "$d/data/events/$E1.json.sig"
mv "$TMP/sig" "$d/data/events/$E2.json.sig"
tampered "swapped signatures are found by the manifest" "$d" "^data/events/$E1.json.sig: sha256 does not match"
remanifest "$d"
tampered "swapped signatures: the first event's signature fails" "$d" "^data/events/$E1.json: signature: "
tampered "swapped signatures: the second event's signature fails" "$d" "^data/events/$E2.json: signature: "

d=$(copy t-oxum); sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 1.1/' "$d/bag-info.txt"
tampered "a wrong Payload-Oxum is found" "$d" "^bag-info.txt: Payload-Oxum says 1 bytes in 1 files"
tampered "bag-info.txt changes are found by the tag manifest" "$d" "^bag-info.txt: sha256 does not match tagmanifest-sha256.txt"
d=$(copy t-case); sed -i "s/^External-Identifier: .*/External-Identifier: $OTHER/" "$d/bag-info.txt"; remanifest "$d"
tampered "events of another case than the bag's are found" "$d" "belongs to case $C, not to this package's case $OTHER"
d=$(copy t-audit); sed -i '3d' "$d/data/audit.tsv"; remanifest "$d"
tampered "a line dropped from audit.tsv is found" "$d" "^data/audit.tsv: has no line for event "
d=$(copy t-roster); rm "$d"/data/roster/*.sig; remanifest "$d"
tampered "an unsigned roster is refused" "$d" "^data/roster/.*: roster change .* has no signature"
d=$(copy t-bagit); rm "$d/bagit.txt"
tampered "a missing bagit.txt is found" "$d" "^bagit.txt: missing"
d=$(copy t-link); ln -s /etc/passwd "$d/data/link"
tampered "a symbolic link in a package is refused" "$d" "data/link: not a regular file"

# --- redaction -----------------------------------------------------------------------------------
R="$TMP/red"
check "export --redact" fb export "$C" -o "$R" --redact
check_fails "the redacted package holds no party contact" grep -rq 13800138000 "$R"
check_fails "the redacted package holds no personal answer (LO11)" grep -rq -e 440101199001011234 -e 李四 "$R"
check_fails "nor does its PDF report" sh -c "pdftotext '$R/data/report.pdf' - | grep -q -e 13800138000 -e 李四"
check_fails "the redacted package holds no original events or their signatures" sh -c "ls '$R/data' | grep -qx events || find '$R/data/redacted' -name '*.sig' | grep -q ."
expect_match "bag-info.txt says it is redacted" "$(cat "$R/bag-info.txt")" \
	"redacted for publication; signatures apply to the unredacted originals held by HZ01"
expect_match "the report says it is redacted" "$(cat "$R/data/report.html")" "Redacted for publication"
expect_eq "redacted events say [redacted]" "$(jq -r '.answers.LO11' "$R/data/redacted/$E1.json")" "[redacted]"
out=$(fb verify "$R"); rc=$?
expect_eq "a redacted package verifies (manifests)" "$rc" 0
expect_match "and says signatures were not checkable" "$out" "REDACTED: manifests checked, signatures not checkable"
check "stock sha256sum -c passes on the redacted bag" sh -c "cd '$R' && sha256sum --quiet -c manifest-sha256.txt"

# --- zip -----------------------------------------------------------------------------------------
Z="$TMP/case.zip"
check "export --zip" fb export "$C" -o "$Z" --zip
expect_match "the zip holds the bag under one directory" "$(unzip -Z1 "$Z")" "^$C/bagit.txt$"
out=$(fb verify "$Z"); rc=$?
expect_eq "fieldbook verify accepts the zip" "$rc" 0
expect_match "zip verdict" "$out" "^VERIFIED: package of case $C"
check "the unzipped bag passes sha256sum -c" sh -c "cd '$TMP' && unzip -q '$Z' -d uz && cd 'uz/$C' && sha256sum --quiet -c manifest-sha256.txt"
cp "$Z" "$TMP/bad.zip"
(cd "$TMP/uz" && echo x >"$C/data/extra.txt" && zip -q "$TMP/bad.zip" "$C/data/extra.txt")
tampered "a file added to the zip is found" "$TMP/bad.zip" "^data/extra.txt: not listed in manifest-sha256.txt"
check_fails "export --zip refuses to overwrite" fb export "$C" -o "$Z" --zip

# --- reports -------------------------------------------------------------------------------------
check "report as PDF" fb report "$C" -o "$TMP/r.pdf"
txt=$(pdftotext "$TMP/r.pdf" -)
expect_match "the PDF names the case" "$txt" "$C"
expect_match "the PDF has CJK text (address)" "$txt" "解放路12号"
expect_match "the PDF has the legal basis" "$txt" "Fire Protection Law"
expect_match "the PDF has the photo's sha256" "$txt" "$S1"
# a court's reader must show the same glyphs: every font embedded, as a subset of what is used
fonts=$(pdffonts "$TMP/r.pdf" | awk 'NR > 2 {print $(NF - 4) $(NF - 3)}' | sort -u)
expect_eq "every font in the PDF is embedded and subset" "$fonts" yesyes
expect_match "the package's PDF report draws its Chinese text in a CJK font" \
	"$(pdffonts "$P/data/report.pdf")" "WenQuanYi|Noto|Droid"
# WenQuanYi Micro Hei has no bold face: the headings' bold is fontconfig's
# synthetic one, which cairo embeds as a font of its own (the report's own
# fontconfig configuration must keep that rule)
if pdffonts "$P/data/report.pdf" | grep -q WenQuanYi; then
	expect_match "the PDF's headings are bold (the synthetic bold is embedded)" \
		"$(pdffonts "$P/data/report.pdf")" "CairoFont"
fi
# photos go into the PDF as their original JPEG bytes (DCTDecode), not re-encoded pixels
mkdir -p "$TMP/pdfimg" && pdfimages -all "$TMP/r.pdf" "$TMP/pdfimg/i"
expect_eq "pdfimages finds the photos as JPEG" "$(pdfimages -list "$TMP/r.pdf" | awk 'NR > 2 {print $9}' | sort -u)" jpeg
expect_match "the PDF holds the attached photo byte for byte" "$(sha256sum "$TMP"/pdfimg/i-* | cut -d' ' -f1)" "^$S1\$"
check "report as HTML" fb report "$C" -o "$TMP/r.html"
html=$(cat "$TMP/r.html")
expect_match "the HTML names the case" "$html" "<title>$C</title>"
expect_match "the standalone HTML carries its photos inline" "$html" '<img src="data:image/jpeg;base64,'
expect_match "the package's HTML refers to the original photos" "$(cat "$P/data/report.html")" "<img src=\"photos/$S1.jpg\""
expect_match "timeline shows local time with zone" "$html" "2026-11-23 10:10:00 \\+08:00"
check_fails "a report name without .pdf/.html is refused" fb report "$C" -o "$TMP/r.txt"
fb note "$C" '<script>alert("x") & </script>' >/dev/null 2>&1 || fb reopen "$C" --reason '<b>x</b> & "y"' >/dev/null
fb report "$C" -o "$TMP/r2.html" >/dev/null
check_fails "user text is escaped in HTML" grep -Eq '<script>|<b>x</b>' "$TMP/r2.html"

# --- a photo damaged on disk: its bytes no longer match its name --------------------------------
# The export reads the ledger without libgit2's own hash check and compares
# each photo's sha256 with its name instead; write the photo's loose object
# again with one byte changed, as a failing disk would.
L="$FIELDBOOK_HOME/ledger.git"
blob=$(git --git-dir="$L" ls-tree -r main | awk -v s="$S1.jpg" '$4 ~ s {print $3; exit}')
obj="$L/objects/${blob:0:2}/${blob:2}"
if [ -f "$obj" ]; then
	chmod u+w "$obj"
	python3 - "$obj" <<'PY'
import sys, zlib
p = sys.argv[1]
raw = bytearray(zlib.decompress(open(p, 'rb').read()))
raw[-100] ^= 0xff
open(p, 'wb').write(zlib.compress(bytes(raw)))
PY
	rm -rf "$TMP/bad"
	out=$(fb export "$C" -o "$TMP/bad" 2>&1); rc=$?
	expect_eq "export of a case with a damaged photo fails" "$rc" 1
	expect_match "naming the photo and the damage" "$out" "photo $S1.jpg has the sha256 .*damaged"
	[ ! -e "$TMP/bad" ] && ok "and writes no package" || fail "and writes no package"
	# a loose object cut short (a stick pulled out mid-copy): not even a zlib stream
	truncate -s $(($(stat -c %s "$obj") / 2)) "$obj"
	out=$(fb export "$C" -o "$TMP/bad" 2>&1); rc=$?
	expect_eq "export of a case with a truncated photo object fails" "$rc" 1
	expect_match "naming the photo" "$out" "$S1.jpg"
	[ ! -e "$TMP/bad" ] && ok "and writes no package either" || fail "and writes no package either"
else
	fail "the photo's object is loose ($obj)"
fi
