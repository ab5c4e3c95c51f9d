// CoreDNS with only the plugins Berth needs: the private zone (file), and cluster.local for pods
// on the real node (kubernetes). The same plugin code as the stock binary, without the cloud
// plugins that would triple the build.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order in which plugins see a query, as in CoreDNS's plugin.cfg.
var directives = []string{"reload", "bind", "ready", "errors", "log", "hosts", "kubernetes", "file"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
