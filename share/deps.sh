#!/bin/sh
# Install the Debian packages fieldbook needs: apt-get when root,
# otherwise print the exact command to run.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
need_locale=0
locale -a 2>/dev/null | grep -qi '^zh_CN.utf-\?8$' || need_locale=1
if [ -z "$missing" ] && [ $need_locale = 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	[ -n "$missing" ] && echo "fieldbook: missing Debian packages. Run:" >&2 &&
		echo "  sudo apt-get install -y$missing" >&2
	[ $need_locale = 1 ] && echo "  sudo sed -i 's/^# *zh_CN.UTF-8/zh_CN.UTF-8/' /etc/locale.gen && sudo locale-gen" >&2
	[ -n "$missing" ] && exit 1
	exit 0
fi
if [ -n "$missing" ]; then
	echo "fieldbook: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	apt-get install -y -qq $missing >/dev/null || { echo "fieldbook: apt-get install failed" >&2; exit 1; }
fi
if ! locale -a 2>/dev/null | grep -qi '^zh_CN.utf-\?8$'; then
	sed -i 's/^# *zh_CN.UTF-8 UTF-8/zh_CN.UTF-8 UTF-8/' /etc/locale.gen 2>/dev/null
	grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null || echo 'zh_CN.UTF-8 UTF-8' >> /etc/locale.gen
	locale-gen >/dev/null 2>&1 || localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
fi
exit 0
