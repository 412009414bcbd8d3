import { Notification } from 'electron';
import type { EventBus } from '../api/dispatch.ts';
import { jobNotification } from './shell-model.ts';

// A desktop notification when a long job (create, clone, convert, snapshot...) ends, so the
// person can leave the window; each job is announced once.
export function notifyJobEnds(bus: EventBus, onClick: () => void): () => void {
  const announced = new Set<string>();
  return bus.on('job.update', (job) => {
    const n = jobNotification(job);
    if (!n || announced.has(job.id) || !Notification.isSupported()) return;
    announced.add(job.id);
    const note = new Notification({ title: n.title, body: n.body, silent: job.state !== 'failed' });
    note.on('click', onClick);
    note.show();
  });
}
