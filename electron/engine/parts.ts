import type { EventBus } from '../api/dispatch.ts';
import type { AgentService } from './agent/service.ts';
import type { CloneService } from './clone/clone.ts';
import type { DisplayBridge } from './display/bridge.ts';
import type { HostService } from './host.ts';
import type { Jobs } from './jobs.ts';
import type { Library } from './library/library.ts';
import type { Confinement } from './policy/confine.ts';
import type { SnapshotService } from './snapshots/service.ts';
import type { VmService } from './vm/service.ts';

// What a feature area's handlers may use of the engine. Each area (agent, networks, shares…)
// exports `<area>Handlers(parts): Pick<Handlers, …its methods…>` from its own folder and
// index.ts spreads it into the one Handlers table, so the contract stays checked as a whole
// (a method without a handler is a type error) while index.ts does not grow with every area.
export interface EngineParts {
  home: string;
  /** the short runtime folder for this library's sockets */
  rtRoot: string;
  resourcesDir: string;
  library: Library;
  vms: VmService;
  host: HostService;
  jobs: Jobs;
  bus: EventBus;
  snapshots: SnapshotService;
  clones: CloneService;
  bridge: DisplayBridge;
  confine: Confinement;
  /** the guest agent of each running VM (agent/service.ts: exec, files, freeze, shutdown) */
  agent: AgentService;
}
