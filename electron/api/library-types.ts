// The library's own data beside the VMs (engine/library/groups.ts, faces.ts): groups of VMs
// (folders in the sidebar), each VM's face (its screen thumbnail) and when it was last used.

export interface VmGroup {
  id: string;
  name: string;
  /** VM ids in the order they were moved in; a VM is in at most one group */
  vms: string[];
}

export interface GroupList {
  groups: VmGroup[];
}

export interface GroupRunResult {
  group: string;
  /** per VM of the group: done, skipped (already so, or a template) with why, or failed with the error */
  results: { vm: string; name: string; outcome: 'done' | 'skipped' | 'failed'; message: string | null }[];
}

export interface VmFace {
  /** base64 PNG at most FACE_WIDTH wide, or null when the VM has never been seen running */
  png: string | null;
  takenAt: string | null;
  /** true when taken just now from the running VM; false when it is the one kept from its last run */
  live: boolean;
}

export interface LastUsedList {
  /** VM id → ISO time it last ran (now for an active VM), null when it never ran */
  lastUsed: Record<string, string | null>;
}
