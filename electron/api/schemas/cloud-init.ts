import { z } from 'zod';
import { CLOUD_USER_RE, HOSTNAME_RE, MAX_USER_DATA, SSH_PUBKEY_RE } from '../../shared/cloud-rules.ts';

// The NoCloud seed of a VM made from a cloud image (vm.json `cloudInit`). The engine builds a
// `cidata` ISO from it before every start (electron/engine/cloud/seed.ts), so the file always
// follows these settings. A password is kept only as a SHA-512 crypt hash: the clear text never
// reaches vm.json, and cloud-init takes the hash as it is (`passwd:`).

/** crypt(3) SHA-512: $6$[rounds=N$]salt$hash */
export const SHA512_CRYPT_RE = /^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;
export { CLOUD_USER_RE, HOSTNAME_RE, SSH_PUBKEY_RE, MAX_USER_DATA };

export const CloudUser = z.string().regex(CLOUD_USER_RE, 'user name must be 1-32 lower-case letters, digits, _ or -, starting with a letter or _ (e.g. "vireo")');
export const CloudHostname = z.string().regex(HOSTNAME_RE, 'host name must be letters, digits and hyphens (dot-separated labels of at most 63), e.g. "test-vm"');
export const SshPublicKey = z.string().trim().regex(SSH_PUBKEY_RE, 'not an OpenSSH public key line ("ssh-ed25519 AAAA… comment"): give the .pub file');

export const CloudInitConfig = z.object({
  user: CloudUser.default('vireo'),
  /** SHA-512 crypt hash of the user's password, or null for key-only login */
  passwordHash: z.string().regex(SHA512_CRYPT_RE, 'not a SHA-512 crypt hash ($6$salt$hash)').nullable().default(null),
  sshAuthorizedKeys: z.array(SshPublicKey).max(16, 'at most 16 SSH keys').default([]),
  /**
   * the private key the engine generated because none was given (a file in the VM folder, 0600,
   * named here relative to it); its public half is in sshAuthorizedKeys. `vireo ssh` uses it.
   */
  generatedKeyFile: z.string().regex(/^[A-Za-z0-9._-]+$/).nullable().default(null),
  hostname: CloudHostname,
  /** extra user-data from the user: #cloud-config (merged into the engine's) or any other part (a script…) */
  userData: z.string().max(MAX_USER_DATA, `user-data is over ${MAX_USER_DATA / 1024} KiB: shorten it`).default(''),
  /** NoCloud network-config (version 1 or 2 YAML) or null for cloud-init's default (DHCP on the first NIC) */
  networkConfig: z.string().max(MAX_USER_DATA).nullable().default(null),
  /** install and start qemu-guest-agent through cloud-init (packages + runcmd) */
  installAgent: z.boolean().default(true),
});
export type CloudInitConfig = z.infer<typeof CloudInitConfig>;

/** `vms.create`'s `cloud` option: a cloud image and what its seed should hold. */
export const CloudCreateArgs = z.object({
  /** the cloud image (qcow2, raw or vmdk); copied into the VM folder as qcow2, never modified */
  image: z.string().min(1, 'cloud image path is empty: give the image file'),
  user: CloudUser.optional(),
  /** hashed (SHA-512 crypt) by the engine at once; the clear text is never stored */
  password: z.string().min(1, 'password is empty: give one or leave it out').max(1024).optional(),
  passwordHash: z.string().regex(SHA512_CRYPT_RE, 'not a SHA-512 crypt hash ($6$salt$hash)').optional(),
  sshKeys: z.array(SshPublicKey).max(16, 'at most 16 SSH keys').optional(),
  /** default: the VM's name made into a host name */
  hostname: CloudHostname.optional(),
  userData: z.string().max(MAX_USER_DATA, `user-data is over ${MAX_USER_DATA / 1024} KiB: shorten it`).optional(),
  networkConfig: z.string().max(MAX_USER_DATA).optional(),
  installAgent: z.boolean().optional(),
}).strict();
export type CloudCreateArgs = z.infer<typeof CloudCreateArgs>;
