//go:build tools

// Package knative exists only so that `go mod tidy` keeps the pinned Knative Serving's modules:
// its autoscaler, run out of cluster by the benchmark as it is (./controller is the other binary).
package knative

import (
	_ "knative.dev/serving/cmd/autoscaler"
)
