import { notImplemented } from '../entities/errors.js';
import type { ActivationGateway } from './activation-gateway.js';

/** The spine's gateway: the routes exist and check everything they can, then answer 501. */
export class NotImplementedGateway implements ActivationGateway {
  async invoke(): Promise<never> {
    throw notImplemented('Action invocation');
  }
  async fire(): Promise<never> {
    throw notImplemented('Trigger firing');
  }
}
