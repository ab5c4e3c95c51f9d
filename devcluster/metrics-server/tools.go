//go:build tools

// Package metricsserver exists only so that `go mod tidy` keeps the pinned metrics-server's modules.
package metricsserver

import (
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
