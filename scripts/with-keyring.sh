#!/usr/bin/env bash
# Run a command against a real, throwaway Secret Service: gnome-keyring on a private D-Bus
# session, with HOME and the XDG folders in a fresh temporary directory (PITFALLS.md,
# "keyring"). The keyring is unlocked with a fixed test password, so nothing prompts.
#
#   scripts/with-keyring.sh .venv/bin/python -m pytest tests/keychain -q
#
# Exits with the command's status. Needs gnome-keyring, dbus and dbus-user-session.
set -uo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARGUMENT...]" >&2
	exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$0: $tool is missing: install gnome-keyring, dbus and dbus-user-session" >&2
		exit 127
	fi
done

home=$(mktemp -d "${TMPDIR:-/tmp}/chamelaion-keyring.XXXXXX") || exit 1
trap 'rm -rf -- "$home"' EXIT

export HOME="$home"
export XDG_CONFIG_HOME="$home/.config"
export XDG_DATA_HOME="$home/.local/share"
export XDG_CACHE_HOME="$home/.cache"
export XDG_STATE_HOME="$home/.local/state"
export XDG_RUNTIME_DIR="$home/.run"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
mkdir -m 700 "$XDG_RUNTIME_DIR"
# Tell tests/keychain a real Secret Service is there, and keep keyring from picking
# anything but its own choice of backend.
export CHAMELAION_KEYCHAIN_TEST=1
unset PYTHON_KEYRING_BACKEND

# Inside the private bus: start the keyring in the foreground (so its process id is known
# and it can be stopped; a daemonised one outlives the bus), unlock it with the password on
# stdin, wait until it owns org.freedesktop.secrets, run the command, stop the keyring.
dbus-run-session -- bash -c '
	gnome-keyring-daemon --foreground --unlock --components=secrets \
		< <(printf %s testpass) >/dev/null &
	keyring_pid=$!
	for _ in $(seq 100); do
		dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
			| grep -q "boolean true" && break
		sleep 0.05
	done
	"$@"
	status=$?
	kill "$keyring_pid" 2>/dev/null
	wait "$keyring_pid" 2>/dev/null
	exit "$status"
' with-keyring "$@"
exit $?
