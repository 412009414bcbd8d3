import { createInterface } from 'node:readline';
import { createEngine } from '../../electron/engine/index.ts';
import { LibrarySession } from '../../electron/engine/owner/open.ts';
import { toWireError } from '../../electron/api/errors.ts';
import type { MethodName } from '../../electron/api/contract.ts';

// A separate process for the two-engine suite (two-engines.test.ts):
//   own <home>   owns the library (an engine, like the app or `vireo serve`) until SIGTERM;
//   race <home>  for each stdin line {n, method, args}: open the library the way a `vireo`
//                command does (owner if nobody owns it, else a client of the owner), make the
//                call, close; prints {n, ok, result | error}. Lines run concurrently.
// Each prints {"ready": pid} once it can take work.

const [mode, home] = process.argv.slice(2);
if (!home || (mode !== 'own' && mode !== 'race')) {
  process.stderr.write('usage: owner-worker.ts own|race <home>\n');
  process.exit(2);
}

const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

if (mode === 'own') {
  const engine = await createEngine({ home, role: 'serve' });
  process.once('SIGTERM', () => {
    void engine.dispose().then(() => process.exit(0));
  });
  // Our parent (the test) gone means nobody will stop us: leave with it.
  process.stdin.on('end', () => void engine.dispose().then(() => process.exit(0)));
  process.stdin.resume();
  out({ ready: process.pid });
} else {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const req = JSON.parse(line) as { n: number; method: MethodName; args: never };
    const session = new LibrarySession({ home, role: 'cli' });
    session
      .call(req.method, req.args)
      .then(
        (result) => ({ n: req.n, ok: true, result }),
        (e: unknown) => ({ n: req.n, ok: false, error: toWireError(e) }),
      )
      .then(async (reply) => {
        await session.close();
        out(reply);
      });
  });
  rl.on('close', () => process.exit(0));
  out({ ready: process.pid });
}
