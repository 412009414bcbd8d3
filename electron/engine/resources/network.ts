import type { LimitsInfo } from '../../api/limits-types.ts';

// Network bandwidth limits, per backend, as QEMU 7.2 and the helpers Vireo runs offer them.
// QEMU has no generic netdev rate limit (its filters buffer, dump, mirror or redirect, none
// meters), so a limit has to live in what carries the card's traffic. None does today; each
// says why, so Settings → Resources shows the reason instead of a control that does nothing.

export function networkLimitSupport(): LimitsInfo['network'] {
  return [
    { backend: 'slirp', available: false, reason: "not possible with NAT (slirp): QEMU's user-mode network stack has no rate limit and no host interface to shape" },
    { backend: 'passt', available: false, reason: 'not possible with NAT (passt): passt has no bandwidth option and its traffic leaves through ordinary host sockets' },
    { backend: 'bridged', available: false, reason: "not yet: a bridged card's tap device could be shaped with tc (as root); Vireo does not do it yet" },
    { backend: 'private', available: false, reason: "not yet: Vireo's private-network switch forwards frames unmetered" },
    { backend: 'hostonly', available: false, reason: "not possible with host-only: it rides QEMU's user-mode stack, which has no rate limit" },
  ];
}
