import type { AccelName } from '../../api/types.ts';
import type { HelperProcess } from './helpers.ts';

/** What a backend hands Machine.start: the QEMU to run, how, and what comes with it. */
export interface LaunchSpec {
  binary: string;
  argv: string[];
  accel: AccelName;
  accelReason: string;
  /** started in order before QEMU, rolled back in reverse, stopped after QEMU exits */
  helpers?: HelperProcess[];
  /** applied to the process once it runs (pinning, priority) */
  afterSpawn?: (pid: number) => void;
  /** resume from a saved state: the open state file, QEMU's fd 3 (argv carries `-incoming fd:3`) */
  incoming?: { fd: number; resumeRunning: boolean; loaded?: () => Promise<void> };
}
