import { posix } from 'node:path';

// Where a private network's switch lives: one unix socket (and its pidfile and the addresses
// it has seen) per network name, in the library's runtime folder, so every VM of the library
// on "lab" reaches the same switch and a second library's "lab" is another network.

/** The folder of a library's switches, inside its runtime folder. */
export const switchDir = (rtRoot: string) => posix.join(rtRoot, 'net');

export const switchFiles = (dir: string, network: string) => ({
  socket: posix.join(dir, `${network}.sock`),
  pidFile: posix.join(dir, `${network}.pid`),
  /** what the switch learnt: MAC → IPv4 from ARP and DHCP it forwarded (JSON) */
  seen: posix.join(dir, `${network}.seen.json`),
  log: posix.join(dir, `${network}.log`),
  /** bandwidth limits: one file per limited MAC (aa-bb-cc-dd-ee-ff) holding bytes per second, written by engines, read by the switch */
  rates: posix.join(dir, `${network}.rates`),
});
