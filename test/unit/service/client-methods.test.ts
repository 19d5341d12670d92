import { describe, expect, it } from 'vitest';
import { CLIENT_METHODS, ClientError, dispatch, isClientMethod, toWireError, type ClientApi } from '../../../app/client/index.ts';

function fakeApi(): { api: ClientApi; calls: Array<[string, unknown, unknown]> } {
  const calls: Array<[string, unknown, unknown]> = [];
  const api = {} as Record<string, unknown>;
  for (const m of CLIENT_METHODS) {
    api[m] = async function (this: unknown, arg: unknown) {
      calls.push([m, arg, this]);
      return `${m}-result`;
    };
  }
  return { api: api as unknown as ClientApi, calls };
}

describe('CLIENT_METHODS', () => {
  it('lists the API once each and is frozen', () => {
    expect(new Set(CLIENT_METHODS).size).toBe(CLIENT_METHODS.length);
    expect(CLIENT_METHODS).toContain('writePoints');
    expect(CLIENT_METHODS).toHaveLength(13);
    expect(Object.isFrozen(CLIENT_METHODS)).toBe(true);
  });
});

describe('dispatch', () => {
  it('calls the named method with the argument, bound to the api', async () => {
    const { api, calls } = fakeApi();
    await expect(dispatch(api, 'history', { nodeId: 'n' })).resolves.toBe('history-result');
    expect(calls).toEqual([['history', { nodeId: 'n' }, api]]);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'nope', '', 'onEvent', 'stop'])('rejects %j', async (name) => {
    const { api, calls } = fakeApi();
    const err = await dispatch(api, name, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'unknown-method' });
    expect((err as Error).message).toContain(`unknown method ${JSON.stringify(name)}`);
    expect((err as Error).message).toContain('writePoints');
    expect(calls).toEqual([]);
  });

  it.each([undefined, null, 5, ['info'], { toString: () => 'info' }])('rejects a name that is not a string: %j', async (name) => {
    const { api } = fakeApi();
    await expect(dispatch(api, name, {})).rejects.toMatchObject({ code: 'unknown-method' });
  });

  it('isClientMethod agrees', () => {
    for (const m of CLIENT_METHODS) expect(isClientMethod(m)).toBe(true);
    expect(isClientMethod('constructor')).toBe(false);
    expect(isClientMethod('__proto__')).toBe(false);
  });

  it('a method that throws rejects the dispatch with its error', async () => {
    const api = { ...fakeApi().api, info: async () => Promise.reject(new ClientError('bad', 'not-found')) };
    await expect(dispatch(api, 'info', undefined)).rejects.toMatchObject({ message: 'bad', code: 'not-found' });
  });
});

describe('toWireError', () => {
  it('ClientError keeps its code (default bad-request); other errors are "failed"; non-errors as text', () => {
    expect(toWireError(new ClientError('x', 'not-found'))).toEqual({ message: 'x', code: 'not-found' });
    expect(toWireError(new ClientError('y'))).toEqual({ message: 'y', code: 'bad-request' });
    expect(toWireError(new TypeError('z'))).toEqual({ message: 'z', code: 'failed' });
    expect(toWireError('plain')).toEqual({ message: 'plain', code: 'failed' });
    expect(toWireError(undefined)).toEqual({ message: 'undefined', code: 'failed' });
    // JSON-safe: no stack, no prototype.
    const w = toWireError(new Error('e'));
    expect(JSON.parse(JSON.stringify(w))).toEqual(w);
    expect(Object.keys(w).sort()).toEqual(['code', 'message']);
  });
});
