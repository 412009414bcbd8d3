import { CommanderError } from 'commander';
import type { GroupList, GroupRunResult } from '../../api/library-types.ts';
import type { VmSummary } from '../../api/types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo group add|ls|rm|rename|mv|start|stop`: the library's groups (engine/library/), the
// folders of the app's sidebar. start/stop exit 1 when a VM of the group failed.

const human = <T>(f: (r: T) => string) => f as (r: never) => string;

export function formatGroups(l: GroupList, vms: VmSummary[]): string {
  if (!l.groups.length) return 'no groups (create one with vireo group add NAME)';
  const name = (id: string) => vms.find((v) => v.id === id)?.name ?? id;
  return l.groups.map((g) => `${g.name}\t${g.vms.length ? g.vms.map(name).join(', ') : '(empty)'}`).join('\n');
}

export const formatRun = (verb: string) => (r: GroupRunResult) =>
  r.results.length
    ? r.results.map((x) => `${x.name}: ${x.outcome === 'done' ? verb : x.outcome === 'skipped' ? `skipped (${x.message})` : `FAILED: ${x.message}`}`).join('\n')
    : `group "${r.group}" has no VMs`;

export const registerGroups: Registrar = (kit: CliKit) => {
  const group = kit.program.command('group').description("the library's groups of VMs (the sidebar's folders)");
  const list = async (l: GroupList) => kit.print(l, human((x: GroupList) => formatGroups(x, [])));
  const withNames = async (l: GroupList) => {
    const vms = await kit.call('vms.list', {});
    kit.print(l, human((x: GroupList) => formatGroups(x, vms)));
  };

  group.command('ls').description('list the groups and their VMs').action(kit.action(async () => withNames(await kit.call('groups.list', {}))));
  group.command('add <name>').description('create an empty group').action(kit.action(async (name: string) => list(await kit.call('groups.create', { name }))));
  group.command('rm <group>').description('delete a group (its VMs stay, in no group)').action(kit.action(async (g: string) => list(await kit.call('groups.delete', { group: g }))));
  group.command('rename <group> <name>').description('rename a group').action(kit.action(async (g: string, name: string) => list(await kit.call('groups.rename', { group: g, name }))));
  group
    .command('mv <vm> [group]')
    .description('move a VM into a group (out of any other); --none takes it out of its group')
    .option('--none', 'into no group')
    .action(kit.action(async (vm: string, g: string | undefined, o: { none?: boolean }) => {
      if (!g === !o.none) {
        process.stderr.write('vireo: name the group to move the VM into, or give --none to take it out of its group\n');
        throw new CommanderError(2, 'vireo.usage', 'group mv needs a group or --none');
      }
      await withNames(await kit.call('groups.move', { vm, group: g ?? null }));
    }));
  const run = (what: 'start' | 'stop') => async (g: string, o: { force?: boolean }) => {
    const r = what === 'start' ? await kit.call('groups.start', { group: g }) : await kit.call('groups.stop', { group: g, ...(o.force ? { force: true } : {}) });
    if (r.results.some((x) => x.outcome === 'failed')) process.exitCode = 1;
    kit.print(r, human(formatRun(what === 'start' ? 'started' : 'stopped')));
  };
  group.command('start <group>').description("start the group's stopped VMs (templates are skipped)").action(kit.action(run('start')));
  group.command('stop <group>').description("shut down the group's running VMs together").option('--force', 'power off at once').action(kit.action(run('stop')));
};
