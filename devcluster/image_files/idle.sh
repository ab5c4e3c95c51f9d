#!/bin/sh
# Waits until SIGTERM or SIGINT, then exits 0. As PID 1 a plain `sleep` would ignore SIGTERM
# (the kernel drops signals PID 1 has no handler for), so the shell traps them and sleeps in
# the background, where `wait` returns as soon as a trapped signal arrives.
child=
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
while :; do
	sleep 3600 &
	child=$!
	wait "$child"
done
