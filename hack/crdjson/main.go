package main

import (
	"fmt"
	"os"

	"github.com/aggapi/aggapi/config/crd"
)

func main() {
	schema, err := crd.SchemaOf(crd.AggregatedAPI)
	if err == nil {
		schema, err = crd.WithoutDescriptions(schema)
	}
	if err == nil {
		err = os.WriteFile("config/crd/aggregatedapi.v1alpha1.schema.json", append(schema, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crdjson:", err)
		os.Exit(1)
	}
}
