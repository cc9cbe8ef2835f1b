/**
 * The views each database needs, as CouchDB design documents. Map functions are strings in plain
 * ES5 (var, indexOf, no arrows): CouchDB runs them in whichever JavaScript engine it was built
 * with, which may be SpiderMonkey 1.8.5.
 *
 * Changing a view here is enough to roll it out: init() compares and replaces the stored design
 * document, and CouchDB rebuilds the index on the next query.
 */

export const DESIGN_DOC = 'whiskhub';

export interface ViewDefinition {
  map: string;
  reduce?: string;
}

export interface DesignDoc {
  language: 'javascript';
  views: Record<string, ViewDefinition>;
}

export const SubjectViews = { byUuid: 'by_uuid', byNamespace: 'by_namespace' } as const;
export const EntityViews = { byNamespace: 'by_namespace', byRootNamespace: 'by_root_namespace' } as const;
export const ActivationViews = { byNamespace: 'by_namespace', byEntityPath: 'by_entity_path' } as const;

// Every namespace a subject owns is a key, so a uuid or namespace lookup is one index read.
const subjectKeyView = (field: 'uuid' | 'name'): ViewDefinition => ({
  map: `function (doc) {
  if (!doc.namespaces || typeof doc.namespaces.length !== 'number') return;
  for (var i = 0; i < doc.namespaces.length; i++) {
    var ns = doc.namespaces[i];
    if (ns && typeof ns.${field} === 'string') emit(ns.${field}, null);
  }
}`,
});

export const subjectsDesign: DesignDoc = {
  language: 'javascript',
  views: {
    [SubjectViews.byUuid]: subjectKeyView('uuid'),
    [SubjectViews.byNamespace]: subjectKeyView('name'),
  },
};

// `updated` last in the key so one descending range read gives newest first; `_count` over the
// same range gives the total without reading documents.
export const entitiesDesign: DesignDoc = {
  language: 'javascript',
  views: {
    [EntityViews.byNamespace]: {
      map: `function (doc) {
  if (typeof doc.namespace === 'string' && typeof doc.entityType === 'string') {
    emit([doc.namespace, doc.entityType, doc.updated], null);
  }
}`,
      reduce: '_count',
    },
    // A namespace together with its packages (`ns` and `ns/pkg`), as `/actions` lists them.
    [EntityViews.byRootNamespace]: {
      map: `function (doc) {
  if (typeof doc.namespace === 'string' && typeof doc.entityType === 'string') {
    emit([doc.namespace.split('/')[0], doc.entityType, doc.updated], null);
  }
}`,
      reduce: '_count',
    },
  },
};

export const activationsDesign: DesignDoc = {
  language: 'javascript',
  views: {
    [ActivationViews.byNamespace]: {
      map: `function (doc) {
  if (typeof doc.namespace === 'string' && typeof doc.start === 'number') {
    emit([doc.namespace, doc.start], null);
  }
}`,
      reduce: '_count',
    },
    // One row per distinct path: a repeated path would otherwise list and count the record twice.
    [ActivationViews.byEntityPath]: {
      map: `function (doc) {
  if (typeof doc.namespace !== 'string' || typeof doc.start !== 'number') return;
  if (!doc.entityPaths || typeof doc.entityPaths.length !== 'number') return;
  var seen = [];
  for (var i = 0; i < doc.entityPaths.length; i++) {
    var path = doc.entityPaths[i];
    if (typeof path !== 'string' || seen.indexOf(path) >= 0) continue;
    seen.push(path);
    emit([doc.namespace, path, doc.start], null);
  }
}`,
      reduce: '_count',
    },
  },
};
