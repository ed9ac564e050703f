#!/bin/sh
# Build the demo workspace (BUILD/demo): a dozen realistic cases in
# different states, some overdue, and sample photos in BUILD/demo/DCIM.
# Kept when it already exists, so `make run` twice shows the same data.
set -eu
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
FB="$top/$BUILD/fieldbook"
export FIELDBOOK_HOME="$top/$BUILD/demo"
export TZ="${TZ:-Asia/Shanghai}"
[ -f "$FIELDBOOK_HOME/config" ] && exit 0
rm -rf "$FIELDBOOK_HOME"
echo "fieldbook: creating the demo workspace in $FIELDBOOK_HOME (officer PIN: 123456)" >&2
# The demo officer's PIN; a real officer chooses one at `fieldbook init`.
export FIELDBOOK_PIN=123456

# Sample photos, made here (JPEG + EXIF/GPS), in the folder the TUI's picker opens.
DCIM="$FIELDBOOK_HOME/DCIM"
mkdir -p "$DCIM"
photo() { # photo NAME LAT LON "YYYY:MM:DD HH:MM:SS" SEED
	"$top/$BUILD/tools/mkjpeg" "$DCIM/$1" --lat "$2" --lon "$3" --taken "$4" --offset +08:00 \
		--make Fieldcam --model FC-2 --size 640x480 --seed "$5" >/dev/null
}
shot() { date -d "-$1 days" "+%Y:%m:%d $2:00"; }
photo IMG_0001.jpg 24.41415 111.56630 "$(shot 12 09:18)" 1
photo IMG_0002.jpg 24.41410 111.56640 "$(shot 12 09:19)" 2
photo IMG_0003.jpg 24.41785 111.55905 "$(shot 2 14:12)" 3
photo IMG_0004.jpg 24.42052 111.57198 "$(shot 20 16:08)" 4
photo IMG_0005.jpg 24.40010 111.50000 "$(shot 0 08:30)" 5

# Run a command as if it were `days` days ago at hh:mm local time.
at() {
	d=$1 hm=$2; shift 2
	FIELDBOOK_NOW=$(date -u -d "$(date -d "-$d days" +%F) $hm" +%FT%TZ) "$FB" "$@"
}
new() { d=$1 hm=$2; shift 2; at "$d" "$hm" case new "$@"; }

# The officer's key enters the roster before the first demo event.
at 40 08:00 init --officer 3101-0042 --name 张伟 --unit HZ01 --admin >/dev/null

c=$(new 12 09:10 --form signboard --address "解放路12号 某某餐馆门头" --grid G03 --lat 24.41412 --lon 111.56633 --party "某某餐馆" --contact "138-0000-1234")
at 12 09:20 inspect "$c" --set SB01=approved --set SB04=fail --set SB05=fail --set SB09=2.1 --note SB04="招牌右侧支架锈蚀松动" >/dev/null
at 12 09:21 attach "$c" "$DCIM/IMG_0001.jpg" --item SB04 >/dev/null
at 12 09:22 attach "$c" "$DCIM/IMG_0002.jpg" >/dev/null
at 12 09:25 order "$c" --days 3 >/dev/null
at 9 10:00 note "$c" "电话联系当事人，称材料未到" >/dev/null

c=$(new 2 14:00 --form fencing --address "人民路88号 建设工地东侧" --grid G07 --lat 24.41780 --lon 111.55910 --party "城建三公司")
at 2 14:15 inspect "$c" --set CF01=main --set CF02=2.2 --set CF03=pass --set CF06=fail >/dev/null
at 2 14:16 attach "$c" "$DCIM/IMG_0003.jpg" --item CF06 >/dev/null
at 2 14:20 order "$c" --days 5 >/dev/null

c=$(new 0 08:40 --form lane --address "中山路步行街 23号" --grid G01 --lat 24.41010 --lon 111.56850)

c=$(new 20 16:00 --form stacking --address "和平里小区 5栋楼下" --grid G12 --lat 24.42050 --lon 111.57200 --party "5栋装修户")
at 20 16:10 inspect "$c" --answers "$top/share/demo/stacking-fail.json" >/dev/null
at 20 16:11 attach "$c" "$DCIM/IMG_0004.jpg" >/dev/null
at 20 16:12 order "$c" --days 2 >/dev/null
at 17 09:00 reinspect "$c" --answers "$top/share/demo/stacking-pass.json" >/dev/null
at 17 09:05 close "$c" --outcome rectified >/dev/null

c=$(new 15 11:30 --form posting --address "建设路公交站 站牌" --grid G05 --lat 24.41200 --lon 111.56100)
at 15 11:40 inspect "$c" --answers "$top/share/demo/posting-fail.json" >/dev/null
at 15 11:45 close "$c" --outcome waived --reason "首次违规，当场清除" >/dev/null

c=$(new 30 10:00 --form signboard --address "北京路156号 金店招牌" --grid G02 --lat 24.41550 --lon 111.56300 --party "某某金店")
at 30 10:10 inspect "$c" --set SB01=none --set SB04=pass --set SB08=fail >/dev/null
at 30 10:15 order "$c" --days 7 >/dev/null
at 20 10:00 reinspect "$c" --set SB01=none >/dev/null
at 19 15:00 escalate "$c" --reason "逾期未改，移送立案" >/dev/null

c=$(new 6 09:00 --form lane --address "文化路菜市场 北门" --grid G09 --lat 24.40900 --lon 111.57010)
at 6 09:10 inspect "$c" --set LO01=storefront --set LO02=sidewalk --set LO07=pass >/dev/null
at 6 09:15 close "$c" --outcome no-violation >/dev/null

c=$(new 8 15:20 --form fencing --address "西环路 地铁3号线施工段" --grid G11 --lat 24.40550 --lon 111.55200 --party "轨道交通建设公司")
at 8 15:30 inspect "$c" --set CF01=main --set CF02=2.6 --set CF03=fail --set CF09=fail >/dev/null
at 8 15:35 order "$c" >/dev/null
at 7 10:00 reinspect "$c" --set CF03=pass --set CF09=pass >/dev/null

c=$(new 5 17:45 --form signboard --address "新兴街 88号 某奶茶店" --grid G04 --lat 24.41330 --lon 111.56750 --party "某某奶茶店")
at 5 17:50 inspect "$c" --set SB04=pass --set SB06=fail --set SB10=fail >/dev/null
at 5 17:55 order "$c" --days 2 >/dev/null

c=$(new 1 19:30 --form posting --address "光明路 电线杆小广告" --grid G06 --lat 24.41800 --lon 111.56000)

c=$(new 25 08:30 --form lane --address "八步路 早餐摊" --grid G08 --lat 24.40700 --lon 111.56500 --party "流动摊贩")
at 25 08:35 inspect "$c" --set LO01=vendor --set LO02=sidewalk --set LO07=pass --set LO10=corrected >/dev/null
at 25 08:40 close "$c" --outcome waived --reason "当场改正" >/dev/null
at 3 08:30 reopen "$c" --reason "群众再次投诉" >/dev/null

c=$(new 4 13:00 --form stacking --address "滨江路 仓库门口" --grid G10 --lat 24.40300 --lon 111.57500 --party "某物流仓库")
at 4 13:10 inspect "$c" --answers "$top/share/demo/stacking-fail.json" >/dev/null

echo "fieldbook: demo ready: $("$FB" list --status all --json | grep -c '"id"') cases" >&2
