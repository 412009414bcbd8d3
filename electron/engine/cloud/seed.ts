import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { VireoError } from '../../api/errors.ts';
import type { CloudInitConfig } from '../../api/schemas/cloud-init.ts';
import { buildIso, type IsoFile } from './iso9660.ts';

// The NoCloud seed: meta-data, user-data and optional network-config on an ISO 9660 volume
// labelled `cidata`, which cloud-init's NoCloud datasource finds by its label. Everything here
// is a pure function of the VM's cloudInit settings, its id and its creation time, so the seed
// written before every start has the same bytes until the settings change.

export interface SeedInput {
  vmId: string;
  createdAt: string;
  cloud: CloudInitConfig;
}

/**
 * cloud-init runs its once-per-instance modules (users, keys, packages, runcmd) when the
 * instance-id changes. It carries a digest of the settings, so a changed password, key or
 * user-data is applied on the next boot, while an unchanged seed does not redo first boot.
 */
export function instanceId(input: SeedInput): string {
  const digest = createHash('sha256').update(JSON.stringify(input.cloud)).digest('hex').slice(0, 12);
  return `vireo-${input.vmId}-${digest}`;
}

export function metaData(input: SeedInput): string {
  return stringify({ 'instance-id': instanceId(input), 'local-hostname': input.cloud.hostname });
}

/** What the engine itself asks of cloud-init, before the user's additions. */
function engineCloudConfig(c: CloudInitConfig): Record<string, unknown> {
  const user: Record<string, unknown> = {
    name: c.user,
    shell: '/bin/bash',
    // Both Debian's sudo and Fedora's wheel set-ups honour a sudoers line; no group needed.
    sudo: 'ALL=(ALL) NOPASSWD:ALL',
    lock_passwd: c.passwordHash === null,
    ...(c.passwordHash ? { passwd: c.passwordHash } : {}),
    ...(c.sshAuthorizedKeys.length ? { ssh_authorized_keys: c.sshAuthorizedKeys } : {}),
  };
  return {
    hostname: c.hostname,
    preserve_hostname: false,
    users: [user],
    ssh_pwauth: c.passwordHash !== null,
    ...(c.installAgent
      ? {
          // The agent gives Vireo addresses, exec, clean shutdown: installed where the image
          // lacks it (apt/dnf skip what is there), then started (packages do not start it).
          packages: ['qemu-guest-agent'],
          runcmd: ['systemctl enable --now qemu-guest-agent || service qemu-guest-agent start || true'],
        }
      : {}),
  };
}

/**
 * The user's #cloud-config merged into the engine's: lists append (packages, runcmd,
 * write_files, users), mappings merge key by key, any other value of the user's wins.
 */
function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    if (Array.isArray(b) && Array.isArray(v)) out[k] = [...b, ...v];
    else if (isMap(b) && isMap(v)) out[k] = { ...b, ...v };
    else out[k] = v;
  }
  return out;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The user-data file: one #cloud-config, or a MIME multipart when the user's part is not cloud-config. */
export function userData(c: CloudInitConfig): string {
  const ours = engineCloudConfig(c);
  const extra = c.userData.trim();
  const dump = (doc: Record<string, unknown>) => `#cloud-config\n${stringify(doc, { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })}`;
  if (!extra) return dump(ours);
  const first = extra.split('\n', 1)[0]!.trim();
  if (first === '#cloud-config') {
    let doc: unknown;
    try {
      doc = parse(extra);
    } catch (e) {
      throw new VireoError('INVALID_ARGUMENT', `the extra user-data is not valid YAML: ${(e as Error).message.split('\n')[0]}; fix it (it is merged into Vireo's #cloud-config)`, { field: 'userData' });
    }
    if (doc === null || doc === undefined) return dump(ours);
    if (!isMap(doc)) throw new VireoError('INVALID_ARGUMENT', 'the extra #cloud-config must be a mapping (key: value lines), not a list or a single value', { field: 'userData' });
    return dump(merge(ours, doc));
  }
  const type = partType(first);
  if (!type) {
    throw new VireoError('INVALID_ARGUMENT', `extra user-data must start with #cloud-config, #! (a script), #cloud-boothook or #include (got "${first.slice(0, 40)}")`, { field: 'userData' });
  }
  // cloud-init runs each part of a multipart message by its type; ours stays a cloud-config.
  const boundary = `vireo-${createHash('sha256').update(extra).digest('hex').slice(0, 24)}`;
  const part = (t: string, body: string) => `--${boundary}\nContent-Type: ${t}; charset="utf-8"\nMIME-Version: 1.0\n\n${body.endsWith('\n') ? body : `${body}\n`}`;
  return [
    'Content-Type: multipart/mixed; boundary="' + boundary + '"',
    'MIME-Version: 1.0',
    '',
    part('text/cloud-config', dump(ours)),
    part(type, extra),
    `--${boundary}--`,
    '',
  ].join('\n');
}

function partType(firstLine: string): string | null {
  if (firstLine.startsWith('#!')) return 'text/x-shellscript';
  if (firstLine === '#cloud-boothook') return 'text/cloud-boothook';
  if (firstLine === '#include') return 'text/x-include-url';
  return null;
}

/** The seed's files (checked: a bad extra user-data fails here, before anything is written). */
export function seedFiles(input: SeedInput): IsoFile[] {
  const files: IsoFile[] = [
    { name: 'meta-data', data: Buffer.from(metaData(input)) },
    { name: 'user-data', data: Buffer.from(userData(input.cloud)) },
  ];
  if (input.cloud.networkConfig !== null) {
    try {
      if (!isMap(parse(input.cloud.networkConfig))) throw new Error('not a mapping');
    } catch (e) {
      throw new VireoError('INVALID_ARGUMENT', `network-config is not a YAML mapping (version: 1 or 2 …): ${(e as Error).message.split('\n')[0]}`, { field: 'networkConfig' });
    }
    files.push({ name: 'network-config', data: Buffer.from(input.cloud.networkConfig) });
  }
  return files;
}

/** The whole `cidata` ISO. */
export function seedIso(input: SeedInput): Buffer {
  const date = new Date(input.createdAt);
  return buildIso(seedFiles(input), { volumeId: 'cidata', date: Number.isNaN(date.getTime()) ? new Date(0) : date });
}
