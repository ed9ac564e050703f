# tmux helpers for the TUI scripts (test/integration/tui_*.sh).
# Source after test/lib.sh.  One private tmux server per script, killed on
# exit.  Synchronisation is by polling the screen for expected text with a
# bounded timeout: never by sleeping.
TMUX_SOCK=fbtest-$$
TUI_PIDFILE="$TMP/tui.pid"
tm() { tmux -L "$TMUX_SOCK" "$@"; }
tui_cleanup() { tm kill-server >/dev/null 2>&1; rm -rf "$TMP"; }
trap tui_cleanup EXIT

# tui_start W H [VAR=value | -u VAR]...: run fieldbook (no arguments: the
# TUI) in a new session of W x H, in the script's environment as it is now
# (plus VAR=value, minus -u VAR).  The pane stays after fieldbook exits,
# showing "[fieldbook exited N]".
tui_start() {
	local w=$1 h=$2 a kv name
	shift 2
	local -a set=() unset=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -u ]; then unset+=("$2"); shift 2; else set+=("$1"); shift; fi
	done
	# A session that never ends keeps the server up: killing the only
	# session makes the server exit, and a new-session racing with that exit
	# (more likely on a loaded machine) could lose its server mid-test.  The
	# server's environment is then the one it started with, so the command
	# gets the script's current environment explicitly (env -i), keeping
	# only the TERM tmux gives the pane.
	tm has-session -t keep >/dev/null 2>&1 || tm new-session -d -s keep -x 20 -y 5 "exec sleep 86400"
	tm kill-session -t fb >/dev/null 2>&1
	{
		echo "echo \$\$ >'$TUI_PIDFILE'"
		printf 'exec env -i TERM="$TERM"'
		while IFS= read -r -d '' kv; do
			name=${kv%%=*}
			case " TERM TMUX TMUX_PANE ${unset[*]} " in *" $name "*) continue ;; esac
			printf ' %q' "$kv"
		done < <(env -0)
		for a in "${set[@]}"; do printf ' %q' "$a"; done
		printf ' %q\n' "$FB"
	} >"$TMP/run-tui.sh"
	tm new-session -d -s fb -x "$w" -y "$h" \
		"bash '$TMP/run-tui.sh'; echo \"[fieldbook exited \$?]\"; exec sleep 3600"
}

# tui_kill: kill -9 the fieldbook process (as a dead battery would).
tui_kill() { kill -9 "$(cat "$TUI_PIDFILE")"; }

screen() { tm capture-pane -p -t fb; }

# wait_for TEXT [SECONDS]: poll the screen (every 0.1 s) until it shows
# TEXT (fixed string).  On timeout prints the screen and fails.
wait_for() {
	local text=$1 limit=${2:-10} i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		if screen | grep -qF -- "$text"; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timeout waiting for: $text"
	screen | sed 's/^/#   | /'
	return 1
}

# wait_gone TEXT [SECONDS]: until the screen no longer shows TEXT.
wait_gone() {
	local text=$1 limit=${2:-10} i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		if ! screen | grep -qF -- "$text"; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timeout waiting for this to go: $text"
	screen | sed 's/^/#   | /'
	return 1
}

# keys KEY...: tmux key names (Enter, Escape, Down, ...) or single characters.
keys() { tm send-keys -t fb "$@"; }
# type_text TEXT: literal text (UTF-8 included).
type_text() { tm send-keys -t fb -l -- "$1"; }

# expect_screen "description" TEXT: ok when the screen shows TEXT now or
# within the timeout.
expect_screen() { if wait_for "$2" "${3:-10}"; then ok "$1"; else fail "$1"; fi; }
expect_no_screen() { if screen | grep -qF -- "$2"; then fail "$1"; screen | sed 's/^/#   | /'; else ok "$1"; fi; }

# The state's answers / failures of a case, as printed by show --json.
state_block() {
	"$FB" show "$1" --json | awk -v k="    \"$2\": " 'index($0, k) == 1 {f = 1} f {print} f && /^    []}]/ {exit}'
}

# wait_cols W [SECONDS]: until the screen was redrawn for W columns (the
# key bar's "? Help" is pinned to the right edge: its line is W or W-1
# wide, as capture-pane drops the trailing space).
wait_cols() {
	local w=$1 limit=${2:-10} i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		local got=$(screen | tail -1 | wc -L)
		if [ "$got" -ge $((w - 1)) ] && [ "$got" -le "$w" ]; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timeout waiting for a $w-column redraw"
	screen | sed 's/^/#   | /'
	return 1
}
