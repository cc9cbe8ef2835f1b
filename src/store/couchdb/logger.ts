/**
 * The little the store logs, typed structurally so a pino logger (or a test spy) fits without this
 * module depending on the logging setup.
 */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLogger: StoreLogger = { info: () => {}, warn: () => {} };
