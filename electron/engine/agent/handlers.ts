import { open, rename, unlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import type { FileCopyResult } from '../../api/types.ts';
import type { EngineParts } from '../parts.ts';
import { isWeb } from '../policy/confine.ts';
import { openRegular } from '../policy/files.ts';
import { CHUNK_BYTES, MAX_COPY_BYTES } from './files.ts';

// The guest agent's API: state, exec, copies between host and guest, and uploads of a
// client's file (the web UI's dropped file, whose bytes only the browser has). Host paths a
// web caller names pass the confinement (policy/confine.ts) like every other path.

const MAX_UPLOAD_CHUNK = 1024 * 1024;

export function agentHandlers(p: EngineParts): Pick<Handlers, 'agent.status' | 'agent.exec' | 'agent.copyIn' | 'agent.copyOut' | 'agent.upload'> {
  const { agent, jobs, vms } = p;
  const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return {
    'agent.status': async (a) => agent.status(a.vm),

    'agent.exec': async (a) => {
      const input = a.input === undefined ? undefined : Buffer.from(a.input, 'base64');
      if (input && input.length > MAX_UPLOAD_CHUNK) throw new VireoError('INVALID_ARGUMENT', `stdin for the guest command is ${mib(input.length)}: at most 1 MiB; copy a file in with agent.copyIn instead`, { field: 'input' });
      return agent.exec(a.vm, a.path, a.args ?? [], { timeoutMs: a.timeoutSec === undefined ? undefined : a.timeoutSec * 1000, input, env: a.env });
    },

    'agent.copyIn': async (a, c) => {
      const entry = vms.resolve(a.vm);
      const hostPath = await p.confine.existingFile(c, a.hostPath, 'hostPath');
      // Refused before anything reaches the guest: no half-written file for a copy that cannot fit.
      const { fh, size } = await openRegular(hostPath, { what: 'file' });
      try {
        if (size > MAX_COPY_BYTES) throw new VireoError('INVALID_ARGUMENT', `${hostPath} is ${mib(size)}: at most ${mib(MAX_COPY_BYTES)} go through the guest agent; use a shared folder for bigger files`, { field: 'hostPath', size });
        await agent.requireConnected(entry.id);
        const title = `Copy ${basename(hostPath)} into "${entry.config?.name ?? entry.id}":${a.guestPath}`;
        const bytes = await jobs.run({ kind: 'file-copy', title, vmId: entry.id }, async (job) => {
          async function* chunks() {
            const buf = Buffer.alloc(CHUNK_BYTES * 8);
            for (;;) {
              const { bytesRead } = await fh.read(buf, 0, buf.length, null);
              if (bytesRead === 0) return;
              yield Buffer.from(buf.subarray(0, bytesRead));
            }
          }
          return agent.writeFile(entry.id, a.guestPath, chunks(), { signal: job.signal, onProgress: (n) => job.progress(size ? n / size : null) });
        });
        return { guestPath: a.guestPath, hostPath, bytes } satisfies FileCopyResult;
      } finally {
        await fh.close();
      }
    },

    'agent.copyOut': async (a, c) => {
      const entry = vms.resolve(a.vm);
      const hostPath = await p.confine.newFile(c, a.hostPath, 'hostPath');
      // A remote caller must not replace a file in the library (a disk image) with a guest's bytes.
      if (isWeb(c) && (await stat(hostPath).then(() => true, () => false))) {
        throw new VireoError('ALREADY_EXISTS', `${hostPath} exists: choose a new file name`, { field: 'hostPath' });
      }
      await agent.requireConnected(entry.id);
      // Into a temp file beside the target, renamed at the end: a failed copy leaves no half file.
      const tmp = join(dirname(hostPath), `.${basename(hostPath)}.vireo-${randomBytes(4).toString('hex')}`);
      const title = `Copy "${entry.config?.name ?? entry.id}":${a.guestPath} to ${hostPath}`;
      const bytes = await jobs.run({ kind: 'file-copy', title, vmId: entry.id }, async (job) => {
        await job.leftover(tmp);
        const out = await open(tmp, 'wx', 0o600);
        try {
          // The guest's size first (for progress); a guest without stat just shows "working".
          const size = await guestSize(p, entry.id, a.guestPath);
          let done = 0;
          const n = await agent.readFile(entry.id, a.guestPath, {
            signal: job.signal,
            onChunk: async (d) => {
              await out.write(d);
              done += d.length;
              job.progress(size ? Math.min(done / size, 1) : null);
            },
          });
          await out.sync();
          await out.close();
          await rename(tmp, hostPath);
          return n;
        } catch (e) {
          await out.close().catch(() => {});
          await unlink(tmp).catch(() => {});
          throw e;
        }
      });
      return { guestPath: a.guestPath, hostPath, bytes } satisfies FileCopyResult;
    },

    'agent.upload': async (a) => {
      const data = Buffer.from(a.data, 'base64');
      if (data.length > MAX_UPLOAD_CHUNK) throw new VireoError('INVALID_ARGUMENT', `an upload chunk is ${mib(data.length)}: send at most 1 MiB per call`, { field: 'data' });
      if (a.offset + data.length > MAX_COPY_BYTES) throw new VireoError('INVALID_ARGUMENT', `${a.guestPath} would pass ${mib(MAX_COPY_BYTES)}, the most that goes through the guest agent: use a shared folder for bigger files`, { field: 'offset' });
      if (a.offset > 0) {
        // Appending is only right after exactly the bytes sent so far; anything else (a lost
        // or repeated chunk) would corrupt the file silently.
        const have = await guestSize(p, a.vm, a.guestPath);
        if (have !== null && have !== a.offset) throw new VireoError('INVALID_STATE', `${a.guestPath} holds ${have} bytes in the guest, not ${a.offset}: start the upload again from 0`, { field: 'offset', have });
      }
      await agent.writeFile(a.vm, a.guestPath, [data], { mode: a.offset === 0 ? 'w' : 'a' });
      return { guestPath: a.guestPath, hostPath: null, bytes: a.offset + data.length } satisfies FileCopyResult;
    },
  };
}

/** A guest file's size through the agent's exec (`stat -c %s`), or null where that fails. */
async function guestSize(p: EngineParts, vm: string, guestPath: string): Promise<number | null> {
  const r = await p.agent.exec(vm, 'stat', ['-c', '%s', guestPath], { timeoutMs: 15_000 }).catch(() => null);
  const n = r && r.exitCode === 0 ? Number(r.stdout.trim()) : NaN;
  return Number.isFinite(n) ? n : null;
}
