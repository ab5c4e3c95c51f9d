// Put by devcluster/ingress/build.sh over the file of the same name in a scratch copy of lego:
// the original imports every ACME DNS provider, and a dozen of their SDKs are not on the module
// proxy. Traefik reaches this package only for DNS-01 challenges, which a controller beside the
// embedded cluster never runs.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName has no provider to offer in this build.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS challenge provider %q is not built into Berth's Traefik", name)
}
