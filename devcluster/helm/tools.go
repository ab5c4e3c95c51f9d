//go:build tools

// Package helm exists only so that `go mod tidy` keeps the pinned helm CLI's modules.
package helm

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
