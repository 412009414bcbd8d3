import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext, AudioBackend } from './context.ts';
import type { Builder } from './helpers.ts';

// Sound: the backend belongs to the host, the card to the guest. The backend is the config's
// choice, or for "auto" the desktop sound server this QEMU build has; "none" keeps the card
// in the guest but silent (QEMU's "none" audiodev), so the guest's driver still loads.

/** What "auto" tries per host OS, best first. Never ALSA: it grabs the raw card, which a sound server may hold. */
const AUTO_ORDER: Partial<Record<NodeJS.Platform, AudioBackend[]>> = {
  linux: ['pipewire', 'pa'],
  freebsd: ['pa'],
  darwin: ['coreaudio'],
  win32: ['dsound'],
};

/** What each backend is, for reasons shown to a person. */
export const AUDIO_BACKEND_NAMES: Record<Exclude<VmConfig['sound']['backend'], 'auto'>, string> = {
  none: 'no sound (silent)',
  pipewire: 'PipeWire',
  pa: 'PulseAudio',
  alsa: 'ALSA',
  coreaudio: 'CoreAudio',
  dsound: 'DirectSound',
};

/** The audiodev driver a VM gets on this host; refuses a backend this QEMU build lacks. */
export function audioBackendFor(config: VmConfig, ctx: Pick<ArgvContext, 'caps' | 'platform' | 'audioBackend'>): AudioBackend {
  const want = config.sound.backend;
  const have = ctx.caps.audiodevs;
  if (want === 'auto') {
    if (ctx.audioBackend) return ctx.audioBackend;
    // Unprobed: nothing is known to work, so stay silent rather than fail the start.
    return (have && AUTO_ORDER[ctx.platform]?.find((b) => have.includes(b))) || 'none';
  }
  if (have && !have.includes(want)) {
    throw new VireoError(
      'UNSUPPORTED',
      `this QEMU build has no ${AUDIO_BACKEND_NAMES[want]} audio driver ("${want}"; it has ${have.join(', ') || 'none'}): choose another sound backend in Settings → Sound${ctx.platform === 'linux' ? ', or install the QEMU audio modules (Debian/Ubuntu: qemu-system-gui)' : ''}`,
      { backend: want, available: have },
    );
  }
  return want;
}

export const soundArgs: Builder = (config, ctx, { need }) => {
  const device = config.sound.device;
  if (device === 'none') return [];
  const args = ['-audiodev', `${audioBackendFor(config, ctx)},id=snd0`];
  switch (device) {
    case 'hda':
      need('intel-hda', 'HD Audio');
      args.push('-device', 'intel-hda,id=sound0', '-device', 'hda-duplex,bus=sound0.0,audiodev=snd0');
      break;
    case 'ac97':
      need('AC97', 'AC97 sound');
      args.push('-device', 'AC97,id=sound0,audiodev=snd0');
      break;
    case 'sb16':
      need('sb16', 'Sound Blaster 16');
      args.push('-device', 'sb16,id=sound0,audiodev=snd0');
      break;
  }
  return args;
};
