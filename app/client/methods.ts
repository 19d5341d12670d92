import type { ClientApi, ClientMethod, WireError } from './types.ts';

/** Every method of `ClientApi`, for transports that must check a name that
 * arrived over IPC or HTTP. The record type makes the compiler reject a
 * list that misses or invents a method. */
const METHOD_SET: Record<ClientMethod, true> = {
  info: true,
  tree: true,
  status: true,
  writePoints: true,
  history: true,
  exportCsv: true,
  exportYaml: true,
  importYaml: true,
  listSerialPorts: true,
  connections: true,
  connect: true,
  disconnect: true,
  forgetConnection: true,
};

export const CLIENT_METHODS = Object.freeze(Object.keys(METHOD_SET) as ClientMethod[]);

export function isClientMethod(name: unknown): name is ClientMethod {
  return typeof name === 'string' && Object.hasOwn(METHOD_SET, name);
}

/** An error a caller can act on: the message is shown to the technician. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly code = 'bad-request',
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * Runs one call that arrived from a renderer. The name is checked against
 * the API (never `api[name]` on an arbitrary string: that would reach
 * `constructor` or a private method).
 */
export async function dispatch(api: ClientApi, method: unknown, arg: unknown): Promise<unknown> {
  if (!isClientMethod(method)) throw new ClientError(`unknown method ${JSON.stringify(method)}; expected one of ${CLIENT_METHODS.join(', ')}`, 'unknown-method');
  const fn = api[method] as (a: unknown) => Promise<unknown>;
  return fn.call(api, arg);
}

/** What goes back to the renderer when a call fails. */
export function toWireError(e: unknown): WireError {
  if (e instanceof ClientError) return { message: e.message, code: e.code };
  if (e instanceof Error) return { message: e.message, code: 'failed' };
  return { message: String(e), code: 'failed' };
}
