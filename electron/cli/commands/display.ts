import type { CliKit, Registrar } from '../kit.ts';

// `vireo type VM TEXT`: the screen's "Type text" from a script (an installer's prompt, a
// Windows setup field), as key presses of a US keyboard.
export const registerDisplay: Registrar = (kit: CliKit) => {
  kit.program
    .command('type <vm> <text>')
    .description('type a text into the VM as key presses of a US keyboard (for installers and setup screens)')
    .option('--enter', 'press Enter after the text')
    .option('--enter-escapes', 'read \\n as Enter and \\t as Tab inside the text')
    .action(kit.action(async (vm: string, text: string, opts: { enter?: boolean; enterEscapes?: boolean }) => {
      let t = opts.enterEscapes ? text.replace(/\\n/g, '\n').replace(/\\t/g, '\t') : text;
      if (opts.enter) t += '\n';
      const r = await kit.call('vms.typeText', { vm, text: t });
      kit.print(r, ((x: { typed: number }) => `typed ${x.typed} key${x.typed === 1 ? '' : 's'} into ${vm}`) as (r: never) => string);
    }));
};
