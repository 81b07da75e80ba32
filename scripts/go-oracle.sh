#!/usr/bin/env bash
# Regenerates the Go-computed answers the unit tables compare against (test/fixtures/go-oracle/expected.json)
# and the Go type model of JobSet (src/api/go-types.generated.ts), by running the Go oracle in
# test/fixtures/go-oracle with Go's own regexp, encoding/json and k8s.io/apimachinery v0.36.3.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/test/fixtures/go-oracle"
go run . > expected.json.tmp
mv expected.json.tmp expected.json
go run . types > "$root/src/api/go-types.generated.ts.tmp"
mv "$root/src/api/go-types.generated.ts.tmp" "$root/src/api/go-types.generated.ts"
cd "$root"
node_modules/.bin/biome format --write test/fixtures/go-oracle/expected.json src/api/go-types.generated.ts >/dev/null
echo "wrote test/fixtures/go-oracle/expected.json and src/api/go-types.generated.ts"
