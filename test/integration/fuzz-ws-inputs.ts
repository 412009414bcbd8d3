import { join } from 'node:path';
import { METHOD_NAMES, methods } from '../../electron/api/contract.ts';

// The inputs of the WebSocket fuzzer (fuzz-ws.test.ts): seeded choices of well-formed, odd
// and hostile arguments per contract method. Paths are always absolute inside the fuzz's temp
// folder, with hostile file names but never a separator or "..", so no call can touch the host
// outside it.

export interface FuzzFiles {
  qcow2: string;
  raw: string;
  text: string;
  dir: string;
  subdir: string;
}

type Method = (typeof METHOD_NAMES)[number];

/** mulberry32: small, seedable, good enough to pick test inputs reproducibly. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}

/** Inserted as a bare JSON number (1e309 parses to Infinity; JSON.stringify cannot say it). */
const RAW_HUGE = '__RAW_1e309__';

function deep(n: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const HOSTILE_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\u202Egnp.exe', '\u200Ename', '\u2066x\u2069', '😀', '😀'.repeat(400), '\uD800', '\uDFFF\uD800',
  'Ω≈ç√∫', 'ＡＢＣ', 'e\u0301', 'A'.repeat(70_000), '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'valueOf', '%00', '%E0%A4%A', '${HOME}', '$(id)', '`id`', '; rm -rf ~', '-drive', '--help', 'null', 'undefined', '-1', 'NaN',
  'Infinity', '1e309', '0x10', 'con', 'nul', '.', '..', '...', ' name ', '\n', '\r\n', '\t', 'a,b=c', ',', '=', 'x'.repeat(256),
];

const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, RAW_HUGE, [], [null], ['a', 1], {}, { a: 1 },
  { __proto__: { polluted: 'yes' } }, JSON.parse('{"__proto__":{"polluted":"yes"}}'), { constructor: { prototype: { polluted: 'yes' } } }, deep(60),
];

const SIZES: unknown[] = ['1M', '64M', '2G', '64T', '65T', '0', '-1', '1.5G', '1e3G', '9'.repeat(40), 'G', '10Q', 512, -1, 0, 1e308, RAW_HUGE, ' 1G', '1 G', '0x10M'];

const NUMBERS: unknown[] = [0, 1, -1, 1.5, 2 ** 31, 1e12, '4', RAW_HUGE, null, 3];

const BOOLS: unknown[] = [true, false, 'true', 1, null];

const PATCH_KEYS = ['name', 'cpus', 'memory', 'notes', 'system', 'sytem', 'advanced', 'extraArgs', 'disks', 'networks', 'firmware', 'display', 'serial', 'file', 'size', 'os', '__proto__', 'constructor', 'prototype'];

function encode(v: unknown): string {
  return (JSON.stringify(v) ?? 'null').replaceAll(`"${RAW_HUGE}"`, '1e309');
}

/** The argument keys a method's schema declares (all are zod objects). */
export function keysOf(method: Method): string[] {
  const shape = (methods[method].args as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Seeded inputs over the fuzz's files; `state.running` is set for the round with a running VM. */
export function fuzzInputs(seed: number, files: FuzzFiles, tmp: string) {
  const rnd = prng(seed);
  /** second round: the target VM runs, and vms.start may aim at it */
  const state = { running: false };

  const hostile = (): unknown => (rnd.chance(0.6) ? rnd.pick(HOSTILE_STRINGS) : rnd.pick(HOSTILE_VALUES));

  /** A path inside the temp folder whose last segment is hostile but stays a single segment. */

  function tempPath(): string {
    const seg = String(rnd.pick(HOSTILE_STRINGS)).replace(/[/\\]/g, '_').replaceAll('\u0000', '');
    const safe = seg === '' || seg === '.' || seg === '..' ? `x${seg}` : seg;
    return join(files.dir, rnd.chance(0.3) ? 'sub' : '', safe);
  }

  /** A value the schema accepts for this argument (by its name), so the call reaches its handler. */

  function validFor(method: string, key: string, vmRefs: () => string[]): unknown {
    switch (key) {
      case 'vm': {
        // Never a real VM for vms.start: no guest runs during the fuzz (see the header).
        const refs = method === 'vms.start' && !state.running ? [] : vmRefs();
        return refs.length && rnd.chance(0.8) ? rnd.pick(refs) : 'no-such-vm';
      }
      case 'name':
        return method.startsWith('snapshots.') && rnd.chance(0.5) ? 'fz-snap' : `fz-${rnd.int(1e6)}`;
      case 'snapshot':
      case 'fromSnapshot':
        return rnd.pick(['fz-snap', 'no-such-snapshot']);
      case 'path':
        return rnd.pick([files.qcow2, files.text, join(files.dir, 'absent.qcow2'), files.raw]);
      case 'output':
        return join(files.dir, `out-${rnd.int(1e6)}.qcow2`);
      case 'iso':
        return rnd.pick([null, files.text, files.qcow2, join(files.dir, 'absent.iso')]);
      case 'importDisk':
        return rnd.pick([files.qcow2, files.raw, files.text]);
      case 'dir':
        return rnd.pick([files.dir, tmp]);
      case 'size':
      case 'disk':
        return rnd.pick(['16M', '64M', 32 * 1024 * 1024]);
      case 'memory':
        return '64M';
      case 'memoryMiB':
        return 64;
      case 'cpus':
        return 1;
      case 'timeoutSec':
        return 2;
      case 'keys':
        return ['ctrl', 'alt', 'delete'];
      case 'format':
        return rnd.pick(['qcow2', 'raw']);
      case 'filter':
        return rnd.pick(['iso', 'disk', 'any']);
      case 'accel':
        return 'tcg';
      case 'profile':
        return rnd.pick(['modern', 'legacy']);
      case 'firmware':
        return 'bios';
      case 'os':
        return rnd.pick(['debian12', 'win11', 'nope']);
      case 'patch':
        return rnd.pick([{ notes: 'fuzz' }, { cpus: 2 }, { memory: '96M' }, { name: `fz-${rnd.int(1e6)}` }]);
      case 'description':
        return 'a snapshot';
      case 'query':
        return rnd.pick(['win', 'debian', '']);
      case 'id':
        return 'no-such-job';
      case 'start':
      case 'secureBoot':
      case 'tpm':
      case 'refresh':
      case 'linked':
      case 'shrink':
      case 'keepDisks':
        return false;
      case 'force':
        return method !== 'host.selfTest' && rnd.chance(0.5);
      default:
        return 'x';
    }
  }

  /** An odd or hostile value for one argument, often of the right type but out of range. */

  function oddFor(method: string, key: string, vmRefs: () => string[]): unknown {
    if (rnd.chance(0.3)) return hostile();
    switch (key) {
      case 'vm':
        return method === 'vms.start' && !state.running ? rnd.pick(['__proto__', 'constructor', 'toString', ...HOSTILE_STRINGS]) : rnd.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', ...vmRefs().map((r) => r.toUpperCase()), ...HOSTILE_STRINGS]);
      case 'path':
      case 'output':
      case 'iso':
      case 'importDisk':
      case 'dir':
        return rnd.chance(0.7) ? tempPath() : rnd.pick([tmp, files.dir, `${files.qcow2}/x`, `${tmp}/`, files.subdir]);
      case 'size':
      case 'memory':
      case 'disk':
        return rnd.pick(SIZES);
      case 'memoryMiB':
      case 'cpus':
      case 'timeoutSec':
        return rnd.pick(NUMBERS);
      case 'keys':
        return rnd.pick([[], ['x'.repeat(1000)], Array(9).fill('a'), ['__proto__'], [1], 'ctrl', ['ctrl', '\u0000'], ['constructor']]);
      case 'patch':
        return patch(3);
      case 'start':
        return rnd.pick(['true', 1, null]); // never a booting guest
      case 'force':
        // A forced self-test boots the probe guest (seconds of TCG): not a fuzz target.
        return method === 'host.selfTest' ? rnd.pick(['true', 1, null]) : rnd.pick(BOOLS);
      default:
        return rnd.chance(0.5) ? rnd.pick(HOSTILE_STRINGS) : hostile();
    }
  }

  function patch(depth: number): unknown {
    if (depth === 0 || rnd.chance(0.3)) return hostile();
    if (rnd.chance(0.2)) return Array.from({ length: rnd.int(3) }, () => patch(depth - 1));
    // Built from JSON text so that "__proto__" is an own key, as a remote client would send it.
    const parts = Array.from({ length: 1 + rnd.int(3) }, () => {
      const k = rnd.pick(PATCH_KEYS);
      const v = k === 'file' ? (rnd.chance(0.5) ? tempPath() : '../../../x') : patch(depth - 1);
      return `${JSON.stringify(k)}:${encode(v)}`;
    });
    return JSON.parse(`{${parts.join(',')}}`.replaceAll(`"${RAW_HUGE}"`, '1e999999')) as unknown;
  }

  /** The argument keys a method's schema declares (all are zod objects). */

  /** The `args` JSON texts tried for one method: fixed oddities, then seeded random objects. */

  function variants(method: Method, vmRefs: () => string[], count: number): string[] {
    const keys = keysOf(method);
    // The fixed oddities never reach a handler: the first round has them, the state.running one not.
    const out = state.running ? [] : [
      'null', '0', '"x"', '[]', 'true', '{}', '{"unknownKey":1}',
      '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}',
      `{${keys.map((k) => `${JSON.stringify(k)}:{"__proto__":{"polluted":"yes"}}`).join(',')}}`,
      `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify('A'.repeat(200_000))}`).join(',')}}`,
    ];
    for (let i = 0; i < count; i++) {
      const obj: Record<string, string> = {};
      // While the VM runs, more calls are well-formed: what it does with them is the point.
      const mode = state.running ? rnd.next() * 0.75 : rnd.next();
      for (const k of keys) {
        const required = !(methods[method].args as unknown as { shape: Record<string, { isOptional(): boolean }> }).shape[k]!.isOptional();
        if (!required && rnd.chance(0.5)) continue;
        // A quarter of the calls are well-formed (they reach the handler and its error paths),
        // half change one argument, the rest are random mixes.
        obj[k] = encode(mode < 0.25 || (mode < 0.75 && rnd.chance(0.7)) ? validFor(method, k, vmRefs) : oddFor(method, k, vmRefs));
      }
      if (mode >= 0.25 && mode < 0.75 && keys.length) {
        const k = rnd.pick(keys);
        obj[k] = encode(oddFor(method, k, vmRefs));
      }
      if (rnd.chance(0.1)) obj[rnd.pick(['extra', '__proto__', 'constructor'])] = encode(hostile());
      if (method === 'vms.stop' && !('timeoutSec' in obj)) obj.timeoutSec = '2';
      out.push(`{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
    }
    return out;
  }

  return { rnd, state, hostile, validFor, oddFor, variants };
}
