import { describe, expect, it } from 'vitest';
import { LEAF_ERROR_TTL_MS, LeafErrors, explainLeafError, parseLeafError } from '../../../app/service/leaf-errors.ts';

// Lines as nats-server 2.10.27 logs them for a refused solicited leaf connection.
const AUTH = "[3103] 2026/11/28 12:27:37.518607 [ERR] 127.0.0.1:43055 - lid:11 - Leafnode Error 'Authorization Violation'";
const OTHER = '[3103] 2026/11/28 12:27:37.518622 [INF] 127.0.0.1:43055 - lid:11 - Leafnode connection closed: Client Closed - Account: SIOT';

describe('leaf errors from the server log', () => {
  it('parses the port and the error of a Leafnode Error line only', () => {
    expect(parseLeafError(AUTH)).toEqual({ port: 43055, error: 'Authorization Violation' });
    expect(parseLeafError(OTHER)).toBeUndefined();
    expect(parseLeafError('garbage')).toBeUndefined();
  });

  it('says what to check', () => {
    expect(explainLeafError('device', 'Authorization Violation')).toMatch(/refused the login.*check the leaf user and password/);
    expect(explainLeafError('hub', 'Permissions Violation for Publish to "x"')).toMatch(/lacks permissions/);
    expect(explainLeafError('hub', 'Something New')).toMatch(/closed the leaf connection: Something New/);
  });

  it('pins errors on the slot they came through, reports changes once, and forgets them after a quiet spell', () => {
    const e = new LeafErrors((port) => (port === 43055 ? 'device' : undefined));
    expect(e.onLog(AUTH, 1_000)).toBe('device');
    expect(e.onLog(AUTH, 2_000)).toBeUndefined(); // same message: no new event
    expect(e.current('device', 2_500)).toMatch(/refused the login/);
    expect(e.current('device', 2_000 + LEAF_ERROR_TTL_MS)).toBeUndefined();
    expect(e.onLog(AUTH.replace('43055', '1234'), 3_000)).toBeUndefined(); // not one of our slots
    e.clear('device');
    expect(e.current('device', 2_500)).toBeUndefined();
  });
});
