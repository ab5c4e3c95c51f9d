// Command registry is CNCF Distribution's registry (`serve`, `garbage-collect`) with only what
// the dev cluster uses: filesystem storage, htpasswd and token auth. Upstream's cmd/registry
// also links the Azure, GCS and S3 drivers, whose SDKs would triple the cold build.
//
// `registry htpasswd USER` reads a password on stdin and prints the bcrypt line the htpasswd
// auth reads (it takes bcrypt only), so the dev cluster needs no Apache tools or bcrypt wheel.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "htpasswd" {
		password, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && password == "" {
			fmt.Fprintln(os.Stderr, "htpasswd: no password on stdin")
			os.Exit(2)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(strings.TrimRight(password, "\n")), bcrypt.DefaultCost)
		if err != nil {
			fmt.Fprintln(os.Stderr, "htpasswd:", err)
			os.Exit(1)
		}
		fmt.Printf("%s:%s\n", os.Args[2], hash)
		return
	}
	// Distribution exports traces over OTLP unless told otherwise; nothing here collects them.
	if os.Getenv("OTEL_TRACES_EXPORTER") == "" {
		os.Setenv("OTEL_TRACES_EXPORTER", "none")
	}
	// Execute prints its own errors and exits non-zero on them.
	// nolint:errcheck
	registry.RootCmd.Execute()
}
