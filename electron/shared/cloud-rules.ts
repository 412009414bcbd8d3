// The NoCloud seed's field rules, shared by the engine's schema (api/schemas/cloud-init.ts)
// and the wizard's Cloud image fields, so both refuse the same things.

/** A Linux user name as useradd takes it (Debian's NAME_REGEX, lower case). */
export const CLOUD_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
/** An RFC 1123 host name: labels of letters, digits and inner hyphens, 253 characters at most. */
export const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** One OpenSSH public key line: type, base64 blob, optional comment. */
export const SSH_PUBKEY_RE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
export const MAX_USER_DATA = 64 * 1024;
