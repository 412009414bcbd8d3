import { describe, expect, it } from 'vitest';
import { createDispatcher, EventBus, inProcessClient } from '../../../electron/api/dispatch.ts';
import { METHOD_NAMES, type Handlers } from '../../../electron/api/contract.ts';
import { VireoError } from '../../../electron/api/errors.ts';
import { LOCAL_CALLER, type Caller } from '../../../electron/api/define.ts';

// A dispatcher over handlers that record what reached them: the subject is the dispatcher's
// parsing and error mapping, which every transport shares.
function recordingHandlers(seen: unknown[]): Handlers {
  return Object.fromEntries(
    METHOD_NAMES.map((m) => [
      m,
      async (args: unknown) => {
        seen.push(args);
        if (m === 'vms.start') throw new VireoError('INVALID_STATE', 'already running');
        if (m === 'vms.pause') throw new Error('boom');
        return { ok: m };
      },
    ]),
  ) as unknown as Handlers;
}

describe('dispatch', () => {
  it('rejects unknown methods, including prototype names', async () => {
    const d = createDispatcher(recordingHandlers([]));
    expect(await d('nope', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await d('__proto__', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await d('toString', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await d(42, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('parses arguments by schema before a handler sees them', async () => {
    const seen: unknown[] = [];
    const d = createDispatcher(recordingHandlers(seen));
    const bad = await d('vms.get', { vm: 5 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await d('vms.get', { vm: 'a', extra: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await d('vms.create', { name: '../x' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/path separator/) } });
    expect(await d('vms.create', { name: 'x'.repeat(70) })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/64/) } });
    expect(seen).toHaveLength(0);
    expect(await d('vms.get', { vm: 'deb' })).toEqual({ ok: true, result: { ok: 'vms.get' } });
    expect(seen).toEqual([{ vm: 'deb' }]);
  });

  it('maps typed errors through and hides internal ones behind INTERNAL', async () => {
    const d = createDispatcher(recordingHandlers([]));
    expect(await d('vms.start', { vm: 'x' })).toEqual({ ok: false, error: { code: 'INVALID_STATE', message: 'already running' } });
    const internal = await d('vms.pause', { vm: 'x' });
    expect(internal).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(internal)).not.toMatch(/at .*\.ts/); // no stack
  });

  it('in-process client throws VireoError and delivers events', async () => {
    const bus = new EventBus();
    const c = inProcessClient(createDispatcher(recordingHandlers([])), bus);
    await expect(c.call('vms.start', { vm: 'x' })).rejects.toBeInstanceOf(VireoError);
    const got: unknown[] = [];
    const off = c.on('vm.changed', (p) => got.push(p));
    bus.emit('vm.changed', { id: 'a' });
    off();
    bus.emit('vm.changed', { id: 'b' });
    expect(got).toEqual([{ id: 'a' }]);
  });

  it('hands the handler the caller the transport gave (local when none), never one from the request', async () => {
    const callers: unknown[] = [];
    const handlers = Object.fromEntries(METHOD_NAMES.map((m) => [m, async (_a: unknown, c: unknown) => (callers.push(c), { ok: m })])) as unknown as Handlers;
    const d = createDispatcher(handlers);
    await d('vms.list', {});
    const web: Caller = { kind: 'web', roots: ['/srv/media'], allowExtraArgs: false };
    await d('vms.list', {}, web);
    // A caller smuggled into the arguments is refused by the strict schema, not believed.
    expect(await d('vms.list', { caller: { kind: 'local' } }, web)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(callers).toEqual([LOCAL_CALLER, web]);
  });
});
