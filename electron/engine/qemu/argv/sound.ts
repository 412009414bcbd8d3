import type { Builder } from './helpers.ts';

// Sound: the backend belongs to the host (ctx.audioBackend), the card to the guest.

export const soundArgs: Builder = (config, ctx, { need }) => {
  const device = config.sound.device;
  if (device === 'none') return [];
  const args = ['-audiodev', `${ctx.audioBackend ?? 'none'},id=snd0`];
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
