/**
 * The import rules of DESIGN.md, checked by `npm run lint`:
 * no cycles; only the CLI wires implementations (controller, admin and feeds see seams only).
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles hide layering mistakes.', from: {}, to: { circular: true } },
    {
      name: 'seams-only',
      severity: 'error',
      comment: 'Components depend on seam interfaces; only src/cli/ picks implementations.',
      from: { path: '^(src/(controller|admin|entities|invoker|loadbalancer|triggers)|feeds)/' },
      to: { path: '^src/(store|messaging|containers)/[^/]+/|^src/triggers/(embedded|bullmq)/' },
    },
    {
      name: 'entities-are-leaves',
      severity: 'error',
      comment: 'The entity model depends on nothing else of ours.',
      from: { path: '^src/entities/' },
      to: { path: '^src/(?!entities/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
