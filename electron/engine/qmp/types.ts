// The shapes a QMP conversation is made of, apart from the client that holds the socket, so
// that helpers (jobs.ts) can depend on the commands and events without depending on the client.

export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

export interface QmpGreeting {
  version: QmpVersion;
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data: unknown;
  /** wall-clock time QEMU stamped on the event */
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpCloseInfo {
  /** why the connection ended: the peer went away, or close() was called */
  reason: 'disconnected' | 'closed';
  error?: Error;
}

export interface QmpProtocolIssue {
  /** the offending line, truncated */
  line: string;
  problem: string;
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [QmpCloseInfo];
  /** malformed or unexpected input; reported, never thrown, so one bad line cannot kill a VM session */
  protocolError: [QmpProtocolIssue];
}

export interface QmpConnectOptions {
  /** time allowed for connect + greeting + capabilities negotiation (default 10 s) */
  timeoutMs?: number;
  /**
   * For how long (ms from now) to keep retrying while the socket is missing (ENOENT) or not
   * yet listening (ECONNREFUSED): QEMU creates it a moment after it is spawned. Default 0.
   */
  retryUntilMs?: number;
}

export interface QmpExecuteOptions {
  /** default 30 s; long work should be a job (see runJob), not a long command */
  timeoutMs?: number;
}

/** What job and helper code needs of a client: commands and the event stream. */
export interface QmpCommander {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts?: QmpExecuteOptions): Promise<T>;
  on(event: 'event', listener: (ev: QmpEvent) => void): unknown;
  on(event: 'close', listener: (info: QmpCloseInfo) => void): unknown;
  off(event: 'event', listener: (ev: QmpEvent) => void): unknown;
  off(event: 'close', listener: (info: QmpCloseInfo) => void): unknown;
}
