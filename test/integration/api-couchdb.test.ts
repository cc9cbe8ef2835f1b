import { describeApi } from './api-suite.js';

// No skipping: this file runs after deploy/dev/services-up.sh, which exports the URL (point it at
// a pouchdb-server or CouchDB). A missing URL means the services were not started: fail loudly.
if (!process.env.WHISKHUB_COUCHDB_URL) {
  throw new Error(
    'WHISKHUB_COUCHDB_URL is not set: start the services with deploy/dev/services-up.sh (or a pouchdb-server) and export its URL before running the couchdb API suite',
  );
}

describeApi('couchdb');
