import { createConnection } from 'node:net';
import { statSync } from 'node:fs';
import { ownerSocketPath, resolveHome, runtimeRoot } from '../engine/paths.ts';
import { lineSplitter } from '../shared/lines.ts';
import { formatList, formatVm } from './output.ts';
import type { VmDetails, VmSummary } from '../api/types.ts';

// `vireo list` and `vireo show <vm>` while an engine owns the library (the app, `vireo serve`,
// a long CLI command): asked over the owner's socket by this small module alone, so the call
// costs about a bare `node` start instead of loading the whole CLI (commander, zod, the
// contract, the engine). bin/vireo.js tries it first; `false` means "not mine" (another
// command, options this parser does not know, no owner running, an owner that is leaving)
// and the full CLI runs the command as always, with the same output and exit codes.
// The frames are the owner socket's (engine/owner/server.ts); the owner parses the arguments.

interface Parsed {
  method: 'vms.list' | 'vms.get';
  args: Record<string, unknown>;
  home?: string;
  json: boolean;
}

function parse(argv: string[]): Parsed | null {
  const words: string[] = [];
  let home: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--home' && i + 1 < argv.length) home = argv[++i];
    else if (a.startsWith('--home=')) home = a.slice('--home='.length);
    else if (a.startsWith('-')) return null; // --help and anything else: the full CLI's
    else words.push(a);
  }
  if (words.length === 1 && (words[0] === 'list' || words[0] === 'ls')) return { method: 'vms.list', args: {}, home, json };
  if (words.length === 2 && words[0] === 'show') return { method: 'vms.get', args: { vm: words[1] }, home, json };
  return null;
}

type Answer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } } | null;

/** One call on the owner's socket; null when there is no owner to ask or it did not run it. */
function ask(path: string, method: string, args: unknown, timeoutMs = 3000): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.setEncoding('utf8');
    let greeted = false;
    let settled = false;
    const done = (a: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    // A hung owner: let the full CLI deal with it (it waits and says who holds the library).
    const timer = setTimeout(() => done(null), timeoutMs);
    const lines = lineSplitter((line) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (!greeted) {
        if (!f.hello) return done(null);
        greeted = true;
        sock.write(JSON.stringify({ id: 1, method, args }) + '\n');
        return;
      }
      if ('bye' in f) return done(null); // shutting down: our call was not run
      if (f.id !== 1) return; // events
      if ('result' in f) done({ ok: true, result: f.result });
      else done({ ok: false, error: f.error as { code: string; message: string } });
    });
    sock.on('data', (chunk: string) => lines.push(chunk));
    sock.on('error', () => done(null));
    // Closed before answering: either nothing was sent (safe for the full CLI to send it) or
    // a read-only call was lost with its owner (also safe to send again).
    sock.on('close', () => done(null));
  });
}

/** Runs `list`/`show` through a running owner; false when the full CLI must run the command. */
export async function quick(argv: string[]): Promise<boolean> {
  const p = parse(argv);
  if (!p) return false;
  const home = resolveHome(p.home);
  const sock = ownerSocketPath(runtimeRoot(home), home);
  try {
    if (process.platform !== 'win32' && !statSync(sock).isSocket()) return false;
  } catch {
    return false; // no owner: the full CLI owns the library for this command
  }
  const a = await ask(sock, p.method, p.args);
  if (!a) return false;
  if (!a.ok) {
    // A retryable BUSY (the owner handing over) is the full CLI's: it waits for the next owner.
    if (a.error.code === 'BUSY') return false;
    if (p.json) process.stderr.write(JSON.stringify({ code: a.error.code, message: a.error.message }) + '\n');
    else process.stderr.write(`vireo: ${a.error.message} (${a.error.code})\n`);
    process.exitCode = 1;
    return true;
  }
  const human = p.method === 'vms.list' ? formatList(a.result as VmSummary[]) : formatVm(a.result as VmDetails);
  process.stdout.write((p.json ? JSON.stringify(a.result, null, 2) : human) + '\n');
  return true;
}
