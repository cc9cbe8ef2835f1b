import type { BlackboxExec, CodeExec, Exec } from '../../entities/documents.js';
import { badRequest, Messages, tooLarge } from '../../entities/errors.js';
import { parseQualifiedName, qualifiedName } from '../../entities/names.js';
import { isBinaryCode, resolveKind } from '../../entities/runtimes.js';

export const MAX_CODE_BYTES = 48 * 1024 * 1024;

const malformed = (why: string) => badRequest(`The request content was malformed:\nexec ${why}`, 'MALFORMED_EXEC');

/** Validates `exec` from a PUT body and resolves its kind; sequence components are made fully qualified. */
export function parseExec(raw: unknown, callerNamespace: string): Exec {
  if (raw === undefined || raw === null) throw badRequest(Messages.execUndefined, 'EXEC_UNDEFINED');
  if (typeof raw !== 'object' || Array.isArray(raw)) throw malformed('must be an object');
  const e = raw as Record<string, unknown>;
  const kind = resolveKind(e.kind);
  if (e.main !== undefined && typeof e.main !== 'string') throw malformed('main must be a string');
  const main = e.main as string | undefined;

  if (kind === 'sequence') {
    if (!Array.isArray(e.components)) throw malformed('components must be an array of action names');
    if (e.components.length === 0) throw badRequest('No component specified for the sequence.', 'EMPTY_SEQUENCE');
    const components = e.components.map((c) => qualifiedName(parseQualifiedName(String(c), callerNamespace, 'action')));
    return { kind: 'sequence', components };
  }

  if (e.code !== undefined && typeof e.code !== 'string') throw malformed('code must be a string');
  const code = e.code as string | undefined;
  if (code !== undefined) {
    const size = Buffer.byteLength(code);
    if (size > MAX_CODE_BYTES) throw tooLarge(`exec larger than allowed: ${size} > ${MAX_CODE_BYTES} bytes.`);
  }

  if (kind === 'blackbox') {
    if (typeof e.image !== 'string' || e.image.trim() === '') throw malformed('image must name a container image');
    const exec: BlackboxExec = { kind: 'blackbox', image: e.image, binary: code ? isBinaryCode(code) : false };
    if (code) exec.code = code;
    if (main) exec.main = main;
    return exec;
  }

  if (code === undefined || code.trim() === '') throw malformed('code must not be empty');
  const exec: CodeExec = { kind, code, binary: isBinaryCode(code) };
  if (main) exec.main = main;
  return exec;
}
