// The load generator of bench/webhook.bench.ts: sends AdmissionReview requests to the webhook server under
// benchmark over TLS with keep-alive connections, a fixed number in flight, and reports each latency.
//
// A Go program, not Node, so the instrument does not add its own pauses to what it measures: a Node client
// on the same two cores stalled its event loop for up to 36 ms (its own garbage collection and callbacks
// queued behind the other in-flight responses), and those stalls were counted as webhook latency.
//
// Protocol (one JSON document per line):
//
//	stdin, first line:  {"port": N, "ca": "PEM", "inFlight": 8, "payloads": {"/path": ["body", ...], ...}}
//	stdin, then:        {"path": "/path", "count": N}
//	stdout, per run:    {"latenciesMs": [...], "seconds": S}   or   {"error": "..."}
//
// Requests cycle through the path's payloads; every answer must be HTTP 200 with an AdmissionReview whose
// status code (if any) is below 500. It exits when stdin closes.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type setup struct {
	Port     int                 `json:"port"`
	CA       string              `json:"ca"`
	InFlight int                 `json:"inFlight"`
	Payloads map[string][]string `json:"payloads"`
}

type run struct {
	Path  string `json:"path"`
	Count int    `json:"count"`
}

type result struct {
	LatenciesMs []float64 `json:"latenciesMs,omitempty"`
	Seconds     float64   `json:"seconds,omitempty"`
	Error       string    `json:"error,omitempty"`
}

type review struct {
	Response *struct {
		Status *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

func send(client *http.Client, url string, body []byte) (float64, error) {
	t0 := time.Now()
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var r review
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, fmt.Errorf("answer is not an AdmissionReview: %v", err)
	}
	if r.Response == nil {
		return 0, fmt.Errorf("answer has no response")
	}
	if r.Response.Status != nil && r.Response.Status.Code >= 500 {
		return 0, fmt.Errorf("code %d: %s", r.Response.Status.Code, r.Response.Status.Message)
	}
	return ms, nil
}

func drive(client *http.Client, base string, s *setup, r run) result {
	payloads := s.Payloads[r.Path]
	if len(payloads) == 0 {
		return result{Error: "no payloads for " + r.Path}
	}
	bodies := make([][]byte, len(payloads))
	for i, p := range payloads {
		bodies[i] = []byte(p)
	}
	latencies := make([]float64, r.Count)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for lane := 0; lane < s.InFlight; lane++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= r.Count {
					return
				}
				ms, err := send(client, base+r.Path, bodies[i%len(bodies)])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %v", r.Path, err)
					}
					mu.Unlock()
					next.Store(int64(r.Count))
					return
				}
				latencies[i] = ms
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{Error: firstErr.Error()}
	}
	return result{LatenciesMs: latencies, Seconds: time.Since(t0).Seconds()}
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	line, err := in.ReadBytes('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook-load: no setup line:", err)
		os.Exit(2)
	}
	var s setup
	if err := json.Unmarshal(line, &s); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-load: bad setup line:", err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(s.CA)) {
		fmt.Fprintln(os.Stderr, "webhook-load: the CA is not a PEM certificate")
		os.Exit(2)
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: s.InFlight,
			MaxConnsPerHost:     s.InFlight,
			IdleConnTimeout:     time.Minute,
		},
	}
	base := fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return
		}
		var r run
		if err := json.Unmarshal(line, &r); err != nil {
			_ = out.Encode(result{Error: "bad run line: " + err.Error()})
			continue
		}
		_ = out.Encode(drive(client, base, &s, r))
	}
}
