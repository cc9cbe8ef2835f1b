/**
 * ContainerFactory: where actions run. Docker (dockerode) in the cluster and wherever a Docker
 * engine answers; local processes running the same action proxy otherwise. Both pass
 * test/contract/container-factory.contract.ts.
 *
 * A container runs the action proxy (src/runtime/), an HTTP server speaking OpenWhisk's /init
 * and /run. The factory hides how it is reached (host network and an assigned port here, the
 * container's address on a bridge in production).
 */
export interface ContainerSpec {
  /** A readable, unique name (Docker container name, process label). */
  name: string;
  /** Runtime kind (`nodejs:20`) for code actions, or `blackbox`. */
  kind: string;
  /** For blackbox actions: the image to run; for code kinds the factory knows the image. */
  image?: string;
  memoryMB: number;
  /** Extra environment for the proxy (e.g. __OW_API_HOST). */
  env: Record<string, string>;
  /** Labels to find our own containers again (Docker labels). */
  labels: Record<string, string>;
}

/** What /init or /run answered, or how they failed to. */
export interface ProxyResponse {
  /** HTTP status from the proxy; 0 when none came (timeout, connection lost). */
  statusCode: number;
  /** The raw response body (JSON text for a well-behaved proxy). */
  body: string;
  /** Epoch ms when the request was sent and when it ended. */
  start: number;
  end: number;
  /** The time limit passed before an answer. */
  timedOut: boolean;
  /** The container went away during the call (crash, OOM kill). */
  exited: boolean;
  /** The container was killed for exceeding its memory limit, where the factory can tell. */
  oomKilled: boolean;
}

export interface LogLine {
  /** RFC 3339 timestamp with nanoseconds, as OpenWhisk formats it. */
  time: string;
  stream: 'stdout' | 'stderr';
  message: string;
}

export interface CollectedLogs {
  lines: LogLine[];
  /** True when the byte limit cut the logs short. */
  truncated: boolean;
  /** False when a stream did not end with the sentinel in time (the action misbehaved). */
  complete: boolean;
}

export interface Container {
  readonly id: string;
  readonly spec: ContainerSpec;
  /** POST /init with `{value: payload}`. */
  init(payload: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse>;
  /** POST /run with the run body (value, namespace, action_name, activation_id, deadline, …). */
  run(body: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse>;
  /**
   * The log lines written since the last collection, up to the end-of-activation sentinel on
   * both stdout and stderr (the sentinel lines themselves are dropped), at most `limitBytes`.
   */
  collectLogs(limitBytes: number, waitMs?: number): Promise<CollectedLogs>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  destroy(): Promise<void>;
}

export interface ContainerFactory {
  readonly name: 'docker' | 'process';
  /** Removes containers a previous run of this invoker left behind (by label). */
  cleanup(labels: Record<string, string>): Promise<number>;
  create(spec: ContainerSpec): Promise<Container>;
  close(): Promise<void>;
}

/** Written by the action proxy to stdout and stderr after each activation. */
export const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
