import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { VmConfig } from '../../../electron/api/types.ts';
import { V86_TRADE_OFF } from '../../../electron/shared/v86-rules.ts';
import { btn } from '../display/styles.ts';
import { screenshotName } from '../display/keys.ts';
import { V86Runner } from './runner.ts';

// The Screen tab of a wasm/v86 VM: the guest runs in this page (runner.ts) and draws into the
// element this component shows. Keyboard and mouse go to the guest while the screen has the
// focus (click it; the mouse is captured until Esc).

function useRunner(vmId: string): V86Runner {
  const runner = V86Runner.for(vmId);
  useSyncExternalStore((fn) => runner.onChange(fn), () => `${runner.state}:${runner.error ?? ''}`);
  return runner;
}

export function V86Screen({ vmId, vmName, config }: { vmId: string; vmName?: string; config: VmConfig }) {
  const runner = useRunner(vmId);
  const areaRef = useRef<HTMLDivElement>(null);
  const frameRef = useRef<HTMLDivElement>(null);
  const [fullscreen, setFullscreen] = useState(false);
  const running = runner.state === 'running';

  useEffect(() => {
    const area = areaRef.current;
    if (!area) return;
    area.append(runner.screen);
    const on = () => runner.setInputEnabled(true);
    const off = () => runner.setInputEnabled(false);
    runner.screen.addEventListener('focus', on);
    runner.screen.addEventListener('blur', off);
    return () => {
      runner.screen.removeEventListener('focus', on);
      runner.screen.removeEventListener('blur', off);
      runner.setInputEnabled(false);
      runner.screen.remove();
    };
  }, [runner]);

  useEffect(() => {
    const onFs = () => setFullscreen(document.fullscreenElement === frameRef.current);
    document.addEventListener('fullscreenchange', onFs);
    return () => document.removeEventListener('fullscreenchange', onFs);
  }, []);

  const screenshot = () => {
    const img = runner.screenshot() as HTMLImageElement | null;
    if (!img?.src) return;
    const a = document.createElement('a');
    a.href = img.src;
    a.download = screenshotName(vmName ?? vmId);
    a.click();
  };

  return (
    <div ref={frameRef} className="flex h-full min-h-[20rem] flex-col bg-zinc-100 dark:bg-zinc-950" data-testid="vm-display" data-backend="wasm/v86">
      <div role="toolbar" aria-label="Screen controls" className="flex flex-wrap items-center gap-1.5 border-b border-zinc-200 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900">
        {running || runner.state === 'starting' ? (
          <button type="button" className={btn} disabled={!running} onClick={() => void runner.stop()}>Power off</button>
        ) : runner.state === 'held' ? (
          <>
            <button type="button" className={btn} onClick={() => void runner.start(config)}>Start in this window</button>
            <button type="button" className={btn} onClick={() => void runner.start(config, undefined, true)} title="The other window or tab stops running it">Take it over here</button>
          </>
        ) : (
          <button type="button" className={btn} onClick={() => void runner.start(config)}>Start in this window</button>
        )}
        <button type="button" className={btn} disabled={!running} onClick={screenshot} title="Save the screen as a PNG file">Screenshot</button>
        <button type="button" className={btn} disabled={!running} onClick={() => (fullscreen ? void document.exitFullscreen() : void frameRef.current?.requestFullscreen())}>
          {fullscreen ? 'Exit full screen' : 'Full screen'}
        </button>
        <span className="ml-auto text-xs text-zinc-600 dark:text-zinc-400" data-testid="v86-state">
          {runner.state === 'idle' && 'Runs in this window (wasm/v86)'}
          {runner.state === 'starting' && 'Starting…'}
          {runner.state === 'running' && 'Running in this window'}
          {runner.state === 'stopped' && 'Powered off'}
          {runner.state === 'failed' && 'Stopped with an error'}
          {runner.state === 'held' && 'Running in another window or tab'}
        </span>
      </div>
      {runner.state === 'held' && (
        <p role="status" data-testid="v86-held" className="border-b border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          {runner.heldBy ? `${vmName ?? 'This VM'} runs in another window or tab: ${runner.heldBy.who}, since ${new Date(runner.heldBy.since).toLocaleTimeString()}.` : runner.error} Close it there, or take it over here.
        </p>
      )}
      {runner.error && runner.state !== 'held' && <p role="alert" className="border-b border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">{runner.error}</p>}
      {runner.state === 'idle' && <p className="px-3 py-2 text-sm text-zinc-700 dark:text-zinc-300">This VM uses the wasm/v86 backend: it {V86_TRADE_OFF}.</p>}
      <V86Snapshots runner={runner} config={config} />
      <div
        ref={areaRef}
        data-testid="vm-screen"
        className="relative min-h-0 flex-1 overflow-auto bg-black p-1 text-zinc-100"
        onClick={() => {
          runner.screen.focus();
          if (running) runner.lockMouse();
        }}
      />
    </div>
  );
}

export function V86Console({ vmId }: { vmId: string }) {
  const runner = useRunner(vmId);
  const [text, setText] = useState(runner.serial);
  const [line, setLine] = useState('');
  const preRef = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setText(runner.serial);
    return runner.onSerial(() => setText(runner.serial));
  }, [runner]);
  useEffect(() => {
    preRef.current?.scrollTo({ top: preRef.current.scrollHeight });
  }, [text]);
  const running = runner.state === 'running';
  return (
    <div className="flex h-full min-h-[20rem] flex-col bg-zinc-900" data-testid="vm-console" data-backend="wasm/v86">
      {!running && <p className="px-3 py-2 text-sm text-zinc-300">The serial port of a wasm/v86 VM is read while it runs in this window: start it from the Screen tab.</p>}
      <pre ref={preRef} data-testid="v86-serial" className="min-h-0 flex-1 overflow-auto whitespace-pre-wrap px-3 py-2 font-mono text-xs text-zinc-100">{text.replace(/\r/g, '')}</pre>
      <form
        className="flex gap-2 border-t border-zinc-700 p-2"
        onSubmit={(e) => {
          e.preventDefault();
          runner.sendSerial(`${line}\n`);
          setLine('');
        }}
      >
        <label className="sr-only" htmlFor={`v86-serial-in-${vmId}`}>Send a line to the serial port</label>
        <input id={`v86-serial-in-${vmId}`} disabled={!running} value={line} onChange={(e) => setLine(e.target.value)} className="min-w-0 flex-1 rounded bg-zinc-800 px-2 py-1 font-mono text-sm text-zinc-100" placeholder="a line for the guest's serial port" />
        <button type="submit" className={btn} disabled={!running}>Send</button>
      </form>
    </div>
  );
}

/** The VM's v86 snapshots: take one of the running guest, restore one (also after a page reload). */
function V86Snapshots({ runner, config }: { runner: V86Runner; config: VmConfig }) {
  const [list, setList] = useState<{ id: string; name: string; createdAt: string; hasThumbnail: boolean }[]>([]);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = () => void runner.listSnapshots().then(setList, () => {});
  useEffect(reload, [runner]);
  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
      reload();
    }
  };
  return (
    <section aria-label="v86 snapshots" className="border-b border-zinc-200 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900">
      <form
        className="flex flex-wrap items-center gap-1.5"
        onSubmit={(e) => {
          e.preventDefault();
          const n = name.trim() || `Snapshot ${new Date().toLocaleString()}`;
          void run('take', () => runner.takeSnapshot(n)).then(() => setName(''));
        }}
      >
        <label htmlFor={`v86-snap-name-${runner.vmId}`} className="text-xs text-zinc-600 dark:text-zinc-400">Snapshot name</label>
        <input id={`v86-snap-name-${runner.vmId}`} value={name} onChange={(e) => setName(e.target.value)} className="rounded border border-zinc-300 px-1 py-0.5 text-sm dark:border-zinc-600 dark:bg-zinc-800" />
        <button type="submit" className={btn} disabled={runner.state !== 'running' || !!busy}>{busy === 'take' ? 'Taking…' : 'Take snapshot'}</button>
        {error && <span role="alert" className="text-red-700 dark:text-red-300">{error}</span>}
      </form>
      {list.length > 0 && (
        <ul aria-label="Snapshots of this VM" className="mt-1 flex flex-wrap gap-2">
          {list.map((s) => (
            <li key={s.id} className="flex items-center gap-1.5 rounded border border-zinc-200 p-1 dark:border-zinc-700">
              {s.hasThumbnail && <img src={runner.thumbnailUrl(s.id)} alt={`Screen when ${s.name} was taken`} width={64} className="rounded" />}
              <span>{s.name}</span>
              <button type="button" className={btn} disabled={!!busy} aria-label={`Restore ${s.name}`} onClick={() => void run(`restore ${s.id}`, () => runner.restoreSnapshot(config, s.id))}>
                Restore
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
