// Newline-delimited text over a stream (QMP, the owner socket): chunks in, whole lines out;
// a partial line waits for the rest. Dependency-free, so any layer may use it.

export interface LineSplitter {
  /** feed a chunk; calls onLine for every line it completes */
  push(chunk: string): void;
  /** characters waiting for their newline (for size limits) */
  readonly pending: number;
}

export function lineSplitter(onLine: (line: string) => void): LineSplitter {
  let buf = '';
  return {
    push(chunk: string) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line);
      }
    },
    get pending() {
      return buf.length;
    },
  };
}
