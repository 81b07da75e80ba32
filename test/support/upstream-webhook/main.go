// Upstream's admission webhooks (sigs.k8s.io/jobset v0.12.0, the module as published, unmodified) served
// by controller-runtime as upstream's manager serves them (its main.go's scheme, HTTP/1.1 only, default TLS
// settings). The oracle of test/compat/upstream-webhook.test.ts (our answers are upstream's, request for
// request) and of `bench/webhook.bench.ts --upstream` (the same requests and load generator against
// upstream's server).
// Built and started by test/support/upstream-webhook.ts. The same module also builds upstream's own controller
// manager, the main package of sigs.k8s.io/jobset (`go build sigs.k8s.io/jobset`), for
// `bench/controller.bench.ts --upstream`: hence the go.sum entries of modules only that main package uses.
//
//	upstream-webhook -port N -cert-dir DIR [-feature-gates A=true,B=false] [-cluster-kubeconfig FILE]
//
// Without -kubeconfig the manager is given an API server address that does not answer: requests that do
// not make the webhooks read from the cluster (no volume claim policies, no pods with exclusive placement
// to look up) never need one, and the manager contacts the server only when something does. With it (not
// -kubeconfig, which controller-runtime registers for itself), the
// webhooks read PVCs, pods (by upstream's pod name index) and Nodes through the manager's cache, as
// upstream's do. It prints "ready" on stdout once serving
// and stops on SIGTERM or when stdin closes.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	configapi "sigs.k8s.io/jobset/api/config/v1alpha1"
	jobset "sigs.k8s.io/jobset/api/jobset/v1alpha2"
	"sigs.k8s.io/jobset/pkg/controllers"
	"sigs.k8s.io/jobset/pkg/webhooks"
)

func main() {
	port := flag.Int("port", 9443, "webhook port")
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	gates := flag.String("feature-gates", "", "upstream's feature gates, e.g. InPlaceRestart=true,RestartJob=true")
	kubeconfig := flag.String("cluster-kubeconfig", "", "an API server for the webhooks' reads (PVCs); none when empty")
	flag.Parse()
	if *gates != "" {
		if err := utilfeature.DefaultMutableFeatureGate.Set(*gates); err != nil {
			fail(err)
		}
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fail(err)
	}
	if err := jobset.AddToScheme(scheme); err != nil {
		fail(err)
	}
	if err := configapi.AddToScheme(scheme); err != nil {
		fail(err)
	}
	// As upstream's main.go does unless --enable-http2 is given.
	disableHTTP2 := func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	if *kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
		if err != nil {
			fail(err)
		}
		cfg = c
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    "127.0.0.1",
			Port:    *port,
			CertDir: *certDir,
			TLSOpts: []func(*tls.Config){disableHTTP2},
		}),
	})
	if err != nil {
		fail(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	if *kubeconfig != "" {
		// The pod name index the pod webhooks look leader pods up by, as upstream's main.go sets it up.
		if err := controllers.SetupPodIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
			fail(err)
		}
	}
	if err := webhooks.Setup(mgr); err != nil {
		fail(err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if mgr.GetWebhookServer().StartedChecker()(nil) == nil {
					fmt.Println("ready")
					return
				}
			}
		}
	}()
	if err := mgr.Start(ctx); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "upstream-webhook:", err)
	os.Exit(1)
}
