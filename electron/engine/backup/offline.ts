import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { QmpClient } from '../qmp/client.ts';
import { cleanEnv, dieWithParent } from '../util/proc.ts';
import { qemuOptEscape as esc } from '../qemu/argv/escape.ts';

// A stopped VM's images opened by qemu-storage-daemon (QEMU's block layer without a machine),
// so offline backups take the same QMP path as live ones: the persistent bitmaps in the qcow2
// files are read and written by QEMU itself, never guessed at from outside. The daemon dies
// with the engine (a kill -9 leaves no process holding the VM's images locked).

export interface OfflineImage {
  node: string;
  path: string;
}

export interface StorageDaemon {
  qmp: QmpClient;
  /** SIGTERM and wait: the daemon writes its persistent bitmaps into the images as it closes them */
  close(): Promise<void>;
}

export function storageDaemonBinary(qemuImg: string): string {
  const beside = join(dirname(qemuImg), 'qemu-storage-daemon');
  return qemuImg.includes('/') && existsSync(beside) ? beside : 'qemu-storage-daemon';
}

export async function openStorageDaemon(binary: string, images: OfflineImage[], socket: string): Promise<StorageDaemon> {
  await rm(socket, { force: true });
  const args: string[] = [];
  for (const i of images) {
    args.push('--blockdev', `driver=file,node-name=${i.node}-file,filename=${esc(i.path)}`);
    args.push('--blockdev', `driver=qcow2,node-name=${i.node},file=${i.node}-file`);
  }
  args.push('--chardev', `socket,id=vireo-mon,path=${esc(socket)},server=on,wait=off`, '--monitor', 'chardev=vireo-mon');
  const [cmd, argv] = dieWithParent(binary, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: cleanEnv(), shell: false });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(new VireoError('TOOL_FAILED', e.code === 'ENOENT' ? `${binary} was not found: install qemu-system-common (qemu-storage-daemon) to back up stopped VMs` : `could not run ${binary}: ${e.message}`)));
    void exited.then((code) => reject(new VireoError('TOOL_FAILED', `qemu-storage-daemon exited (${code}) before it could back up: ${stderr.trim() || 'no message'}`, { argv: [binary, ...args] })));
  });
  failed.catch(() => {});
  let qmp: QmpClient;
  try {
    qmp = await Promise.race([QmpClient.connect(socket, { retryUntilMs: 15_000, timeoutMs: 20_000 }), failed]);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(socket, { force: true });
    throw e;
  }
  return {
    qmp,
    async close() {
      qmp.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
      await rm(socket, { force: true });
    },
  };
}
