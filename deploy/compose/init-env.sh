#!/bin/sh
# Writes deploy/compose/.env from .env.example with fresh passwords and keys (never overwrites).
set -eu
cd "$(dirname "$0")"
[ -e .env ] && { echo ".env exists; remove it first to generate new secrets" >&2; exit 1; }
rand() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"; }
uuid() { cat /proc/sys/kernel/random/uuid; }
sed -e "s/^COUCHDB_PASSWORD=.*/COUCHDB_PASSWORD=$(rand 32)/" \
    -e "s/^REDIS_PASSWORD=.*/REDIS_PASSWORD=$(rand 32)/" \
    -e "s/^WHISKHUB_GUEST_AUTH=.*/WHISKHUB_GUEST_AUTH=$(uuid):$(rand 64)/" \
    -e "s/^WHISKHUB_SYSTEM_AUTH=.*/WHISKHUB_SYSTEM_AUTH=$(uuid):$(rand 64)/" \
    .env.example >.env
chmod 600 .env
echo "wrote $(pwd)/.env (guest key: grep WHISKHUB_GUEST_AUTH .env)"
