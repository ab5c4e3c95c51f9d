#!/bin/sh
# Answers one HTTP request on stdin/stdout and logs it to stderr (the container log):
#   /         200, "hello from berth $HELLO_VERSION on <hostname>"
#   /healthz  $HEALTHZ_STATUS (200 unless the image or the pod says otherwise)
#   other     404
# It answers /healthz itself rather than through busybox httpd: httpd runs CGI scripts only
# under /cgi-bin/, so it could not give a 500 at /healthz without a redirect first.
cr=$(printf '\r')
read -r -t 10 method target protocol || exit 0
agent=-
length=0
while read -r -t 10 header; do
	header=${header%"$cr"}
	[ -z "$header" ] && break
	case $header in
	[Uu]ser-[Aa]gent:*) agent=${header#*: } ;;
	[Cc]ontent-[Ll]ength:*) length=${header#*: } ;;
	esac
done
# A request body is read and dropped, so that closing the connection cannot reset it early.
case $length in '' | *[!0-9]*) length=0 ;; esac
[ "$length" -gt 0 ] && head -c "$length" >/dev/null

path=${target%%\?*}
case $path in
/)
	status=200
	body="hello from berth $HELLO_VERSION on $(hostname)"
	;;
/healthz | /healthz/)
	status=${HEALTHZ_STATUS:-200}
	body="healthz $status"
	;;
*)
	status=404
	body="not found: $path"
	;;
esac
case $status in
200) reason=OK ;;
404) reason="Not Found" ;;
500) reason="Internal Server Error" ;;
503) reason="Service Unavailable" ;;
*) reason=Status ;;
esac

printf 'HTTP/1.1 %s %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
	"$status" "$reason" "$((${#body} + 1))"
[ "$method" = HEAD ] || printf '%s\n' "$body"
echo "hello $HELLO_VERSION: $method $target $status \"$agent\"" >&2
