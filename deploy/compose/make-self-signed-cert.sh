#!/bin/sh
# Writes tls/tls.crt and tls/tls.key, a self-signed certificate for the edge (clients then need
# `wsk -i`). Use a real certificate in production: put it in tls/ under the same names.
# Usage: ./make-self-signed-cert.sh [COMMON_NAME]   (default: localhost)
set -eu
cd "$(dirname "$0")"
cn=${1:-localhost}
mkdir -p tls
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$cn" \
  -addext "subjectAltName=DNS:$cn,DNS:localhost,IP:127.0.0.1" \
  -keyout tls/tls.key -out tls/tls.crt
chmod 644 tls/tls.crt tls/tls.key   # nginx's worker (user nginx) reads them
echo "wrote tls/tls.crt and tls/tls.key for $cn"
