// What cloning can do with a VM, said before the click (vms.get's clones, engine/clone/clone.ts).

/** Whether a kind of clone is possible now; `reason` is in words the GUI shows as they are. */
export interface CloneAvailability {
  available: boolean;
  reason: string | null;
}

export interface CloneInfo {
  template: boolean;
  /** a linked clone of the current state */
  linked: CloneAvailability;
  /** a linked clone from one of its snapshots (a shared base exported once per snapshot) */
  linkedFromSnapshot: CloneAvailability;
  /** a full clone that keeps the snapshot tree */
  withSnapshots: CloneAvailability;
  /** what this VM's disks build on, when it is a linked clone (vmId null: that VM was deleted, the base stays) */
  linkedTo: { vmId: string | null; name: string; snapshot: string | null } | null;
  /** linked clones built on this VM's disks or on one of its snapshots */
  baseOf: Array<{ id: string; name: string; snapshot: string | null }>;
  /** why deleting it is refused (linked clones need its disks), in the GUI's words; null when it can go */
  deleteBlocked: string | null;
}
