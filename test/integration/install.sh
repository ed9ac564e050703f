#!/bin/bash
# make install / uninstall with PREFIX and DESTDIR: the installed binary
# finds its forms and translations, and uninstall removes every file.
. "$FIELDBOOK_TOP/test/lib.sh"
B=$(basename "$BUILDDIR")
D="$TMP/dest"
check "make install" make -s -C "$TOP" BUILD="$B" PREFIX=/usr DESTDIR="$D" install
check "the binary is installed" test -x "$D/usr/bin/fieldbook"
check "the forms are installed" test -f "$D/usr/share/fieldbook/forms/signboard.yaml"
check "the Chinese catalogue is installed" test -f "$D/usr/share/locale/zh_CN/LC_MESSAGES/fieldbook.mo"
check "the forms man page is installed" test -f "$D/usr/share/man/man5/fieldbook-forms.5"
check "the hub tool is installed" test -x "$D/usr/bin/fieldbook-hub-init"
out=$(cd / && FIELDBOOK_HOME="$TMP/ws" "$D/usr/bin/fieldbook" forms)
expect_match "the installed binary finds the shipped forms" "$out" '^signboard +v1'
out=$(cd / && LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 FIELDBOOK_HOME="$TMP/ws" "$D/usr/bin/fieldbook" forms)
expect_match "and its Chinese messages" "$out" '户外招牌'
check "the report, gps and chafa plugins are installed" test -f "$D/usr/lib/fieldbook/fieldbook-report.so" \
	-a -f "$D/usr/lib/fieldbook/fieldbook-gps.so" -a -f "$D/usr/lib/fieldbook/fieldbook-chafa.so"
# the installed binary loads its report plugin from ../lib/fieldbook (relocatable with DESTDIR)
I="$D/usr/bin/fieldbook"
W="$TMP/ws-inst"
FIELDBOOK_HOME=$W "$I" init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null
C=$(FIELDBOOK_HOME=$W "$I" case new --form signboard --address "中山路8号")
check "the installed binary exports a case with its PDF report" env FIELDBOOK_HOME="$W" "$I" export "$C" -o "$TMP/pkg"
check "the PDF is a PDF (pdfinfo)" pdfinfo "$TMP/pkg/data/report.pdf"
# without its plugins the binary still works; export says which file is missing
mkdir -p "$TMP/bare" && cp "$I" "$TMP/bare/fieldbook"
out=$(FIELDBOOK_HOME=$W "$TMP/bare/fieldbook" list --status all 2>&1)
expect_match "a binary without its plugins still lists cases" "$out" "$C"
out=$(FIELDBOOK_HOME=$W "$TMP/bare/fieldbook" export "$C" -o "$TMP/pkg2" 2>&1); rc=$?
expect_eq "export without the report plugin fails (exit 1)" "$rc" 1
expect_match "and names the missing plugin" "$out" "fieldbook-report\.so"
expect_eq "and leaves no package behind" "$(ls "$TMP/pkg2" 2>/dev/null | wc -l)" 0
check "make uninstall" make -s -C "$TOP" BUILD="$B" PREFIX=/usr DESTDIR="$D" uninstall
expect_eq "uninstall leaves no file behind" "$(find "$D" -type f | wc -l)" 0
