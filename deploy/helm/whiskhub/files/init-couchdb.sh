#!/bin/sh
# The CouchDB init Job of the whiskhub chart (and the couchdb-init service of the Compose file):
# creates the databases and their views, then writes the guest and whisk.system subjects with the
# keys from the auth Secret. Runs at every install and upgrade, so every step is idempotent: a
# subject whose key is already right is left alone; one whose key changed in the Secret is replaced.
#
# Environment: WHISKHUB_COUCHDB_URL, WHISKHUB_COUCHDB_PREFIX, WHISKHUB_GUEST_AUTH and
# WHISKHUB_SYSTEM_AUTH (uuid:key each). Keys never reach the log.
set -eu

whiskhub-probe wait couchdb

# Opening the store creates the databases and writes their design documents (the views); every
# admin command opens it.
whiskhub admin user list >/dev/null

# ensure_subject SUBJECT NAMESPACE UUID:KEY
ensure_subject() {
  current=$(whiskhub admin user get "$1" --namespace "$2" 2>/dev/null) || current=""
  if [ "$current" = "$3" ]; then
    echo "subject $1, namespace $2: up to date"
    return 0
  fi
  if [ -n "$current" ]; then
    # The key in the Secret changed: revoke the old one. The namespace's entities stay.
    whiskhub admin user delete "$1" --namespace "$2"
  fi
  # create prints the key (stdout) and a wsk hint with it (stderr): show neither unless it fails.
  if ! out=$(whiskhub admin user create "$1" --namespace "$2" --auth "$3" 2>&1 >/dev/null); then
    echo "$out" | grep -v -e "$3" >&2 || true
    exit 1
  fi
  echo "subject $1, namespace $2: written"
}

ensure_subject guest guest "${WHISKHUB_GUEST_AUTH:?WHISKHUB_GUEST_AUTH is not set}"
ensure_subject whisk.system whisk.system "${WHISKHUB_SYSTEM_AUTH:?WHISKHUB_SYSTEM_AUTH is not set}"
echo "CouchDB initialized (databases prefixed ${WHISKHUB_COUCHDB_PREFIX:-whiskhub_})"
