#!/usr/bin/env bash
# Builds the developer tools the shipping tests need (idempotent; instant when cached).
#   actionlint — validates .github/workflows/*.yml (test/ship/workflows.test.ts)
# Built from its Go module through the Go module proxy, into a cache outside the repo:
#   ~/.cache/kennel/tools/<name>-<version>/bin/<name>
# helm and kubectl are not built here: the test bed builds them (npm run testbed:build).
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12

cache_root="${KENNEL_TOOLS_CACHE:-$HOME/.cache/kennel/tools}"

build_go_tool() {
  local name=$1 module=$2 version=$3
  local bin_dir="$cache_root/$name-$version/bin"
  if [ -x "$bin_dir/$name" ]; then
    echo "$name $version: cached at $bin_dir/$name"
    return
  fi
  command -v go >/dev/null || { echo "error: go is required to build $name ($module@$version)" >&2; exit 1; }
  echo "$name $version: building $module@$version"
  mkdir -p "$bin_dir"
  # CGO off: a static binary that needs nothing from the machine it runs on.
  GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "$module@$version"
  "$bin_dir/$name" -version | head -1
}

build_go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
