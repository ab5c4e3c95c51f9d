//go:build tools

// Package prometheus exists only so that `go mod tidy` keeps the pinned Prometheus's modules.
package prometheus

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
)
