import type { Logger } from '../logging/logger.js';

/**
 * What a role started, stopped in reverse order (the HTTP server first, the store last), each
 * step logged rather than thrown so one failure does not leave the rest running.
 */
export function stopSteps(logger: Logger) {
  const steps: (() => Promise<void>)[] = [];
  return {
    add: (step: () => Promise<void>) => {
      steps.unshift(step);
    },
    run: async () => {
      for (const step of steps.splice(0)) await step().catch((err) => logger.error({ err }, 'error while stopping'));
    },
  };
}
