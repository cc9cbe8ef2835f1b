/**
 * Typed errors with stable kinds. Every error a user can cause is a HubError carrying the HTTP
 * status it maps to; the controller's one error handler turns it into OpenWhisk's `{error, code}`
 * body. Anything that is not a HubError is a bug or an outage and becomes a 500.
 */
export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export const badRequest = (message: string, kind = 'BAD_REQUEST') => new HubError(400, kind, message);
export const unauthenticated = (message: string) =>
  new HubError(401, 'UNAUTHENTICATED', message, { 'WWW-Authenticate': 'Basic realm="OpenWhisk secure realm"' });
export const forbidden = (resource: string) =>
  new HubError(403, 'FORBIDDEN', `The supplied authentication is not authorized to access '${resource}'.`);
export const notFound = (message = 'The requested resource does not exist.') => new HubError(404, 'NOT_FOUND', message);
export const methodNotAllowed = () =>
  new HubError(405, 'METHOD_NOT_ALLOWED', 'HTTP method not allowed, supported methods: GET, PUT, DELETE');
export const conflict = (message: string, kind = 'CONFLICT') => new HubError(409, kind, message);
export const tooLarge = (message: string) => new HubError(413, 'TOO_LARGE', message);
export const unsupportedMedia = (contentType: string) =>
  new HubError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `The request's Content-Type${contentType ? ` '${contentType}'` : ''} is not supported. Expected 'application/json'.`,
  );
export const throttled = (message: string) => new HubError(429, 'THROTTLED', message);
export const notImplemented = (what: string) =>
  new HubError(501, 'NOT_IMPLEMENTED', `${what} is not implemented yet in this whiskhub release.`);
export const unavailable = (message: string) => new HubError(503, 'UNAVAILABLE', message);

export const Messages = {
  notFound: 'The requested resource does not exist.',
  exists: 'resource already exists',
  concurrentModification: 'Concurrent modification to resource detected.',
  wrongCollection: 'Resource by this name exists but is not in this collection.',
  illegalName: 'The name of the entity contains illegal characters.',
  illegalNamespace: 'The namespace contains illegal characters.',
  noAuth: 'The resource requires authentication, which was not supplied with the request',
  badAuth: 'The supplied authentication is invalid',
  bindingOperation: 'Operation not permitted on package binding.',
  bindingMissing: 'Binding references a package that does not exist.',
  bindingToBinding: 'Cannot bind to another package binding.',
  bindingNotPackage: 'Cannot bind to a resource that is not a package.',
  packageToBinding: 'Resource is a package and cannot be converted into a binding.',
  defaultPackageReserved: "Package name 'default' is reserved.",
  paramsMalformed: 'parameters malformed!',
  ruleNeedsBoth: 'rule requires a valid trigger and a valid action',
  feedNotValid: 'Feed name is not valid',
  execUndefined: 'exec undefined',
} as const;
