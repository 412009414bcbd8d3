import { useEffect, useState } from 'react';
import type { ApiClient } from '../../../../electron/api/contract.ts';
import type { UnattendedAvailability } from '../../../../electron/api/types.ts';
import {
  UNATTENDED_HOSTNAME_RE, UNATTENDED_KEYBOARD_RE, UNATTENDED_LOCALE_RE, UNATTENDED_PRODUCT_KEY_RE, UNATTENDED_TIMEZONE_RE, UNATTENDED_USER_RE,
} from '../../../../electron/shared/unattended-rules.ts';
import { Check, Field, inputClass } from '../ui.tsx';

// The wizard's "Express install": answers for the OS's installer (engine/unattended/), so the
// install runs by itself. Offered only for an OS with a template here and an ISO; otherwise
// the section says why. Its state lives here; the wizard adds `args()` to vms.create.

type Answers = { user: string; password: string; hostname: string; locale: string; timezone: string; keyboard: string; productKey: string };
const EMPTY: Answers = { user: '', password: '', hostname: '', locale: 'en_US.UTF-8', timezone: 'UTC', keyboard: 'us', productKey: '' };

function problems(a: Answers, productKey: boolean): Partial<Record<keyof Answers, string>> {
  const p: Partial<Record<keyof Answers, string>> = {};
  if (!UNATTENDED_USER_RE.test(a.user)) p.user = 'lower-case letters, digits, "_" or "-", starting with a letter (e.g. tester)';
  if (!a.password) p.password = 'give the new user a password';
  else if ([...a.password].some((c) => c < ' ')) p.password = 'no control characters';
  if (!UNATTENDED_HOSTNAME_RE.test(a.hostname)) p.hostname = 'letters, digits and "-", e.g. testbox';
  if (!UNATTENDED_LOCALE_RE.test(a.locale)) p.locale = 'language_COUNTRY, e.g. en_US or de_DE.UTF-8';
  if (!UNATTENDED_TIMEZONE_RE.test(a.timezone)) p.timezone = 'an IANA zone, e.g. Europe/Berlin or UTC';
  if (!UNATTENDED_KEYBOARD_RE.test(a.keyboard)) p.keyboard = 'a layout name, e.g. us or de';
  if (productKey && a.productKey && !UNATTENDED_PRODUCT_KEY_RE.test(a.productKey.trim().toUpperCase())) p.productKey = 'five groups of five: XXXXX-XXXXX-XXXXX-XXXXX-XXXXX';
  return p;
}

/** The section's state: whether it is offered for this OS, the answers, and what vms.create gets. */
export function useExpressInstall(client: ApiClient, osId: string | null, hasIso: boolean) {
  const [avail, setAvail] = useState<UnattendedAvailability | null>(null);
  const [on, setOn] = useState(false);
  const [answers, setAnswers] = useState<Answers>(EMPTY);
  useEffect(() => {
    let live = true;
    setAvail(null);
    if (osId) client.call('unattended.availability', { os: osId }).then((a) => live && setAvail(a), () => undefined);
    return () => {
      live = false;
    };
  }, [client, osId]);
  const offered = !!avail?.available && hasIso;
  const errors = problems(answers, !!avail?.productKey);
  const active = on && offered;
  return {
    avail, offered, on, setOn, answers, errors, hasIso,
    set: (k: keyof Answers, v: string) => setAnswers((a) => ({ ...a, [k]: v })),
    /** blocks Create while the answers are incomplete */
    blocking: active && Object.keys(errors).length > 0,
    args: () => {
      if (!active) return {};
      const { productKey, ...rest } = answers;
      return { unattended: { ...rest, ...(avail?.productKey && productKey.trim() ? { productKey: productKey.trim() } : {}) } };
    },
  };
}
export type ExpressInstallState = ReturnType<typeof useExpressInstall>;

const INSTALLER_NAMES: Record<string, string> = { preseed: 'Debian installer (preseed)', kickstart: 'Anaconda (kickstart)', autoinstall: 'Ubuntu autoinstall', autounattend: 'Windows Setup (autounattend.xml)' };

export function ExpressInstall({ x }: { x: ExpressInstallState }) {
  const { avail } = x;
  const reason = !avail ? null : !avail.available ? avail.reason : !x.hasIso ? 'an express install starts from the installer ISO: choose one in the first step' : null;
  return (
    <fieldset className="flex flex-col gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-700" aria-label="Express install">
      <legend className="px-1 text-sm font-medium">Express install</legend>
      <Check
        label={`Install by itself${avail?.installer ? ` (${INSTALLER_NAMES[avail.installer]})` : ''}`}
        checked={x.on && x.offered}
        disabled={!x.offered}
        hint={reason ?? (avail ? 'The installer gets these answers and asks nothing; the password is kept only in the answer files, removed after the first boot.' : 'Choose the operating system first.')}
        onChange={x.setOn}
      />
      {x.on && x.offered && (
        <div className="grid grid-cols-2 gap-3">
          {(['user', 'password', 'hostname', 'locale', 'timezone', 'keyboard'] as const).map((k) => (
            <Field key={k} label={LABELS[k]} error={x.errors[k]}>
              {(p) => <input {...p} className={inputClass} type={k === 'password' ? 'password' : 'text'} autoComplete={k === 'password' ? 'new-password' : 'off'} value={x.answers[k]} onChange={(e) => x.set(k, e.target.value)} />}
            </Field>
          ))}
          {avail?.productKey && (
            <Field label="Product key (optional)" error={x.errors.productKey}>
              {(p) => <input {...p} className={inputClass} placeholder="XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" value={x.answers.productKey} onChange={(e) => x.set('productKey', e.target.value)} />}
            </Field>
          )}
          {avail?.installer === 'autounattend' && (
            <p className="col-span-2 text-xs text-zinc-600 dark:text-zinc-400">
              {avail.virtioWin ? `virtio drivers from ${avail.virtioWin} are added.` : `No virtio-win ISO found (looked in ${avail.searched.join(', ')}): Windows installs without virtio drivers.`}
            </p>
          )}
          {avail?.answersFrom && <p className="col-span-2 text-xs text-zinc-600 dark:text-zinc-400">Answers written by {avail.answersFrom}.</p>}
        </div>
      )}
    </fieldset>
  );
}

const LABELS = { user: 'User name', password: 'Password', hostname: 'Host name', locale: 'Locale', timezone: 'Time zone', keyboard: 'Keyboard layout' } as const;
