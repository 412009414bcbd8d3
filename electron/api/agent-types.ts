// The guest agent's shapes in the API (electron/engine/agent/), apart from types.ts to keep it
// small; types.ts re-exports them, so callers import from either.

/** One guest network interface as the agent reports it (guest-network-get-interfaces). */
export interface AgentAddress {
  interface: string;
  mac: string | null;
  ipv4: string[];
  ipv6: string[];
}

/**
 * The guest agent of a VM. absent: not running, no channel (legacy profile), or no agent
 * answers yet (`reason` says which); connected: the fields are what the guest reported.
 */
export interface AgentInfo {
  state: 'absent' | 'connected';
  reason: string | null;
  version: string | null;
  os: { id: string | null; name: string | null; version: string | null; kernel: string | null } | null;
  hostname: string | null;
  addresses: AgentAddress[];
  /** when this connection was made (ISO time), null while absent */
  since: string | null;
}

export interface AgentExecResult {
  exitCode: number | null;
  /** the signal that ended the command, if one did (POSIX guests) */
  signal: number | null;
  stdout: string;
  stderr: string;
  /** the agent keeps at most 16 MiB of each stream; more was cut */
  truncated: boolean;
  timedOut: boolean;
}

/**
 * What the guest agent did for a live snapshot. frozen: `filesystems` were frozen and thawed
 * (0 when the guest has none the agent can freeze); refused: the guest said no (message);
 * unavailable: no agent, or the VM was paused (message).
 */
export interface SnapshotQuiesce {
  status: 'frozen' | 'refused' | 'unavailable';
  filesystems: number | null;
  message: string | null;
}

export interface FileCopyResult {
  /** the guest path written or read */
  guestPath: string;
  /** the host path, for copies to or from a host file; null for uploads from a client */
  hostPath: string | null;
  bytes: number;
}
