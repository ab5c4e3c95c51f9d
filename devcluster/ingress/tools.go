//go:build tools

// Package ingress exists only so that `go mod tidy` keeps the pinned Traefik's modules.
package ingress

import (
	_ "github.com/traefik/traefik/v3/cmd/traefik"
)
