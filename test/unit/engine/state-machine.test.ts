import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADOPTABLE, TRANSITIONS, assertTransition, canAdopt, canTransition } from '../../../electron/engine/vm/state-machine.ts';
import { Machine } from '../../../electron/engine/vm/machine.ts';
import { removeSavedState, savedFiles } from '../../../electron/engine/vm/save-state.ts';
import { vmPaths } from '../../../electron/engine/paths.ts';
import { VireoError } from '../../../electron/api/errors.ts';
import type { VmState } from '../../../electron/api/types.ts';

// The VM state machine: which changes are legal, that an illegal one is refused where state is
// written, and that Machine is the only place that writes it.

const STATES = Object.keys(TRANSITIONS) as VmState[];

describe('transition table', () => {
  it('refuses the transitions that would show a lie', () => {
    // A stopped VM only starts (or is restored into); it never jumps to running by itself.
    expect(canTransition('stopped', 'running')).toBe(false);
    expect(canTransition('stopped', 'paused')).toBe(false);
    expect(canTransition('crashed', 'running')).toBe(false);
    // Mid-snapshot the VM ends or comes back; "stopping" is not a step of a snapshot.
    expect(canTransition('saving', 'stopping')).toBe(false);
    expect(canTransition('restoring', 'saving')).toBe(false);
    // Starting is only ever entered from rest (a saved VM's start resumes it).
    for (const s of STATES) expect(canTransition(s, 'starting')).toBe(s === 'starting' || s === 'stopped' || s === 'crashed' || s === 'saved');
    // Saved has no QEMU: it never jumps to running, and it is only reached once QEMU has ended.
    expect(canTransition('saved', 'running')).toBe(false);
    expect(canTransition('saving', 'saved')).toBe(false);
    expect(canTransition('running', 'saved')).toBe(false);
  });

  it('allows every path a real VM takes', () => {
    const journeys: VmState[][] = [
      ['stopped', 'starting', 'running', 'paused', 'running', 'stopping', 'stopped'],
      ['stopped', 'starting', 'running', 'saving', 'running', 'restoring', 'paused', 'stopping', 'stopped'],
      ['stopped', 'starting', 'stopped'], // QEMU died at start-up
      ['stopped', 'starting', 'running', 'crashed', 'starting', 'running'],
      ['stopped', 'restoring', 'running'],
      // save state: QEMU ends after writing it (stopped), the VM is saved; start resumes it
      ['stopped', 'starting', 'running', 'saving', 'stopped', 'saved', 'starting', 'running'],
      ['saved', 'starting', 'stopped', 'saved'], // a resume that failed keeps the saved state
      ['saved', 'stopped'], // discarded
    ];
    for (const j of journeys) for (let i = 1; i < j.length; i++) expect(canTransition(j[i - 1]!, j[i]!), `${j[i - 1]} → ${j[i]}`).toBe(true);
  });

  it('every active state can end (stopped or crashed): a dead QEMU is always representable', () => {
    for (const s of STATES.filter((x) => x !== 'stopped' && x !== 'crashed' && x !== 'saved')) {
      expect(canTransition(s, 'crashed'), s).toBe(true);
      expect(canTransition(s, 'stopped'), s).toBe(true);
    }
  });

  it('re-attach (adopt) goes only from rest to what QEMU reports', () => {
    for (const from of STATES) for (const to of STATES) expect(canAdopt(from, to)).toBe(ADOPTABLE.from.includes(from) && ADOPTABLE.to.includes(to));
    expect(canAdopt('stopped', 'running')).toBe(true);
    expect(canAdopt('running', 'paused')).toBe(false);
  });

  it('assertTransition throws INTERNAL naming both states', () => {
    expect(() => assertTransition('vm-1', 'stopped', 'running')).toThrow(VireoError);
    try {
      assertTransition('vm-1', 'saving', 'stopping');
    } catch (e) {
      expect((e as VireoError).code).toBe('INTERNAL');
      expect((e as VireoError).message).toContain('saving → stopping');
    }
    expect(() => assertTransition('vm-1', 'running', 'paused')).not.toThrow();
  });
});

describe('Machine is the only writer of state', () => {
  const home = mkdtempSync(join(tmpdir(), 'vireo-sm-'));
  const id = '11111111-2222-4333-8444-555555555555';

  it('refuses an illegal transition where state is written, and keeps its state', () => {
    const m = new Machine(id, 'sm', vmPaths(home, id));
    const events: VmState[] = [];
    m.on('state', (s) => events.push(s));
    // The private writer itself, reached by name: the table is enforced there, not by callers.
    const change = (m as unknown as { change: (s: VmState) => void }).change.bind(m);
    expect(() => change('running')).toThrow(/illegal VM state transition stopped → running/);
    expect(m.state).toBe('stopped');
    expect(events).toEqual([]);
    change('starting');
    expect(m.state).toBe('starting');
    expect(events).toEqual(['starting']);
  });

  it('has no public way to set state', () => {
    const desc = Object.getOwnPropertyDescriptor(Machine.prototype, 'state');
    expect(desc?.get).toBeTypeOf('function');
    expect(desc?.set).toBeUndefined();
    expect('setState' in Machine.prototype).toBe(false);
  });

  it('operations that need a running VM are refused with INVALID_STATE, not a state change', async () => {
    const m = new Machine(id, 'sm', vmPaths(home, id));
    await expect(m.transient('saving', 'take a live snapshot of', async () => 1)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(m.pause()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(m.state).toBe('stopped');
  });

  it('no engine module outside machine.ts writes or drives a machine state', () => {
    const root = join(import.meta.dirname, '../../../electron');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(name) && !p.endsWith(join('vm', 'machine.ts'))) {
          const text = readFileSync(p, 'utf8');
          if (/\.setState\(|#state\s*=|\._state\s*=|\.change\(\s*'(stopped|starting|running|paused|saving|restoring|stopping|crashed)'/.test(text)) offenders.push(p);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});

describe('a saved state found on disk (save-state.ts)', () => {
  it('an engine finds a VM with a saved state file as saved, and as stopped once the file is gone', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-h4-saved-'));
    const id = '22222222-3333-4444-8555-666666666666';
    const paths = vmPaths(home, id);
    mkdirSync(paths.dir, { recursive: true });
    const files = savedFiles(paths);
    writeFileSync(files.state, 'QEVM');
    writeFileSync(files.meta, JSON.stringify({ version: 1, savedAt: new Date().toISOString(), bytes: 4, argv: ['-S'], binary: 'qemu', wasRunning: true }));
    const m = new Machine(id, 'saved-one', paths);
    await m.attach();
    expect(m.state).toBe('saved');
    expect(m.isActive).toBe(false);
    await removeSavedState(paths);
    await m.attach();
    expect(m.state).toBe('stopped');
    rmSync(home, { recursive: true, force: true });
  });
});
