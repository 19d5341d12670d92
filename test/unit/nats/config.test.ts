import { describe, expect, it } from 'vitest';
import { instanceIdOfServerName, jetStreamDomain, parseLeafListenLine, parsePortsFile, renderConfig, serverName } from '../../../app/nats/index.ts';

const base = {
  instanceId: 'dev-1',
  storeDir: '/data/js',
  clientPort: -1,
  monitorPort: -1,
  portsDir: '/data/run',
  clientCredentials: { user: 'app', password: 'p"w\\x' },
};

describe('nats-server config', () => {
  it('derives a subject-safe JetStream domain from the instance id', () => {
    expect(jetStreamDomain('dev-1')).toBe('siot_dev-1');
    expect(jetStreamDomain('a.b c*')).toBe('siot_a_b_c_');
    expect(() => jetStreamDomain('')).toThrow(/empty instance id/);
  });

  it('reads the instance id back from a server name (who is on the device link, in /leafz)', () => {
    expect(instanceIdOfServerName(serverName('dev-1'))).toBe('dev-1');
    expect(instanceIdOfServerName('NDZX3ABC')).toBeUndefined();
    expect(instanceIdOfServerName('siot_')).toBeUndefined();
  });

  it('listens on loopback only, with credentials, JetStream in the domain, and escapes every string', () => {
    const conf = JSON.parse(renderConfig({ ...base, maxFileStore: 1024, syncInterval: 'always' })) as Record<string, unknown>;
    expect(conf).toMatchObject({ host: '127.0.0.1', http: '127.0.0.1:-1', port: -1 });
    expect(conf.jetstream).toEqual({ store_dir: '/data/js', domain: 'siot_dev-1', max_memory_store: 64 * 1024 * 1024, max_file_store: 1024, sync_interval: 'always' });
    const accounts = conf.accounts as Record<string, { users: Array<Record<string, unknown>>; jetstream?: string; imports?: unknown[] }>;
    expect(Object.keys(accounts)).toEqual(['SIOT', 'SIOT_PEERS', 'SIOT_DEVICE_LINK']);
    expect(accounts.SIOT).toMatchObject({ users: [{ user: 'app', password: 'p"w\\x' }], jetstream: 'enabled' });
    // The peers' account exists without a leaf listener too: the remotes we
    // dial are bound to it, and our second connection lives there.
    expect(accounts.SIOT_PEERS?.users).toEqual([{ user: 'app_peers', password: 'p"w\\x' }]);
    expect(accounts.SIOT_PEERS?.jetstream).toBeUndefined();
    // So does the device link's: a device we dial `limited` lands there.
    expect(accounts.SIOT_DEVICE_LINK?.users).toEqual([{ user: 'app_device_link', password: 'p"w\\x' }]);
    expect(accounts.SIOT_DEVICE_LINK?.jetstream).toBeUndefined();
    expect(conf.authorization).toBeUndefined();
    expect(conf.leafnodes).toBeUndefined();
  });

  it('denies the write, stream and live subjects on leaf remotes both ways, and refuses leaf writes to our streams', () => {
    const conf = JSON.parse(
      renderConfig({
        ...base,
        leafPort: -1,
        leafAdvertise: '127.0.0.1:1',
        leafCredentials: { user: 'leaf', password: 'x' },
        leafUsers: [{ user: 'devA', password: 'y', streams: ['inst_a_hub'], peerIds: ['a'] }],
        leafRemotes: [{ url: 'nats-leaf://10.0.0.2:7422', credentials: { user: 'u', password: 'p@ss/word' }, denyImports: ['p.>'], denyExports: ['inst.>'], compression: 's2_fast' }],
      }),
    ) as { leafnodes: Record<string, unknown>; accounts: Record<string, { users: Array<Record<string, unknown>>; imports?: unknown[]; exports?: unknown[] }> };
    expect(conf.leafnodes).toMatchObject({ host: '127.0.0.1', port: -1, advertise: '127.0.0.1:1', reconnect_interval: '500ms' });
    const [remote] = conf.leafnodes.remotes as Array<Record<string, unknown>>;
    expect(remote).toEqual({ url: 'nats-leaf://u:p%40ss%2Fword@10.0.0.2:7422', account: 'SIOT_PEERS', deny_imports: ['p.>'], deny_exports: ['inst.>'], compression: { mode: 's2_fast' } });
    const deviceLink = JSON.parse(renderConfig({ ...base, leafRemotes: [{ url: 'nats-leaf://10.0.0.3:7422', credentials: { user: 'u', password: 'p' }, limited: true }] })) as { leafnodes: { remotes: Array<Record<string, unknown>> } };
    expect(deviceLink.leafnodes.remotes[0]?.account).toBe('SIOT_DEVICE_LINK');
    expect(conf.accounts.SIOT?.users).toEqual([{ user: 'app', password: 'p"w\\x' }]);
    const [leaf] = conf.accounts.SIOT_PEERS?.users ?? [];
    const [limited] = conf.accounts.leaf_devA?.users ?? [];
    expect((leaf?.permissions as { publish: { deny: string[] } }).publish.deny).toEqual(
      expect.arrayContaining(['p.>', 'ep.>', 'inst.>', '$JS.siot_dev-1.API.STREAM.DELETE.>', '$JS.siot_dev-1.API.STREAM.PURGE.>']),
    );
    const allow = (limited?.permissions as { publish: { allow: string[]; deny: string[] }; subscribe: { allow: string[] } });
    // Which streams it reads is up to our leaf API (app/instance); the
    // permissions never name streams, so they never need a reload.
    expect(allow.publish.allow).toEqual(['$JS.siot_dev-1.API.>', '$JS.API.>', 'siot.sync.hello.a', '_R_.>', '_INBOX.>']);
    expect(allow.publish.deny).toEqual(expect.arrayContaining(['$JS.siot_dev-1.API.STREAM.DELETE.>', '$JS.siot_dev-1.API.STREAM.PURGE.>', '$JS.siot_dev-1.API.STREAM.LIST', '$JS.API.STREAM.PURGE.>']));
    expect(allow.subscribe.allow).toEqual(['siot.sync.hello.dev-1', 'siot.hellofor.leaf_devA', '_INBOX.>', '$JS.siot_a.API.>']);
  });

  it('confines each limited leaf user to an account of its own that imports only the read API and hellos', () => {
    const conf = JSON.parse(
      renderConfig({ ...base, leafPort: -1, leafCredentials: { user: 'leaf', password: 'x' }, leafUsers: [{ user: 'devA', password: 'y', streams: ['inst_a_hub'], peerIds: ['a'] }] }),
    ) as { accounts: Record<string, { imports?: Array<Record<string, unknown>>; exports?: Array<Record<string, unknown>> }> };
    const limited = conf.accounts.leaf_devA;
    const imported = (limited?.imports ?? []).map((i) => JSON.stringify(i));
    // Its calls go to our leaf API (which checks streams; none are named
    // here, so granting one needs no reload), pull requests to JetStream.
    expect(imported).toContain(JSON.stringify({ service: { account: 'SIOT', subject: 'siot.leafapi.leaf_devA.>' }, to: '$JS.siot_dev-1.API.>' }));
    expect(imported).toContain(JSON.stringify({ service: { account: 'SIOT', subject: '$JS.API.CONSUMER.MSG.NEXT.*.*' }, to: '$JS.siot_dev-1.API.CONSUMER.MSG.NEXT.*.*' }));
    // Our hello, narrowed to its streams by the leaf API, under the plain
    // hello subject; the full one is only for the trusted peers' account.
    expect(imported).toContain(JSON.stringify({ stream: { account: 'SIOT', subject: 'siot.hellofor.leaf_devA' }, to: 'siot.sync.hello.dev-1' }));
    expect(imported.some((i) => /inst_|STREAM\.|ACCOUNT|META|SERVER/.test(i))).toBe(false);
    expect(limited?.exports).toEqual([
      { service: '$JS.siot_a.API.>', accounts: ['SIOT'], response_type: 'stream', response_threshold: '10m' },
      { stream: 'siot.sync.hello.a', accounts: ['SIOT'] },
    ]);
    const main = conf.accounts.SIOT;
    expect(main?.imports).toEqual([
      { service: { account: 'leaf_devA', subject: '$JS.siot_a.API.>' } },
      { stream: { account: 'leaf_devA', subject: 'siot.sync.hello.a' } },
    ]);
    expect(main?.exports).toContainEqual({ service: 'siot.leafapi.leaf_devA.>', accounts: ['leaf_devA'] });
    // (SIOT_PEERS: the trusted leaf user's account, given leafCredentials.)
    expect(main?.exports).toContainEqual({ service: '$JS.API.CONSUMER.MSG.NEXT.*.*', accounts: ['SIOT_PEERS', 'SIOT_DEVICE_LINK', 'leaf_devA'], response_type: 'stream', response_threshold: '10m' });
  });

  it('confines the trusted leaf user to the peers account, which imports the leaf API and hellos and exports nothing to ours', () => {
    const conf = JSON.parse(renderConfig({ ...base, leafPort: -1, leafCredentials: { user: 'leaf', password: 'x' } })) as {
      accounts: Record<string, { users?: Array<Record<string, unknown>>; imports?: Array<Record<string, unknown>>; exports?: Array<Record<string, unknown>> }>;
    };
    expect(Object.keys(conf.accounts).sort()).toEqual(['SIOT', 'SIOT_DEVICE_LINK', 'SIOT_PEERS']);
    const peers = conf.accounts.SIOT_PEERS;
    expect(peers?.users?.map((u) => u.user)).toEqual(['leaf', 'app_peers']);
    expect(peers?.users?.[1]).toEqual({ user: 'app_peers', password: 'p"w\\x' });
    const deny = (peers?.users?.[0]?.permissions as { publish: { deny: string[] }; subscribe: { deny: string[] } });
    expect(deny.publish.deny).toEqual(expect.arrayContaining(['p.>', 'ep.>', 'inst.>', 'up.>', 'nodes.>', '$JS.API.>', '$JS.siot_dev-1.API.STREAM.DELETE.>']));
    expect(deny.subscribe.deny).toEqual(['p.>', 'ep.>', 'inst.>', 'up.>', 'nodes.>']);
    const imported = (peers?.imports ?? []).map((i) => JSON.stringify(i));
    expect(imported).toContain(JSON.stringify({ service: { account: 'SIOT', subject: 'siot.leafapi.SIOT_PEERS.>' }, to: '$JS.siot_dev-1.API.>' }));
    expect(imported).toContain(JSON.stringify({ service: { account: 'SIOT', subject: 'siot.leafapi.SIOT_PEERS.>' }, to: '$JS.API.>' }));
    expect(imported).toContain(JSON.stringify({ service: { account: 'SIOT', subject: '$JS.API.CONSUMER.MSG.NEXT.*.*' }, to: '$JS.siot_dev-1.API.CONSUMER.MSG.NEXT.*.*' }));
    expect(imported).toContain(JSON.stringify({ stream: { account: 'SIOT', subject: 'siot.sync.hello.dev-1' } }));
    expect(peers?.exports).toBeUndefined();
    // Nothing of the peers' account reaches ours by an import (our sync
    // joins it with its own connection).
    expect(conf.accounts.SIOT?.imports).toBeUndefined();
    expect(conf.accounts.SIOT?.exports).toContainEqual({ service: 'siot.leafapi.SIOT_PEERS.>', accounts: ['SIOT_PEERS'] });
    // The full hello goes to the trusted peers' account only.
    expect(conf.accounts.SIOT?.exports).toContainEqual({ stream: 'siot.sync.hello.dev-1', accounts: ['SIOT_PEERS'] });
    expect(conf.accounts.SIOT?.exports).toContainEqual({ stream: 'siot.hellofor.SIOT_DEVICE_LINK', accounts: ['SIOT_DEVICE_LINK'] });
  });

  it('reads the ports the server chose', () => {
    expect(parsePortsFile('{"nats":["nats://127.0.0.1:4222"],"monitoring":["http://127.0.0.1:8222"]}')).toEqual({ client: 4222, monitor: 8222 });
    expect(() => parsePortsFile('{"nats":[]}')).toThrow(/lacks client or monitoring port/);
    expect(parseLeafListenLine('[1] 2026/11/28 [INF] Listening for leafnode connections on 127.0.0.1:36843')).toBe(36843);
    expect(parseLeafListenLine('Server is ready')).toBeUndefined();
  });
});
