// The main-process service: this laptop's instance (nats-server, store,
// sync), its two link slots (device, hub), optionally the demo, and the
// ClientApi the renderer talks to. Electron-free: the Electron main and the
// headless runner both carry it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  ClientError,
  type AppInfo,
  type ClientApi,
  type ClientEvent,
  type ConnectRequest,
  type ConnectionsState,
  type PeerRole,
  type StatusSnapshot,
  type SyncStatus,
  type WriteReceipt,
  type WriteRequest,
} from '../client/index.ts';
import { Instance, type PeerLink } from '../instance/index.ts';
import { LinkManager } from '../link/index.ts';
import { APPLIED_POINT } from '../sim/index.ts';
import { instStreamName, nowNs, pointString } from '../siot/index.ts';
import { ROLES, ConnectionStore, checkConnect, type ActiveConnection } from './connections.ts';
import { startDemo, type Demo } from './demo.ts';
import { LeafErrors } from './leaf-errors.ts';
import { PointBatcher } from './point-batcher.ts';
import { historyCsv, historySeries, importNodeFile, subtreeYaml } from './transfer.ts';
import type { Service, ServiceOptions } from './types.ts';
import { pointFromInput, toUiPoint, treeSnapshot } from './views.ts';
import { WriteTracker } from './writes.ts';

const MAX_POINTS_PER_WRITE = 1_000;
const STATUS_DEBOUNCE_MS = 200;
const STATUS_PERIOD_MS = 2_000;

function sameCredentials(a: ActiveConnection | undefined, b: ActiveConnection | undefined): boolean {
  return a?.user === b?.user && a?.password === b?.password;
}

class LaptopService implements Service {
  readonly api: ClientApi;
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private readonly batcher = new PointBatcher((changes) => this.emit({ kind: 'points', changes }));
  private readonly tracker = new WriteTracker((receipt) => this.emit({ kind: 'write', receipt }));
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly periodic: NodeJS.Timeout;
  /** Credentials each leaf remote was configured with (changing them restarts nats-server). */
  private readonly remoteCreds: Partial<Record<PeerRole, ActiveConnection>> = {};
  private connectChain: Promise<unknown> = Promise.resolve();
  private readonly leafErrors = new LeafErrors((port) => ROLES.find((r) => this.slots[r].endsWith(`:${port}`)));
  private stopped = false;

  constructor(
    private readonly opts: ServiceOptions,
    readonly instance: Instance,
    private readonly links: LinkManager,
    private readonly slots: Record<PeerRole, string>,
    private readonly conns: ConnectionStore,
    private readonly demo: Demo | undefined,
    initialCreds: Partial<Record<PeerRole, ActiveConnection>>,
  ) {
    Object.assign(this.remoteCreds, initialCreds);
    this.api = this.makeApi();
    const { store, sync, server } = instance;
    store.onPoint((c) => {
      if (this.listeners.size) this.batcher.add({ nodeId: c.nodeId, ...(c.parentId !== undefined ? { parentId: c.parentId } : {}), point: toUiPoint(c.current) });
      const p = c.current.point;
      if (p.type === APPLIED_POINT && c.parentId === undefined) {
        try {
          this.tracker.onApplied(c.nodeId, c.current.instance, p.key, pointString(p));
        } catch {
          // Not the text form the sim writes: not an applied report we understand.
        }
      }
    });
    sync?.on('status', (s: SyncStatus) => {
      this.tracker.onSync(s);
      this.scheduleStatus();
    });
    links.on('status', () => this.scheduleStatus());
    server.on('state', () => this.scheduleStatus(0));
    server.on('log', (line: string) => {
      if (this.leafErrors.onLog(line)) this.scheduleStatus(0);
    });
    // Byte counts and pending numbers move without events of their own.
    this.periodic = setInterval(() => this.listeners.size && this.scheduleStatus(), STATUS_PERIOD_MS);
    this.periodic.unref();
  }

  onEvent(listener: (e: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ClientEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        process.emitWarning(`a client event listener failed: ${(err as Error).message}`);
      }
    }
  }

  private scheduleStatus(delay = STATUS_DEBOUNCE_MS): void {
    if (this.stopped || !this.listeners.size) return;
    if (this.statusTimer && delay > 0) return;
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (!this.stopped) this.emit({ kind: 'status', status: this.status() });
    }, delay);
  }

  status(): StatusSnapshot {
    const s = this.instance.server.status;
    const sync = this.instance.sync?.status() ?? { instanceId: this.instance.id, replicas: [], peers: [], safeToDisconnect: false };
    return {
      server: { state: s.state, version: s.version ?? '', restarts: s.restarts, ...(s.lastError ? { error: s.lastError } : {}) },
      sync,
      // A refused leaf login shows on its link, which is otherwise "connected" (TCP).
      links: this.links.statuses().map((l) => {
        const leaf = this.leafErrors.current(l.name);
        return leaf && !l.error ? { ...l, error: leaf } : l;
      }),
    };
  }

  private info(): AppInfo {
    return {
      appName: this.opts.appName ?? 'SIOT Field Commissioner',
      appVersion: this.opts.appVersion,
      natsServerVersion: this.instance.server.status.version ?? '',
      instanceId: this.instance.id,
      dataDir: this.opts.dataDir,
      mode: this.opts.mode,
      demo: this.demo !== undefined,
    };
  }

  private async writePoints(req: WriteRequest): Promise<WriteReceipt> {
    if (typeof req !== 'object' || req === null || typeof req.nodeId !== 'string' || !req.nodeId) throw new ClientError('writePoints needs a nodeId');
    if (!Array.isArray(req.points) || req.points.length === 0) throw new ClientError('writePoints needs at least one point');
    if (req.points.length > MAX_POINTS_PER_WRITE) throw new ClientError(`at most ${MAX_POINTS_PER_WRITE} points per write`);
    const { store } = this.instance;
    const self = this.instance.id;
    const st = store.state;
    const known = st.nodePoints(req.nodeId).length > 0 || st.parentsOf(req.nodeId, true).length > 0;
    if (!known) throw new ClientError(`node ${req.nodeId} not found; it may have been removed on the device`, 'not-found');
    const edge = req.parentId !== undefined;
    if (edge && (typeof req.parentId !== 'string' || !st.hasEdge(req.nodeId, req.parentId))) throw new ClientError(`node ${req.nodeId} has no edge to ${String(req.parentId)}`, 'not-found');
    // Each point its own time: two edits in one write never tie.
    const points = req.points.map((p) => pointFromInput(p, nowNs(), self, edge));
    const boundary = edge ? st.edgeBoundary(req.nodeId, req.parentId as string, self) : st.boundaryOf(req.nodeId, self);
    if (edge) await store.writeEdgePoints(req.nodeId, req.parentId as string, points);
    else await store.writeNodePoints(req.nodeId, points);
    const stream = instStreamName(boundary, self);
    const receipt: WriteReceipt = {
      id: randomUUID(),
      nodeId: req.nodeId,
      ...(edge ? { parentId: req.parentId as string } : {}),
      points: points.map((p) => ({ type: p.type, key: p.key, time: p.time.toString() })),
      boundary,
      stream,
      // Our stream's newest origin sequence covers this write (origin order).
      seq: store.lastOriginSeq(stream),
      state: 'stored',
      remote: boundary !== self,
    };
    this.tracker.add(receipt);
    if (this.instance.sync) this.tracker.onSync(this.instance.sync.status());
    return receipt;
  }

  /** Points a role's slot at a link; restarts nats-server only when the
   * leaf credentials change (2.10 cannot reload leaf remotes). */
  private async connect(raw: ConnectRequest): Promise<ConnectionsState> {
    const req = checkConnect(raw);
    const run = this.connectChain.catch(() => undefined).then(async () => {
      const active: ActiveConnection = { link: req.link, user: req.user, password: req.password };
      this.leafErrors.clear(req.role);
      if (!sameCredentials(this.remoteCreds[req.role], active)) {
        this.remoteCreds[req.role] = active;
        await this.instance.setPeers(this.peers());
      }
      this.conns.setActive(req.role, active);
      if (req.saveAs) this.conns.save(req.saveAs, req.role, active);
      await this.links.connect(req.role, req.link);
      return this.connectionsChanged();
    });
    this.connectChain = run;
    return run;
  }

  private peers(): PeerLink[] {
    const out: PeerLink[] = [];
    for (const role of ROLES) {
      const c = this.remoteCreds[role];
      if (c) out.push(slotPeer(role, this.slots[role], c));
    }
    return out;
  }

  private connectionsChanged(): ConnectionsState {
    const c = this.conns.view();
    this.emit({ kind: 'connections', connections: c });
    this.scheduleStatus(0);
    return c;
  }

  private makeApi(): ClientApi {
    const { store } = this.instance;
    return {
      info: async () => this.info(),
      tree: async () => treeSnapshot(store.state, this.instance.id),
      status: async () => this.status(),
      writePoints: (req) => this.writePoints(req),
      history: (req) => historySeries(store, req),
      exportCsv: (req) => historyCsv(store, req),
      exportYaml: async (req) => subtreeYaml(store, req?.nodeId, req?.parentId),
      importYaml: (req) => importNodeFile(store, req?.parentId ?? this.instance.id, req?.text, nowNs()),
      listSerialPorts: () => this.links.listSerialPorts(),
      connections: async () => this.conns.view(),
      connect: (req) => this.connect(req),
      disconnect: async (req) => {
        if (req?.role !== 'device' && req?.role !== 'hub') throw new ClientError('disconnect needs role "device" or "hub"');
        await this.links.disconnect(req.role);
        this.conns.setActive(req.role, undefined);
        return this.connectionsChanged();
      },
      forgetConnection: async (req) => {
        this.conns.forget(String(req?.id));
        return this.connectionsChanged();
      },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.periodic);
    clearTimeout(this.statusTimer);
    this.batcher.flush();
    this.batcher.stop();
    await this.connectChain.catch(() => undefined);
    await this.links.stop();
    await this.instance.stop();
    await this.demo?.stop();
  }
}

/**
 * Leaf compression per slot. The device link is on site: Ethernet, where
 * compressing gains nothing, or serial, where the bridge's deflate does far
 * better than nats-server's s2 (docs/link-report.md, 20 kbit/s: 24 B per
 * point against 96-116) and s2 underneath would leave it little to find.
 * `off` on our remote turns leaf compression off in both directions, however
 * the device's server is set (its /leafz says `off` too). The hub link keeps
 * nats-server's default, `s2_auto`, which compresses once the round trip
 * shows the link is not a LAN.
 */
const SLOT_COMPRESSION: Record<PeerRole, string | undefined> = { device: 'off', hub: undefined };

/** The device slot is `limited`: the device reads only its own boundaries
 * of what this laptop holds (the data of every site it has visited); the
 * hub is trusted with everything. */
function slotPeer(role: PeerRole, url: string, c: ActiveConnection): PeerLink {
  const compression = SLOT_COMPRESSION[role];
  return { url, credentials: { user: c.user, password: c.password }, ...(compression ? { compression } : {}), ...(role === 'device' ? { limited: true } : {}) };
}

/** Starts the laptop's instance (and the demo), makes the saved or given
 * connections, and returns the service. */
export async function startService(opts: ServiceOptions): Promise<Service & { instance: Instance; demo?: Demo }> {
  const conns = new ConnectionStore(opts.dataDir);
  const links = new LinkManager();
  let demo: Demo | undefined;
  let instance: Instance | undefined;
  try {
    const slots = { device: await links.addSlot('device'), hub: await links.addSlot('hub') };
    if (opts.demo) {
      demo = await startDemo({
        dir: join(opts.dataDir, 'demo'),
        ...(opts.demoNodes !== undefined ? { nodes: opts.demoNodes } : {}),
        ...(opts.demoPeriodMs !== undefined ? { periodMs: opts.demoPeriodMs } : {}),
        ...(opts.binary ? { binary: opts.binary } : {}),
        ...(opts.resourcesPath ? { resourcesPath: opts.resourcesPath } : {}),
        ...(opts.syncOptions ? { syncOptions: opts.syncOptions } : {}),
      });
      // Saved under fixed names: the demo's ports change on every start.
      conns.save('Simulated device', 'device', demo.deviceConnection);
      conns.save('Demo hub', 'hub', demo.hubConnection);
    }
    const wanted: Partial<Record<PeerRole, ActiveConnection>> = {};
    for (const role of ROLES) {
      const given = opts[role];
      const manual = (role === 'device' ? opts.demoDevice : opts.demoHub) === 'manual';
      const demoConn = demo && !manual ? (role === 'device' ? demo.deviceConnection : demo.hubConnection) : undefined;
      const c = given ? checkConnect(given) : demoConn ?? (demo ? undefined : conns.active(role));
      if (c) wanted[role] = { link: c.link, user: c.user, password: c.password };
      conns.setActive(role, wanted[role]);
    }
    const peers: PeerLink[] = ROLES.flatMap((r) => {
      const c = wanted[r];
      return c ? [slotPeer(r, slots[r], c)] : [];
    });
    instance = await Instance.start({
      dataDir: opts.dataDir,
      peers,
      sync: { ...opts.syncOptions, role: 'laptop' },
      description: 'field laptop',
      ...(opts.binary ? { binary: opts.binary } : {}),
      ...(opts.resourcesPath ? { resourcesPath: opts.resourcesPath } : {}),
      ...(opts.clientPort !== undefined ? { clientPort: opts.clientPort } : {}),
      ...(opts.diskBudgetBytes !== undefined ? { diskBudgetBytes: opts.diskBudgetBytes } : {}),
    });
    for (const role of ROLES) {
      const c = wanted[role];
      // A device that is not there yet is a link state, not a start failure.
      if (c) await links.connect(role, c.link).catch((e: Error) => process.emitWarning(`${role} link: ${e.message}`));
    }
    const svc = new LaptopService(opts, instance, links, slots, conns, demo, wanted);
    return Object.assign(svc, demo ? { demo } : {});
  } catch (e) {
    await links.stop().catch(() => undefined);
    await instance?.stop().catch(() => undefined);
    await demo?.stop().catch(() => undefined);
    throw e;
  }
}

