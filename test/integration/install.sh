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
check "make uninstall" make -s -C "$TOP" BUILD="$B" PREFIX=/usr DESTDIR="$D" uninstall
expect_eq "uninstall leaves no file behind" "$(find "$D" -type f | wc -l)" 0
