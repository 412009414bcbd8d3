import type { AccelName } from '../../api/types.ts';
import type { HelperProcess } from './helpers.ts';
import type { QmpClient } from '../qmp/client.ts';

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
  /**
   * QEMU takes its state in: from a saved state's open file as fd 3 (argv carries `-incoming fd:3`),
   * or from another engine's live migration (`-incoming defer`; `receive` sets it up and returns once it is all in)
   */
  incoming?: { fd?: number; resumeRunning: boolean; loaded?: () => Promise<void>; receive?: (qmp: QmpClient) => Promise<void> };
}
