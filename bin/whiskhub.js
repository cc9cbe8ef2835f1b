#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (npm run build; `npm start` builds first).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('whiskhub: dist/ is missing; run `npm run build` first.');
    process.exit(1);
  }
  throw err;
});
