import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import { SHARE_TAG_RE, type Share, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { ShareMountResult, SharesAvailability, SharesList } from '../../api/types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import { availabilityFrom, hostShareFacts, shareRefusal, type HostFacts } from './availability.ts';
import { findGuestTools } from './guest-tools.ts';
import { defaultMountPoint, linuxMountArgv, mountHint } from './mount.ts';

// The shares area's methods: a VM's shared folders (list, add, remove, mount through the
// guest agent) and the Windows guest tools. Settings changes go through vms.update with the
// caller's confinement, like every other settings change, so a web caller's folder is checked
// by policy/confine.ts whichever method it uses.

type SharesMethods = 'shares.list' | 'shares.add' | 'shares.remove' | 'shares.mount' | 'guestTools.list' | 'guestTools.attach';

const FACTS_TTL_MS = 30_000;

/** The folder's name as a tag: the guest mounts by it, so only safe characters, unique in the VM. */
export function tagFor(path: string, taken: readonly Pick<Share, 'tag'>[]): string {
  const base = basename(path).replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 28) || 'share';
  let tag = base;
  for (let n = 2; taken.some((s) => s.tag === tag); n++) tag = `${base}-${n}`;
  return tag;
}

export interface SharesArea {
  handlers: Pick<Handlers, SharesMethods>;
  /** for host.info */
  availability(refresh?: boolean): Promise<SharesAvailability>;
  /** for vms.get */
  list(ref: string): Promise<SharesList>;
}

export function sharesArea(p: EngineParts): SharesArea {
  let cached: { at: number; facts: Promise<HostFacts> } | null = null;
  const facts = (refresh = false) => {
    if (refresh || !cached || Date.now() - cached.at > FACTS_TTL_MS) cached = { at: Date.now(), facts: hostShareFacts(() => p.host.capabilities()) };
    return cached.facts;
  };
  const availability = async (refresh = false) => availabilityFrom(await facts(refresh));

  const configOf = (entry: LibraryEntry): VmConfig => {
    if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
    return entry.config;
  };

  const list = async (ref: string): Promise<SharesList> => {
    const entry = p.vms.resolve(ref);
    const f = await facts();
    const a = availabilityFrom(f);
    const shares = (entry.config?.shares ?? []).map((s) => {
      const reason = shareRefusal(s, a, f);
      return { ...s, available: !reason, reason, mount: mountHint(s, entry.config!.os.family) };
    });
    return { shares, availability: a };
  };

  const mount = async (vmRef: string, tag: string | undefined, mountPoint: string | undefined): Promise<ShareMountResult[]> => {
    const entry = p.vms.resolve(vmRef);
    const config = configOf(entry);
    const targets = tag ? config.shares.filter((s) => s.tag === tag) : config.shares;
    if (tag && !targets.length) throw notFound(config, tag);
    if (!targets.length) throw new VireoError('NOT_FOUND', `"${config.name}" has no shared folders: add one first (vireo share add)`, { vm: entry.id });
    if (mountPoint && targets.length > 1) throw new VireoError('INVALID_ARGUMENT', 'a mount point goes with one share: name its tag too', { field: 'mountPoint' });
    if (!p.vms.machineFor(entry).isActive) throw new VireoError('INVALID_STATE', `"${config.name}" is not running: start it, then mount its shares`, { vm: entry.id });
    if (config.os.family !== 'linux') {
      const hint = mountHint(targets[0]!, config.os.family);
      throw new VireoError('UNSUPPORTED', `shares are mounted through the agent only in Linux guests ("${config.name}" is ${config.os.family}): ${[...hint.commands, hint.note].filter(Boolean).join('; ')}`, { family: config.os.family });
    }
    const out: ShareMountResult[] = [];
    for (const s of targets) {
      const mp = mountPoint ?? defaultMountPoint(s, 'linux');
      const argv = linuxMountArgv(s, mp);
      // Two programs, no shell: the guest may have none, and nothing needs quoting.
      const exec = async (cmd: string[]) => {
        try {
          const r = await p.agent.exec(entry.id, cmd[0]!, cmd.slice(1), { timeoutMs: 30_000 });
          return { argv: cmd, exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
        } catch (e) {
          const err = e as VireoError;
          throw new VireoError(err.code ?? 'UNSUPPORTED', `cannot mount share "${s.tag}" through the guest agent: ${err.message}; or run it in the guest yourself: mkdir -p ${mp} && ${argv.join(' ')}`, { tag: s.tag });
        }
      };
      const mk = await exec(['mkdir', '-p', mp]);
      const r = mk.exitCode === 0 ? await exec(argv) : mk;
      out.push({ tag: s.tag, mountPoint: mp, ...r });
    }
    return out;
  };

  const handlers: Pick<Handlers, SharesMethods> = {
    'shares.list': (a) => list(a.vm),
    'shares.add': async (a, c) => {
      const entry = p.vms.resolve(a.vm);
      const config = configOf(entry);
      if (a.tag !== undefined && !SHARE_TAG_RE.test(a.tag)) {
        throw new VireoError('INVALID_ARGUMENT', `tag "${a.tag}" is not usable: 1-31 letters, digits, "_", "." or "-", starting with a letter or digit`, { field: 'tag' });
      }
      // A web caller's folder: its real path, inside the library or a media root (policy/confine.ts).
      const path = await p.confine.folder(c, a.path, 'path');
      const st = await stat(path).catch(() => null);
      if (!st) throw new VireoError('NOT_FOUND', `${path} does not exist: create the folder first, or check the path`, { field: 'path', path });
      if (!st.isDirectory()) throw new VireoError('INVALID_ARGUMENT', `${path} is not a folder: a share is a whole folder`, { field: 'path', path });
      const clash = a.tag && config.shares.find((s) => s.tag === a.tag);
      if (clash) throw new VireoError('INVALID_ARGUMENT', `tag "${a.tag}" is already used by the share of ${clash.path}: choose another tag`, { field: 'tag' });
      const share: Share = { tag: a.tag ?? tagFor(path, config.shares), path, readOnly: !!a.readOnly, type: a.type ?? '9p' };
      // Refused now rather than a VM that would not start later.
      const f = await facts();
      const why = shareRefusal(share, availabilityFrom(f), f);
      if (why) throw new VireoError('UNSUPPORTED', why, { field: 'type', type: share.type });
      await p.vms.update(entry.id, { shares: [...config.shares, share] }, (before, after, dir) => p.confine.vmConfig(c, dir, before, after));
      return list(entry.id);
    },
    'shares.remove': async (a, c) => {
      const entry = p.vms.resolve(a.vm);
      const config = configOf(entry);
      if (!config.shares.some((s) => s.tag === a.tag)) throw notFound(config, a.tag);
      await p.vms.update(entry.id, { shares: config.shares.filter((s) => s.tag !== a.tag) }, (before, after, dir) => p.confine.vmConfig(c, dir, before, after));
      return list(entry.id);
    },
    'shares.mount': async (a) => ({ results: await mount(a.vm, a.tag, a.mountPoint) }),
    'guestTools.list': () => findGuestTools(),
    'guestTools.attach': async (a) => {
      // Only what the search found: the path never reaches the CD drive otherwise, so a web
      // caller cannot attach an arbitrary host file through this method.
      const info = await findGuestTools();
      const hit = info.found.find((t) => t.path === a.path);
      if (!hit) {
        const offered = info.found.filter((t) => t.attachable).map((t) => t.path);
        throw new VireoError('NOT_FOUND', `${a.path} is not one of the guest tools found on this host (${offered.join(', ') || 'none found'}): ${info.guidance ?? 'choose one of those'}`, { path: a.path, offered });
      }
      if (!hit.attachable) throw new VireoError('INVALID_ARGUMENT', `${hit.name} is ${hit.note}`, { path: a.path });
      return p.vms.changeMedia(a.vm, hit.path);
    },
  };
  return { handlers, availability, list };
}

function notFound(config: VmConfig, tag: string): VireoError {
  const tags = config.shares.map((s) => s.tag);
  return new VireoError('NOT_FOUND', `"${config.name}" has no shared folder with tag "${tag}" (${tags.length ? `its tags: ${tags.join(', ')}` : 'it has none'})`, { tag, tags });
}
