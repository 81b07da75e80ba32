// Command gotypes is the one Go program behind the TypeScript ports of Go's behavior (ADR 0013). With
// one mirror of the JobSet types (api/jobset/v1alpha2) and the real k8s.io/api and apimachinery, it
// prints:
//   - `types`: the Go type table of JobSet and Pod (src/api/go-types.generated.json), walked by both
//     src/api/go-value.ts (decode, semantic equality, json.Marshal renderings) and src/api/roundtrip.ts;
//   - `oracle`: Go's answers for regexp, semantic equality, json.Marshal, field errors, Status errors and
//     the admission decoder (test/fixtures/go-oracle.generated.json);
//   - `quantities`: the canonical form apimachinery gives to a list of quantities;
//   - `roundtrip`: whole JobSets decoded and encoded again (stdin: testdata/roundtrip-inputs.json);
//   - `schemekinds`: the kinds the scheme of upstream's manager knows (src/webhooks/scheme-kinds.generated.json).
//
// `npm run generate` runs them all (scripts/gotypes.ts); test/integration/gotypes.test.ts checks the
// committed outputs are fresh. A module of its own: the kube/ module's file hash keys the cached
// Kubernetes build.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	"jobset-ts/gotypes/api/jobset/v1alpha2"
	"k8s.io/apimachinery/pkg/api/resource"
	kjson "sigs.k8s.io/json"
)

// Each input is a JSON value as it would appear in a request (a string or a number), decoded into a
// resource.Quantity and encoded again; errors are recorded as the error text. `sameAsOut` is whether
// reflect.DeepEqual holds between the decoded input and its canonical text decoded again (the PVC spec
// comparison of the validating webhook uses reflect.DeepEqual: "1024Mi" and "1Gi" differ).
func quantities() any {
	type result struct {
		In        json.RawMessage `json:"in"`
		Out       string          `json:"out,omitempty"`
		SameAsOut *bool           `json:"sameAsOut,omitempty"`
		Error     string          `json:"error,omitempty"`
	}
	var results []result
	for _, in := range quantityInputs() {
		raw, _ := json.Marshal(in)
		var q resource.Quantity
		if err := json.Unmarshal(raw, &q); err != nil {
			results = append(results, result{In: raw, Error: err.Error()})
			continue
		}
		b, err := json.Marshal(q)
		if err != nil {
			panic(err)
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			panic(err)
		}
		// Decoded afresh: String() and friends may cache text into a Quantity.
		var a, c resource.Quantity
		if err := json.Unmarshal(raw, &a); err != nil {
			panic(err)
		}
		if err := json.Unmarshal(b, &c); err != nil {
			panic(err)
		}
		same := reflect.DeepEqual(a, c)
		results = append(results, result{In: raw, Out: s, SameAsOut: &same})
	}
	return results
}

// roundTrips decodes each JobSet of a JSON array (stdin) into the Go types as the API machinery does
// (case-sensitive, unknown fields dropped) and encodes it again with encoding/json.
func roundTrips() any {
	var inputs []json.RawMessage
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	type result struct {
		In    json.RawMessage `json:"in"`
		Out   json.RawMessage `json:"out,omitempty"`
		Error string          `json:"error,omitempty"`
	}
	results := []result{}
	for _, in := range inputs {
		var js v1alpha2.JobSet
		if err := kjson.UnmarshalCaseSensitivePreserveInts(in, &js); err != nil {
			results = append(results, result{In: in, Error: err.Error()})
			continue
		}
		out, err := json.Marshal(&js)
		if err != nil {
			panic(err)
		}
		results = append(results, result{In: in, Out: out})
	}
	return results
}

const usage = "usage: gotypes types|oracle|quantities|roundtrip|schemekinds"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var v any
	switch os.Args[1] {
	case "types":
		emitTypes(os.Stdout)
		return
	case "oracle":
		v = oracleFixture()
	case "quantities":
		v = quantities()
	case "roundtrip":
		v = roundTrips()
	case "schemekinds":
		v = schemeKinds()
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if os.Args[1] == "oracle" {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
}
