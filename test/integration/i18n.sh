#!/bin/bash
# Chinese and English are complete: every message in the sources has a
# translation, and the CLI speaks the user's language.
. "$FIELDBOOK_TOP/test/lib.sh"
cd "$TOP"
src=$(ls src/core/*.c src/cli/*.c src/tui/*.c)
xgettext --from-code=UTF-8 -k_ -kN_ -o "$TMP/now.pot" $src 2>"$TMP/xg.err"
for lang in zh_CN en; do
	stats=$(msgfmt --check --statistics -o /dev/null "share/po/$lang.po" 2>&1)
	expect_match "$lang.po: every message translated, none fuzzy" "$stats" '^[0-9]+ translated messages\.$'
	check "$lang.po covers every message in the sources" msgcmp "share/po/$lang.po" "$TMP/now.pot"
done
export FIELDBOOK_HOME="$TMP/ws"
out=$(LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 "$FB" help)
expect_match "help in Chinese under zh_CN.UTF-8" "$out" '列出|案件'
out=$(LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 "$FB" list 2>&1)
expect_match "errors in Chinese under zh_CN.UTF-8" "$out" '工作区'
out=$(LANG=C.UTF-8 LC_ALL=C.UTF-8 "$FB" list 2>&1)
expect_match "errors in English otherwise" "$out" 'no workspace at'
LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 "$FB" init --officer 3101-0042 --name 张伟 --unit HZ01 >/dev/null
C=$("$FB" case new --form signboard --address "解放路12号")
out=$(LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 "$FB" order "$C" 2>&1)
expect_match "a refused step is explained in Chinese" "$out" '案件'
out=$(LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 "$FB" show "$C")
expect_match "form labels follow the UI language" "$out" '户外招牌'
out=$(LANG=C.UTF-8 LC_ALL=C.UTF-8 "$FB" show "$C")
expect_match "English form title under C.UTF-8" "$out" 'Outdoor signboards'
