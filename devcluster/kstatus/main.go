// Command kstatus reads Kubernetes objects as JSON on stdin (one object, or a list in "items")
// and prints, one JSON line per object, the verdict of sigs.k8s.io/cli-utils' kstatus: the
// rules Flux, kpt and `kubectl wait`-style tools read resource health with. Tests use it as an
// independent judge of the conditions Berth writes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	// Kubernetes' own decoder: whole numbers become int64, as unstructured objects expect.
	var object map[string]interface{}
	if err := utiljson.Unmarshal(input, &object); err != nil {
		fail(err)
	}
	items := []interface{}{object}
	if listed, ok := object["items"].([]interface{}); ok {
		items = listed
	}
	out := json.NewEncoder(os.Stdout)
	for _, item := range items {
		fields, ok := item.(map[string]interface{})
		if !ok {
			fail(fmt.Errorf("not an object: %v", item))
		}
		u := &unstructured.Unstructured{Object: fields}
		result, err := status.Compute(u)
		if err != nil {
			fail(err)
		}
		if err := out.Encode(verdict{u.GetName(), u.GetKind(), result.Status.String(), result.Message}); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(2)
}
