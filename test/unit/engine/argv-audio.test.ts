import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VireoError } from '../../../electron/api/errors.ts';
import { AUDIO_BACKENDS } from '../../../electron/shared/config-enums.ts';
import { buildArgv, makeHelpers } from '../../../electron/engine/qemu/argv/index.ts';
import { audioBackendFor, soundArgs } from '../../../electron/engine/qemu/argv/sound.ts';
import { parseAudiodevs } from '../../../electron/engine/qemu/capabilities.ts';
import { CAPS_7_2, cfg, contextFor, type Case } from './golden/fixtures.ts';

// The host audio backend per choice: a golden file per backend (golden/sound-backends/),
// "auto" choosing what the QEMU build has, "none" keeping the card silent, and a backend the
// build lacks refused with what to do. Regenerate with VIREO_UPDATE_GOLDEN=1.

const DIR = join(import.meta.dirname, 'golden', 'sound-backends');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';
const ALL_DRIVERS = ['none', 'alsa', 'pa', 'pipewire', 'coreaudio', 'dsound'];
const PLATFORM: Record<string, NodeJS.Platform> = { coreaudio: 'darwin', dsound: 'win32' };

const caseFor = (backend: string, device = 'hda', audiodevs = ALL_DRIVERS, platform: NodeJS.Platform = PLATFORM[backend] ?? 'linux'): Case => ({
  config: cfg({ name: `sound ${backend}`, sound: { device, backend } }),
  ctx: { accel: 'tcg', caps: { ...CAPS_7_2, audiodevs }, platform },
});
/** The sound builder's own output, as the per-concern goldens take it. */
const soundOf = (c: Case) => {
  const ctx = contextFor(c);
  return soundArgs(c.config, ctx, makeHelpers(c.config, ctx));
};

describe('sound backends in argv', () => {
  for (const backend of AUDIO_BACKENDS) {
    it(`${backend}: golden`, () => {
      const c = caseFor(backend, 'hda', backend === 'auto' ? ['none', 'alsa', 'oss'] : ALL_DRIVERS);
      const argv = soundOf(c);
      const file = join(DIR, `${backend}.argv.json`);
      if (update) {
        mkdirSync(DIR, { recursive: true });
        writeFileSync(file, JSON.stringify(argv, null, 2) + '\n');
      }
      if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1`);
      expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      expect(argv[1]).toBe(`${backend === 'auto' ? 'none' : backend},id=snd0`);
    });
  }

  it('"none" keeps the card, silent: the guest still has its sound device', () => {
    const argv = buildArgv(caseFor('none').config, contextFor(caseFor('none')));
    expect(argv).toContain('none,id=snd0');
    expect(argv).toContain('hda-duplex,bus=sound0.0,audiodev=snd0');
  });

  it('"auto" picks the desktop sound server the build has, per host OS, never raw ALSA', () => {
    const pick = (audiodevs: string[] | undefined, platform: NodeJS.Platform) =>
      audioBackendFor(caseFor('auto').config, { caps: { ...CAPS_7_2, ...(audiodevs ? { audiodevs } : {}) }, platform });
    expect(pick(['none', 'alsa', 'pa', 'pipewire'], 'linux')).toBe('pipewire');
    expect(pick(['none', 'alsa', 'pa'], 'linux')).toBe('pa');
    expect(pick(['none', 'alsa', 'oss'], 'linux')).toBe('none');
    expect(pick(['none', 'coreaudio'], 'darwin')).toBe('coreaudio');
    expect(pick(['none', 'dsound'], 'win32')).toBe('dsound');
    expect(pick(undefined, 'linux')).toBe('none');
  });

  it('refuses a backend this QEMU build lacks, naming what it has and the package to add', () => {
    let err: unknown;
    try {
      buildArgv(caseFor('pa', 'hda', ['none', 'alsa']).config, contextFor(caseFor('pa', 'hda', ['none', 'alsa'])));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VireoError);
    expect((err as VireoError).code).toBe('UNSUPPORTED');
    expect((err as VireoError).message).toContain('PulseAudio');
    expect((err as VireoError).message).toContain('it has none, alsa');
    expect((err as VireoError).message).toContain('qemu-system-gui');
  });

  it('emits no audiodev without a sound card', () => {
    const c = caseFor('pipewire', 'none');
    expect(buildArgv(c.config, contextFor(c))).not.toContain('-audiodev');
  });

  it('reads the drivers from `-audiodev help` (Debian 7.2 without qemu-system-gui)', () => {
    expect(parseAudiodevs('Available audio drivers:\nnone\nalsa\ndbus\noss\nsndio\nspice\nwav\n')).toEqual(['none', 'alsa', 'dbus', 'oss', 'sndio', 'spice', 'wav']);
  });
});
