//go:build tools

// Package knative exists only so that `go mod tidy` keeps the pinned Knative Serving's modules:
// its controller and its autoscaler, run out of cluster by the benchmark.
package knative

import (
	_ "knative.dev/serving/cmd/autoscaler"
	_ "knative.dev/serving/cmd/controller"
)
