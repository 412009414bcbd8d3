import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, METHOD_NAMES } from '../../../electron/api/contract.ts';
import { buildPreloadApi, channelFor, unwrap, type PreloadApi } from '../../../electron/preload/api.ts';

function make() {
  const invoked: Array<[string, unknown]> = [];
  const listeners = new Set<(m: unknown) => void>();
  const api = buildPreloadApi(
    async (channel, args) => {
      invoked.push([channel, args]);
      return { ok: true, result: { channel } };
    },
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  );
  return { api, invoked, listeners, push: (m: unknown) => [...listeners].forEach((l) => l(m)) };
}

const verbs = (api: PreloadApi) =>
  Object.entries(api).flatMap(([ns, v]) => (typeof v === 'function' ? [ns] : Object.keys(v).map((k) => `${ns}.${k}`)));

describe('buildPreloadApi', () => {
  it('exposes exactly the contract verbs plus on()', () => {
    const { api } = make();
    expect(verbs(api).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    for (const key of Object.keys(api)) {
      expect(['invoke', 'send', 'ipcRenderer', 'require', 'process'].includes(key)).toBe(false);
    }
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('calls the per-method channel with the arguments', async () => {
    const { api, invoked } = make();
    const host = api.host as Record<string, (a?: unknown) => Promise<unknown>>;
    const vms = api.vms as Record<string, (a?: unknown) => Promise<unknown>>;
    await expect(host.info!({ refresh: true })).resolves.toEqual({ channel: 'vireo:host.info' });
    await vms.start!({ vm: 'deb' });
    await vms.list!();
    expect(invoked).toEqual([
      ['vireo:host.info', { refresh: true }],
      ['vireo:vms.start', { vm: 'deb' }],
      ['vireo:vms.list', {}],
    ]);
    expect(channelFor('snapshots.save')).toBe('vireo:snapshots.save');
  });

  it('throws wire errors as plain {code, message, details} objects', async () => {
    const api = buildPreloadApi(async () => ({ ok: false, error: { code: 'NOT_FOUND', message: 'no VM "x"', details: { vm: 'x' } } }), () => () => {});
    const vms = api.vms as Record<string, (a?: unknown) => Promise<unknown>>;
    await expect(vms.get!({ vm: 'x' })).rejects.toEqual({ code: 'NOT_FOUND', message: 'no VM "x"', details: { vm: 'x' } });
    expect(() => unwrap(undefined)).toThrow();
    expect(() => unwrap({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'm' } })).toThrowError();
  });

  it('on() accepts contract events only and unsubscribes', () => {
    const { api, push, listeners } = make();
    const on = api.on as (e: string, l: (p: unknown) => void) => () => void;
    const got: unknown[] = [];
    const off = on('vm.state', (p) => got.push(p));
    push({ event: 'vm.state', payload: { id: 'a' } });
    push({ event: 'job.update', payload: { id: 'j' } });
    off();
    push({ event: 'vm.state', payload: { id: 'b' } });
    expect(got).toEqual([{ id: 'a' }]);
    expect(listeners.size).toBe(0);
    expect(() => on('not.an.event', () => {})).toThrow();
    expect(() => on('__proto__', () => {})).toThrow();
    for (const e of EVENT_NAMES) expect(() => on(e, () => {})()).not.toThrow();
  });
});
