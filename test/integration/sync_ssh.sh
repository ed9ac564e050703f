#!/bin/bash
# ssh:// through a throwaway sshd on 127.0.0.1 (skipped when sshd cannot run
# here): key authentication, host keys checked against ~/.ssh/known_hosts,
# the hub's hook runs for every push.
. "$FIELDBOOK_TOP/test/lib.sh"
# Under ASan (make check-asan): libgit2 1.5's ssh transport leaks its
# libssh2 known_hosts list on every connection, in frames LeakSanitizer
# cannot name (Debian's libgit2 has no frame pointers), so leak detection is
# off for this script only; every other check of ASan/UBSan stays on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export FIELDBOOK_PIN=123456
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
dev() { local h=$1; shift; "$FB" --home "$TMP/$h" "$@"; }

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
# As root, sshd wants its privilege-separation directory, which the package's
# service makes at boot; a machine without systemd (a container) lacks it.
[ "$(id -u)" = 0 ] && [ -x "$SSHD" ] && mkdir -p -m 0755 /run/sshd 2>/dev/null
if [ ! -x "$SSHD" ] || { [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; }; then
	ok "# SKIP ssh: no usable sshd here (install openssh-server; as root it needs /run/sshd)"
	exit 0
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
S="$TMP/sshd"
mkdir -p "$S" "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/other_host_key"
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
cp "$HOME/.ssh/id_ed25519.pub" "$S/authorized_keys"
cat >"$S/config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PidFile $S/pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
SetEnv GIT_CONFIG_NOSYSTEM=1
EOF
"$SSHD" -D -e -f "$S/config" 2>"$S/log" &
SPID=$!
user=$(id -un)
for _ in $(seq 50); do
	ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$PORT" \
		-i "$HOME/.ssh/id_ed25519" "$user@127.0.0.1" true 2>/dev/null && break
	sleep 0.1
done
if ! kill -0 "$SPID" 2>/dev/null; then
	ok "# SKIP ssh: sshd did not start: $(head -1 "$S/log")"
	exit 0
fi
ok "a throwaway sshd listens on 127.0.0.1:$PORT"

"$TOP/sync/hub-init" "$TMP/hub.git" >/dev/null
URL="ssh://$user@127.0.0.1:$PORT$TMP/hub.git"
dev A init --officer 3101-0001 --name 张伟 --unit HZ01 >/dev/null
dev B init --officer 3101-0002 --name 李娜 --unit HZ01 >/dev/null
C=$(dev A case new --form signboard --address "解放路12号")

# unknown host: refused with the fingerprint
: >"$HOME/.ssh/known_hosts"
out=$(dev A sync "$URL" 2>&1); rc=$?
expect_eq "an unknown host key is refused" "$rc" 1
fp=$(ssh-keygen -lf "$S/host_key.pub" | awk '{print $2}' | sed 's/[+.]/\\&/g')
expect_match "the message names the host and the key's fingerprint" "$out" "host key of 127.0.0.1 \\($fp\\).*known_hosts"
expect_eq "nothing reached the hub" "$(git -C "$TMP/hub.git" rev-parse -q --verify main || echo none)" none

# a different key recorded for the host: refused
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/other_host_key.pub")" >"$HOME/.ssh/known_hosts"
out=$(dev A sync "$URL" 2>&1); rc=$?
expect_eq "a mismatching host key is refused" "$rc" 1
expect_match "... with a clear message" "$out" 'does not match the key recorded there'

# the right key
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/host_key.pub")" >"$HOME/.ssh/known_hosts"
check "A syncs over ssh (key from ~/.ssh/id_ed25519)" dev A sync "$URL"
check "B adds the hub as a remote" dev B remote add station "$URL"
out=$(dev B sync 2>&1)
expect_match "B receives A's case over ssh" "$out" '1 events received'
dev B note "$C" "B over ssh" >/dev/null
check "B pushes over ssh" dev B sync
check "A fetches B's event" dev A sync "$URL"
expect_eq "show --json equal on A and B" "$(dev A show "$C" --json)" "$(dev B show "$C" --json)"
check "git fsck --strict on the hub" git -C "$TMP/hub.git" fsck --strict

# the hook runs over ssh too: a tampering push with stock git is refused
export GIT_SSH_COMMAND="ssh -o BatchMode=yes -o UserKnownHostsFile=$HOME/.ssh/known_hosts -i $HOME/.ssh/id_ed25519"
git clone -q "$URL" "$TMP/t" 2>/dev/null
EV=$(git -C "$TMP/t" ls-files | grep '/events/.*\.json$' | head -1)
echo '{}' >"$TMP/t/$EV"
git -C "$TMP/t" -c user.name=M -c user.email=m@x commit -qam tamper
out=$(git -C "$TMP/t" push origin HEAD:main 2>&1); rc=$?
expect_eq "stock git push over ssh of a modified event is refused" "$rc" 1
expect_match "... by the hook, naming the path" "$out" "remote: fieldbook: refused: commit [0-9a-f]+ modifies $EV"
