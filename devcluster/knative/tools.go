//go:build tools

// Package knative exists only so that `go mod tidy` keeps the pinned Knative Serving's modules:
// its autoscaler and webhook, run out of cluster by the benchmark as they are (./controller is the
// other binary).
package knative

import (
	_ "knative.dev/serving/cmd/autoscaler"
	_ "knative.dev/serving/cmd/webhook"
)
