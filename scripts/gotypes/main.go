// Command gotypes prints what Go's encoding/json sees of the JobSet type tree, as the compact JSON
// table that src/api/roundtrip.ts walks (`go run . types`); and the fixtures of the port's tests: the
// canonical form apimachinery gives to a list of quantities (`go run . quantities`) and whole JobSets
// decoded and encoded again (`go run . roundtrip < testdata/roundtrip-inputs.json`). `npm run generate`
// runs all three (scripts/gotypes.ts). A module of its own: the kube/ module's file hash keys the
// cached Kubernetes build.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
)

// Types with their own JSON encoding, by the kind name the table uses.
var special = map[reflect.Type]string{
	reflect.TypeFor[resource.Quantity]():    "Quantity",
	reflect.TypeFor[metav1.Time]():          "Time",
	reflect.TypeFor[metav1.MicroTime]():     "MicroTime",
	reflect.TypeFor[metav1.Duration]():      "Duration",
	reflect.TypeFor[metav1.FieldsV1]():      "RawJSON",
	reflect.TypeFor[runtime.RawExtension](): "RawJSON",
	reflect.TypeFor[intstr.IntOrString]():   "IntOrString",
}

var marshaler = reflect.TypeFor[json.Marshaler]()

type table struct {
	Root    string                `json:"root"`
	Structs map[string][][]string `json:"structs"`
}

func structName(t reflect.Type) string {
	pkg := t.PkgPath()
	switch {
	case pkg == "main":
		pkg = "jobset"
	case strings.HasPrefix(pkg, "k8s.io/api/"):
		pkg = strings.Split(strings.TrimPrefix(pkg, "k8s.io/api/"), "/")[0]
	case strings.HasSuffix(pkg, "apis/meta/v1"):
		pkg = "meta"
	default:
		panic("unexpected package " + pkg)
	}
	return pkg + "." + t.Name()
}

// kind renders a Go type as the table's type expression and registers the structs it reaches.
func (tb *table) kind(t reflect.Type) string {
	if k, ok := special[t]; ok {
		return k
	}
	if t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(marshaler) || t.Implements(marshaler)) {
		panic("type with its own MarshalJSON not handled: " + t.String())
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + tb.kind(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + tb.kind(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("map key not a string: " + t.String())
		}
		return "map" + tb.kind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Struct:
		name := structName(t)
		if _, seen := tb.Structs[name]; !seen {
			tb.Structs[name] = nil // placeholder against recursion
			tb.Structs[name] = tb.fields(t)
		}
		return name
	default:
		panic("unsupported kind " + t.String())
	}
}

// fields lists a struct's JSON fields in encoding order: [name, type, flags] where flags has "o" for
// omitempty and "z" for omitzero; embedded structs without a JSON name are inlined as encoding/json does.
func (tb *table) fields(t reflect.Type) [][]string {
	out := [][]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if _, ok := special[f.Type]; !ok {
				out = append(out, tb.fields(f.Type)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		flags := ""
		for _, p := range parts[1:] {
			switch p {
			case "omitempty":
				flags += "o"
			case "omitzero":
				flags += "z"
			case "inline", "string":
				if p == "string" {
					panic("json ,string option not handled: " + t.String() + "." + f.Name)
				}
			}
		}
		out = append(out, []string{name, tb.kind(f.Type), flags})
	}
	return out
}

func typesTable() any {
	tb := &table{Structs: map[string][][]string{}}
	tb.Root = tb.kind(reflect.TypeFor[JobSet]())
	return tb
}

// Each input is a JSON value as it would appear in a request (a string or a number), decoded into a
// resource.Quantity and encoded again; errors are recorded as the error text.
func quantities() any {
	type result struct {
		In    json.RawMessage `json:"in"`
		Out   string          `json:"out,omitempty"`
		Error string          `json:"error,omitempty"`
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
		results = append(results, result{In: raw, Out: s})
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
		var js JobSet
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

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gotypes types|quantities|roundtrip")
		os.Exit(2)
	}
	var v any
	switch os.Args[1] {
	case "types":
		v = typesTable()
	case "quantities":
		v = quantities()
	case "roundtrip":
		v = roundTrips()
	default:
		fmt.Fprintln(os.Stderr, "usage: gotypes types|quantities|roundtrip")
		os.Exit(2)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	// One struct per line keeps the committed table reviewable in diffs.
	if tb, ok := v.(*table); ok {
		buf.Reset()
		names := make([]string, 0, len(tb.Structs))
		for n := range tb.Structs {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(&buf, "{\n  \"root\": %q,\n  \"structs\": {\n", tb.Root)
		for i, n := range names {
			fs, _ := json.Marshal(tb.Structs[n])
			sep := ","
			if i == len(names)-1 {
				sep = ""
			}
			fmt.Fprintf(&buf, "    %q: %s%s\n", n, fs, sep)
		}
		buf.WriteString("  }\n}\n")
	}
	os.Stdout.Write(buf.Bytes())
}
