// Result types of the network-mode methods (net.*), apart from types.ts to keep it small.
// Plain data: they cross IPC and WebSocket, and the renderer imports them (types only).

/** A card's guest addresses and where they come from (engine/net/addresses.ts). */
export interface NicAddresses {
  nic: string;
  mode: string;
  mac: string;
  ipv4: string[];
  ipv6: string[];
  /** agent: the guest said so; switch: a private network saw it; dhcp-range: the NAT's first lease; none: unknown */
  source: 'agent' | 'switch' | 'dhcp-range' | 'none';
  note: string | null;
}

/** Whether this host can offer a network mode, and how it does (habit 8: why not, and what to do). */
export interface NetModeInfo {
  mode: string;
  available: boolean;
  reason: string | null;
  /** how Vireo provides it on this host */
  how: string;
}
