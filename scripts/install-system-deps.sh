#!/usr/bin/env bash
# Installs the Debian packages the tests need (idempotent; quick when they are present).
set -euo pipefail
# iproute2: the test bed's pod network (ip netns, veth, bridge); openssl: its throw-away PKI;
# prometheus: promtool for the metrics check and the real Prometheus the e2e scrapes;
# chromium: the headless browser that tests the inference server's web page;
# fonts-dejavu-core: text in the training report's PNG charts.
pkgs=(iproute2 openssl prometheus chromium fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
