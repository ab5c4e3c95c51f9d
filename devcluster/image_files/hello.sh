#!/bin/sh
# The hello app: an HTTP server on $PORT (default 80) whose page names $HELLO_VERSION and whose
# /healthz answers $HEALTHZ_STATUS. `nc -ll -e` runs hello-request once per connection.
# With $HTTPS_PORT set, hello-tls serves HTTPS there too, with a certificate made at start.
# This shell stays PID 1 so that SIGTERM/SIGINT stop the server promptly.
port=${PORT:-80}
nc -ll -p "$port" -e /bin/hello-request &
server=$!
front=
if [ -n "${HTTPS_PORT:-}" ]; then
	hello-tls &
	front=$!
fi
trap 'kill "$server" $front 2>/dev/null; echo "hello $HELLO_VERSION stopping"; exit 0' TERM INT
# Announce only once the port accepts connections, so that the line means "ready".
until netstat -ltn | grep -q ":$port "; do
	kill -0 "$server" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$server" 2>/dev/null && echo "hello $HELLO_VERSION listening on :$port"
wait "$server"
status=$?
echo "hello $HELLO_VERSION: the server on :$port exited with status $status" >&2
exit "$status"
