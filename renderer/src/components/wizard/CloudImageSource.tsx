import { useState } from 'react';
import { CLOUD_USER_RE, HOSTNAME_RE, MAX_USER_DATA, SSH_PUBKEY_RE } from '../../../../electron/shared/cloud-rules.ts';
import { Check, Field, inputClass } from '../ui.tsx';

// The wizard's "Cloud image": an imported disk that is a distribution's cloud image (Debian,
// Ubuntu, Fedora generic cloud images) gets a NoCloud seed (engine/cloud/): the user, a
// password and/or SSH key, the host name and extra user-data. Its state lives here; the wizard
// adds `args()` to vms.create, which then sends `cloud` instead of `importDisk`.

type Fields = { user: string; password: string; sshKey: string; hostname: string; disk: string; userData: string };
const EMPTY: Fields = { user: 'vireo', password: '', sshKey: '', hostname: '', disk: '', userData: '' };
const SIZE_RE = /^\d+(\.\d+)?\s*[MGT]i?B?$/i;

function problems(f: Fields): Partial<Record<keyof Fields, string>> {
  const p: Partial<Record<keyof Fields, string>> = {};
  if (!CLOUD_USER_RE.test(f.user)) p.user = 'lower-case letters, digits, "_" or "-", starting with a letter (e.g. vireo)';
  if (f.hostname && !HOSTNAME_RE.test(f.hostname)) p.hostname = 'letters, digits and "-", e.g. test-vm';
  const keys = keyLines(f.sshKey);
  if (keys.some((k) => !SSH_PUBKEY_RE.test(k))) p.sshKey = 'paste public key lines (the .pub file: "ssh-ed25519 AAAA… you@host")';
  if (f.disk && !SIZE_RE.test(f.disk.trim())) p.disk = 'a size such as 10G, or empty to keep the image\'s';
  if (f.userData && !/^(#cloud-config|#!|#cloud-boothook|#include)/.test(f.userData.trimStart())) p.userData = 'start with #cloud-config (merged into Vireo\'s) or #! (a script)';
  if (f.userData.length > MAX_USER_DATA) p.userData = `at most ${MAX_USER_DATA / 1024} KiB`;
  return p;
}

const keyLines = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/** The section's state; `image` is the disk being imported (null when the source is not an import). */
export function useCloudImage(image: string | null) {
  const [on, setOn] = useState(false);
  const [fields, setFields] = useState<Fields>(EMPTY);
  const errors = problems(fields);
  const active = on && image !== null;
  return {
    on, setOn, fields, errors, offered: image !== null,
    set: (k: keyof Fields, v: string) => setFields((f) => ({ ...f, [k]: v })),
    blocking: active && Object.keys(errors).length > 0,
    args: () => {
      if (!active || !image) return {};
      const keys = keyLines(fields.sshKey);
      return {
        importDisk: undefined,
        ...(fields.disk.trim() ? { disk: fields.disk.trim() } : {}),
        cloud: {
          image: image.trim(),
          user: fields.user,
          ...(fields.password ? { password: fields.password } : {}),
          ...(keys.length ? { sshKeys: keys } : {}),
          ...(fields.hostname ? { hostname: fields.hostname } : {}),
          ...(fields.userData.trim() ? { userData: fields.userData } : {}),
        },
      };
    },
  };
}
export type CloudImageState = ReturnType<typeof useCloudImage>;

export function CloudImageSource({ c }: { c: CloudImageState }) {
  if (!c.offered) return null;
  const text = (k: 'user' | 'password' | 'hostname' | 'disk', label: string, hint: string, type = 'text') => (
    <Field label={label} error={c.errors[k]} hint={hint}>
      {(p) => <input {...p} type={type} className={inputClass} value={c.fields[k]} onChange={(e) => c.set(k, e.target.value)} autoComplete="off" />}
    </Field>
  );
  return (
    <section aria-label="Cloud image" className="flex flex-col gap-2 rounded border border-zinc-300 p-3 dark:border-zinc-700">
      <Check checked={c.on} onChange={c.setOn} label="This is a cloud image: give it a NoCloud seed (user, password or SSH key, host name)" />
      {c.on && (
        <>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            The image is copied, never changed. cloud-init in the guest reads the seed (a small CD) on its first boot and installs the guest agent where the image lacks it.
          </p>
          {text('user', 'User', 'created with sudo rights')}
          {text('password', 'Password', 'stored only as a SHA-512 hash; leave empty for key-only login', 'password')}
          <Field label="SSH public keys" error={c.errors.sshKey} hint="one per line; without one, Vireo generates a key for `vireo ssh`">
            {(p) => <textarea {...p} rows={2} className={`${inputClass} font-mono`} value={c.fields.sshKey} onChange={(e) => c.set('sshKey', e.target.value)} />}
          </Field>
          {text('hostname', 'Host name', 'default: the VM\'s name')}
          {text('disk', 'Grow the disk to', 'e.g. 20G; empty keeps the image\'s size')}
          <Field label="Extra user-data" error={c.errors.userData} hint="#cloud-config merged into Vireo's, or a #! script run beside it">
            {(p) => <textarea {...p} rows={4} className={`${inputClass} font-mono`} value={c.fields.userData} onChange={(e) => c.set('userData', e.target.value)} />}
          </Field>
        </>
      )}
    </section>
  );
}
