package main

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// schemeKinds lists, by group/version, every kind the scheme of upstream's manager knows (its main.go:
// client-go's scheme, then the JobSet API and the configuration API, each registered by
// controller-runtime's scheme builder: the types plus metav1's per-version kinds). controller-runtime's
// admission decoder answers "unable to decode <gvk> into *<type>" for an object of such a kind and
// "no kind … is registered" for any other (src/webhooks/decode.ts, src/webhooks/scheme-kinds.generated.json).
func schemeKinds() any {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	// Placeholder types: only the registered names matter here.
	register := func(gv schema.GroupVersion, kinds ...string) {
		for _, k := range kinds {
			s.AddKnownTypeWithName(gv.WithKind(k), &metav1.PartialObjectMetadata{})
		}
		metav1.AddToGroupVersion(s, gv)
	}
	register(schema.GroupVersion{Group: "jobset.x-k8s.io", Version: "v1alpha2"}, "JobSet", "JobSetList")
	register(schema.GroupVersion{Group: "config.jobset.x-k8s.io", Version: "v1alpha1"}, "Configuration")
	out := map[string][]string{}
	for gvk := range s.AllKnownTypes() {
		gv := gvk.GroupVersion().String()
		out[gv] = append(out[gv], gvk.Kind)
	}
	for _, kinds := range out {
		sort.Strings(kinds)
	}
	return out
}
