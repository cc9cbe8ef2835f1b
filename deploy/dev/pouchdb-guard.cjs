// Preloaded into the dev CouchDB stand-in (pouchdb-server; see services-up.sh, start_pouchdb).
//
// pouchdb-adapter-leveldb-core's _all_docs with include_docs reads a document's body by its
// sequence after reading its metadata; when the document changes in between (the alarms
// provider updates registrations many times a second), that body can be gone, and the adapter
// dereferences `undefined` and the whole server dies (TypeError at lib/index.js, allDocsInner),
// taking every later test with it. Real CouchDB has no such race. With the guard, a listing
// leaves that row out of its answer, and a keyed read (POST _all_docs with keys) answers the
// row with the error `read_race`, which the store's BulkDocReader asks again with a single GET.
'use strict';
const Module = require('module');

const TARGET = /pouchdb-adapter-leveldb-core[\\/]lib[\\/]index\.js$/;
const RACY = 'stores.bySeqStore.get(formatSeq(seq), function (err, data) {\n              allDocsInner(data);';
const GUARDED =
  'stores.bySeqStore.get(formatSeq(seq), function (err, data) {\n' +
  "              if (!data) { if (opts.key !== undefined) { results.push({ key: metadata.id, error: 'read_race' }); } return next(); }\n" +
  '              allDocsInner(data);';

const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (TARGET.test(filename)) {
    if (content.includes(RACY)) content = content.replace(RACY, GUARDED);
    else process.stderr.write(`pouchdb-guard: ${filename} changed; the _all_docs guard is not applied\n`);
  }
  return compile.call(this, content, filename);
};
