import type { ActionDoc, PackageDoc } from '../../entities/documents.js';
import { badRequest } from '../../entities/errors.js';
import { getValue, mergeKeyValues } from '../../entities/params.js';
import { jsonTextOf, mergeObjectTexts, withJsonText } from '../../entities/json-text.js';

export interface MergedArguments {
  /** What /run receives as `value`. */
  content: Record<string, unknown>;
  /** `init: true` parameters, passed to /init as environment instead. */
  initArgs: Record<string, unknown>;
}

/**
 * OpenWhisk's precedence: package < binding < action < request payload. With the `final`
 * annotation, the payload of a request may not override a parameter that already has a value
 * (sequence components are not requests: OpenWhisk checks only what a caller sends).
 */
export function mergeArguments(
  action: ActionDoc,
  pkg: PackageDoc | undefined,
  binding: PackageDoc | undefined,
  payload: Record<string, unknown>,
  enforceFinal = true,
): MergedArguments {
  let params = pkg?.parameters ?? [];
  if (binding) params = mergeKeyValues(params, binding.parameters);
  params = mergeKeyValues(params, action.parameters);
  if (enforceFinal && getValue(action.annotations, 'final') === true) {
    const fixed = new Set(params.filter((p) => p.value !== null && p.value !== undefined).map((p) => p.key));
    if (Object.keys(payload).some((k) => fixed.has(k))) {
      throw badRequest('Request defines parameters that are not allowed (e.g., reserved properties).', 'FINAL_PARAMETER');
    }
  }
  const content: Record<string, unknown> = {};
  const initArgs: Record<string, unknown> = {};
  for (const p of params) (p.init ? initArgs : content)[p.key] = p.value;
  let toInit = false;
  for (const [k, v] of Object.entries(payload)) {
    if (k in initArgs) {
      initArgs[k] = v;
      toInit = true;
    } else content[k] = v;
  }
  // The payload's text, when noted (a fire's), makes the content's: /run gets it as it came.
  const payloadText = jsonTextOf(payload);
  if (payloadText !== undefined && !toInit) {
    const defaults = params.filter((p) => !p.init);
    withJsonText(content, defaults.length ? mergeObjectTexts(JSON.stringify(Object.fromEntries(defaults.map((p) => [p.key, p.value]))), payloadText) : payloadText);
  }
  return { content, initArgs };
}
