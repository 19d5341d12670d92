// A stand-in for app/service: the one thing the Electron wiring test stubs
// besides Electron itself. Every ClientApi method echoes its name and
// argument, so a call that arrives proves which method ran with what; an
// argument `{ fail, code? }` makes it throw instead.
import { EventEmitter } from 'node:events';
import { CLIENT_METHODS, ClientError, type AppInfo, type ClientApi, type ClientEvent, type ExportFile, type TreeSnapshot } from '../../../app/client/index.ts';
import type { Service, ServiceOptions } from '../../../app/service/types.ts';

export interface StubService extends Service {
  readonly name: string;
  readonly options: ServiceOptions;
  readonly calls: Array<{ method: string; arg: unknown }>;
  emit(e: ClientEvent): void;
  listeners(): number;
  /** Settles the pending stop() (stop() waits for this unless autoStop). */
  finishStop(): void;
  stopCalls: number;
}

export const INFO: AppInfo = {
  appName: 'SIOT Field Commissioner',
  appVersion: '0.1.0',
  natsServerVersion: '2.10.27',
  instanceId: 'inst-1',
  dataDir: '/data',
  mode: 'electron',
  demo: false,
};

export function stubService(name: string, options: ServiceOptions, log: string[], autoStop = true): StubService {
  const calls: StubService['calls'] = [];
  const events = new EventEmitter();
  let release!: () => void;
  const stopped = new Promise<void>((r) => (release = r));
  const echo = (method: string) => async (arg: unknown) => {
    calls.push({ method, arg });
    const fail = (arg as { fail?: string; code?: string } | undefined)?.fail;
    if (fail) {
      const code = (arg as { code?: string }).code;
      throw code ? new ClientError(fail, code) : new Error(fail);
    }
    return { method, arg: arg ?? null };
  };
  const api = Object.fromEntries(CLIENT_METHODS.map((m) => [m, echo(m)])) as unknown as ClientApi;
  // The menu uses these for real: answer with the shapes it reads.
  api.info = async () => INFO;
  api.tree = async (): Promise<TreeSnapshot> => ({ rootId: 'inst-1', nodes: [] });
  api.exportYaml = async (req): Promise<ExportFile> => ({ filename: `${req.nodeId}.yaml`, mimeType: 'application/yaml', text: `id: ${req.nodeId}\n` });
  const svc: StubService = {
    name,
    options,
    calls,
    api,
    stopCalls: 0,
    onEvent(listener) {
      events.on('e', listener);
      return () => events.off('e', listener);
    },
    emit: (e) => events.emit('e', e),
    listeners: () => events.listenerCount('e'),
    finishStop: () => release(),
    async stop() {
      svc.stopCalls++;
      log.push(`stop:${name}:begin`);
      if (!autoStop) await stopped;
      log.push(`stop:${name}:done`);
    },
  };
  return svc;
}
