import { VireoError } from '../../api/errors.ts';
import { child, parseXml, textOf } from './xml.ts';
import type { Virsh } from './virsh.ts';

// The serial console of a libvirt domain. `virsh console` needs a tty, so Vireo-made domains
// get their serial as a unix socket QEMU serves (plus a <log file> of its output), which the
// display bridge's serial hub dials like a local VM's serial.sock. libvirt 9.0 makes no path
// for a serial's unix socket itself, so Vireo names one in a directory the domain's QEMU may
// write: the storage pool's directory for a session daemon (the user's own), libvirt's QEMU
// state directory for the system daemon (/var/lib/libvirt/qemu, owned by its QEMU user);
// dot-named, so they stay out of the way. A socket path longer than a unix socket can take
// keeps the pty serial, which the result lists.

/** sockaddr_un's sun_path holds 108 bytes with its NUL. */
const SUN_PATH_MAX = 107;

export interface SerialPaths {
  socket: string;
  log: string;
}

/** Where a domain's serial socket and log go, or null (with why) when no usable path fits. */
export function serialPaths(uri: string, poolDir: string, name: string, id: string): SerialPaths | { problem: string } {
  const dir = /^qemu(\+[a-z0-9]+)?:\/\/[^/]*\/system(\?|$)/i.test(uri) ? '/var/lib/libvirt/qemu' : poolDir.replace(/\/+$/, '');
  const base = `${dir}/.${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${id.slice(0, 8)}.serial`;
  if (Buffer.byteLength(`${base}.sock`) > SUN_PATH_MAX) return { problem: `serial console: a unix socket in ${dir} would be longer than ${SUN_PATH_MAX} bytes, so it stays a pty (virsh console on the host)` };
  return { socket: `${base}.sock`, log: `${base}.log` };
}

/** A pool's directory on the host (its <target><path>). */
export async function poolDir(v: Virsh, pool: string): Promise<string> {
  const path = textOf(child(child(parseXml(await v.run(['pool-dumpxml', '--pool', pool])), 'target'), 'path'));
  if (!path) throw new VireoError('UNSUPPORTED', `storage pool "${pool}" at ${v.uri} has no directory: Vireo puts disks in a directory pool (virsh pool-define-as NAME dir --target DIR)`, { field: 'pool' });
  return path;
}

/** Why a domain's serial console cannot be opened through Vireo, or null when it can. */
export function consoleProblem(serial: { type: string; socket: string | null } | null, domain: string): string | null {
  if (!serial) return `${domain} has no serial port: add one (Vireo-made domains have it when the VM's serial console is on)`;
  if (serial.type === 'unix' && serial.socket) return null;
  if (serial.type === 'pty') return `not yet: ${domain}'s serial is a pty on the host, which only a terminal on the host reads (virsh console ${domain}); Vireo reaches a serial given as <serial type='unix'><source mode='bind' path='…'/></serial>, as Vireo-made domains have it`;
  return `not yet: ${domain}'s serial is of type "${serial.type}", which Vireo does not reach; give it <serial type='unix'><source mode='bind' path='…'/></serial>`;
}
