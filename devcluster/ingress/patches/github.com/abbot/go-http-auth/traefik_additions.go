// Added by devcluster/ingress/build.sh to a scratch copy of go-http-auth v0.4.0. Traefik builds
// against a fork that is not on the module proxy; its middlewares call these two functions on
// top of the v0.4.0 API. Written for Berth, not taken from the fork.

package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CheckSecret reports whether `password` matches the htpasswd `secret`, with the same hash
// schemes (MD5-crypt by default, {SHA}, bcrypt) that BasicAuth.CheckAuth accepts.
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, candidate := range compareFuncs[1:] {
		if strings.HasPrefix(secret, candidate.prefix) {
			compare = candidate.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale answers 401 with a fresh nonce and stale=true (RFC 7616): the client's
// credentials were right but its nonce is no longer known, so it may retry without asking.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	if len(a.clients) > a.ClientCacheSize+a.ClientCacheTolerance {
		a.Purge(a.ClientCacheTolerance * 2)
	}
	nonce := RandomKey()
	a.clients[nonce] = &digest_client{nc: 0, last_seen: time.Now().UnixNano()}
	headers := a.Headers.V()
	w.Header().Set(contentType, headers.UnauthContentType)
	w.Header().Set(headers.Authenticate, fmt.Sprintf(
		`Digest realm="%s", nonce="%s", opaque="%s", algorithm="MD5", qop="auth", stale=true`,
		a.Realm, nonce, a.Opaque))
	w.WriteHeader(headers.UnauthCode)
	_, _ = w.Write([]byte(headers.UnauthResponse))
}
