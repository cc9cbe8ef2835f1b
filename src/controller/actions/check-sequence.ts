import { isSequence, type Identity } from '../../entities/documents.js';
import { badRequest, HubError } from '../../entities/errors.js';
import { docId, parseQualifiedName, type EntityRef } from '../../entities/names.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { resolveAction } from '../resolve-action.js';

/**
 * Checks a sequence before it is stored: every component exists and is readable by the caller,
 * the sequence does not reach itself through nested sequences, and it inlines to at most
 * `maxLength` atomic actions.
 */
export async function checkSequence(
  store: ArtifactStore,
  identity: Identity,
  self: EntityRef,
  components: string[],
  maxLength: number,
): Promise<void> {
  const selfId = docId(self);
  let atomic = 0;

  const visit = async (names: string[], depth: number): Promise<void> => {
    if (depth > maxLength) throw badRequest('Sequence may not refer to itself.', 'SEQUENCE_CYCLE');
    for (const name of names) {
      const ref = parseQualifiedName(name, identity.namespace, 'action');
      if (docId(ref) === selfId) throw badRequest('Sequence may not refer to itself.', 'SEQUENCE_CYCLE');
      let resolved;
      try {
        resolved = await resolveAction(store, ref, identity);
      } catch (err) {
        if (err instanceof HubError && err.status === 404) throw badRequest('Sequence component does not exist.', 'SEQUENCE_COMPONENT_MISSING');
        throw err;
      }
      if (docId(resolved.ref) === selfId) throw badRequest('Sequence may not refer to itself.', 'SEQUENCE_CYCLE');
      const exec = resolved.action.exec;
      if (isSequence(exec)) await visit(exec.components, depth + 1);
      else if (++atomic > maxLength) throw badRequest('Too many actions in the sequence.', 'SEQUENCE_TOO_LONG');
    }
  };
  await visit(components, 0);
}
