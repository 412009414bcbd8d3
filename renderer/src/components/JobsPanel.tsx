import type { Job } from '../../../electron/api/types.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { formatWhen } from '../lib/format.ts';
import { formatBytes } from '../../../electron/shared/size.ts';
import { formatTimeLeft } from '../../../electron/shared/job-progress.ts';
import { Button, ErrorAlert, Progress, cx } from './ui.tsx';

/** "120 MiB of 256 MiB · about 12 s left": what a running job has done and has left, where known. */
export function jobDetail(j: Pick<Job, 'state' | 'bytesDone' | 'bytesTotal' | 'etaSec'>): string | null {
  if (j.state !== 'running') return null;
  const parts = [
    j.bytesTotal != null && j.bytesDone != null ? `${formatBytes(j.bytesDone)} of ${formatBytes(j.bytesTotal)}` : null,
    formatTimeLeft(j.etaSec),
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : null;
}

const STATE_TEXT: Record<Job['state'], string> = { running: 'Running', done: 'Done', failed: 'Failed', cancelled: 'Cancelled', interrupted: 'Interrupted (engine stopped)' };

export function JobsPanel({ jobs }: { jobs: Job[] }) {
  const client = useClient();
  const { report } = useErrors();
  if (!jobs.length) return <p className="text-sm text-zinc-600 dark:text-zinc-400">No jobs yet. Creating, cloning, importing and snapshots show their progress here.</p>;
  return (
    <ul className="flex flex-col gap-3" aria-label="Jobs">
      {jobs.map((j) => (
        <li key={j.id} className="flex flex-col gap-1.5 rounded-md border border-zinc-200 p-2.5 dark:border-zinc-700">
          <div className="flex items-center gap-2">
            <span className="min-w-0 flex-1 truncate text-sm font-medium">{j.title}</span>
            <span
              className={cx(
                'text-xs',
                j.state === 'failed' ? 'text-red-700 dark:text-red-400' : j.state === 'done' ? 'text-emerald-800 dark:text-emerald-300' : 'text-zinc-600 dark:text-zinc-400',
              )}
            >
              {STATE_TEXT[j.state]}
              {j.state === 'running' && j.progress !== null ? ` ${Math.round(j.progress * 100)}%` : ''}
            </span>
            {j.state === 'running' && (
              <Button
                size="sm"
                disabledReason={j.cancellable ? null : 'This step cannot be interrupted safely.'}
                aria-label={`Cancel ${j.title}`}
                onClick={() => client.call('jobs.cancel', { id: j.id }).catch((e) => report(`Could not cancel ${j.title}`, e))}
              >
                Cancel
              </Button>
            )}
          </div>
          {j.state === 'running' && <Progress value={j.progress} label={j.title} />}
          {jobDetail(j) && <span className="text-xs text-zinc-700 dark:text-zinc-300" data-testid="job-detail">{jobDetail(j)}</span>}
          {j.error && <ErrorAlert error={j.error} />}
          <span className="text-xs text-zinc-600 dark:text-zinc-400">Started {formatWhen(j.startedAt)}</span>
        </li>
      ))}
    </ul>
  );
}
