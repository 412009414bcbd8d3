import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverQemu } from '../../electron/engine/qemu/discover.ts';
import { clearCapabilitiesMemoryCache, probeCapabilities } from '../../electron/engine/qemu/capabilities.ts';

// Discovery and the capability probe against the QEMU installed on this machine (Debian 12).

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-caps-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('QEMU on this host', () => {
  it('is discovered with qemu-img, and a minimal PATH still finds it in the usual folders', async () => {
    const found = await discoverQemu();
    expect(found.binary).toMatch(/qemu-system-x86_64$/);
    expect(found.imgBinary).toMatch(/qemu-img$/);
    const bare = await discoverQemu({ env: { PATH: dir } });
    expect(bare.source).toBe('known-dir');
    expect(bare.binary).toBe('/usr/bin/qemu-system-x86_64');
    expect(bare.imgBinary).toBe('/usr/bin/qemu-img');
  });

  it('reports its capabilities and caches them in memory and on disk', async () => {
    const { binary } = await discoverQemu();
    const cacheFile = join(dir, 'caps.json');
    const caps = await probeCapabilities(binary, { cacheFile, force: true });
    expect(caps.binary).toBe(binary);
    expect(caps.version).toMatch(/^7\.2\.\d+$/);
    expect(caps.versionParts.slice(0, 2)).toEqual([7, 2]);
    expect(caps.machines).toEqual(expect.arrayContaining(['q35', 'pc']));
    expect(caps.devices).toEqual(expect.arrayContaining(['virtio-net-pci', 'isa-debug-exit']));
    expect(caps.accels).toEqual(expect.arrayContaining(['tcg', 'kvm']));
    expect(caps.cpuModels).toEqual(expect.arrayContaining(['qemu64', 'max']));
    expect(caps.chardevs).toEqual(expect.arrayContaining(['stdio', 'socket']));

    // Answered from the caches: QEMU is not launched again (counted by a wrapper that logs each run).
    const counter = join(dir, 'runs');
    const wrapper = join(dir, 'qemu-counted');
    await writeFile(wrapper, `#!/bin/sh\necho run >> '${counter}'\nexec '${binary}' "$@"\n`, { mode: 0o755 });
    const runs = async () => (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const wrapped = await probeCapabilities(wrapper, { cacheFile, force: true });
    expect(wrapped.version).toBe(caps.version);
    const launched = await runs();
    expect(launched).toBeGreaterThan(0);
    expect(await probeCapabilities(wrapper, { cacheFile })).toBe(wrapped);
    expect(await probeCapabilities(binary, { cacheFile })).toBe(caps);
    expect(await runs()).toBe(launched);

    // A fresh process (empty memory cache) reads the file instead of launching QEMU again.
    clearCapabilitiesMemoryCache();
    expect(await probeCapabilities(wrapper, { cacheFile })).toEqual(wrapped);
    expect(await probeCapabilities(binary, { cacheFile })).toEqual(caps);
    expect(await runs()).toBe(launched);
    const disk = JSON.parse(await readFile(cacheFile, 'utf8'));
    expect(disk.entries[binary].caps.version).toBe(caps.version);
  });

  it('says what failed when the binary is not QEMU', async () => {
    await expect(probeCapabilities('/bin/false')).rejects.toMatchObject({ code: 'QEMU_FAILED' });
  });
});
