import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { AgentInfo } from '../../api/types.ts';
import type { NicAddresses } from '../../api/net-types.ts';
import { switchSeen } from './switch/helper.ts';

// The guest's addresses per card. The guest agent knows them exactly (matched by MAC); without
// it, what the backend knows: user-mode NAT (slirp) and rootless host-only hand out 10.0.2.15
// first from their own DHCP; passt gives the guest the host's own address; a private network's
// switch has seen the addresses guests used; a bridged card's address comes from the LAN's DHCP,
// which Vireo does not see.

const SLIRP_FIRST_LEASE = '10.0.2.15';

export async function nicAddresses(config: VmConfig, agent: AgentInfo, rtRoot: string, running: boolean): Promise<NicAddresses[]> {
  const out: NicAddresses[] = [];
  for (const nic of config.networks) {
    const base = { nic: nic.id, mode: nic.mode, mac: nic.mac };
    const fromAgent = agent.state === 'connected' ? agent.addresses.find((a) => a.mac?.toLowerCase() === nic.mac) : undefined;
    if (fromAgent) {
      out.push({ ...base, ipv4: fromAgent.ipv4, ipv6: fromAgent.ipv6, source: 'agent', note: `interface ${fromAgent.interface}` });
    } else if (!running) {
      out.push({ ...base, ipv4: [], ipv6: [], source: 'none', note: 'the VM is not running' });
    } else if (nic.mode === 'private') {
      const ip = (await switchSeen(rtRoot, nic.network!))[nic.mac];
      out.push({ ...base, ipv4: ip ? [ip] : [], ipv6: [], source: ip ? 'switch' : 'none', note: ip ? `seen by the switch of "${nic.network}"` : `no traffic from this card on "${nic.network}" yet (private networks have no DHCP: give the guest a static address)` });
    } else if (nic.mode === 'user' || nic.mode === 'hostonly') {
      out.push({ ...base, ipv4: [SLIRP_FIRST_LEASE], ipv6: [], source: 'dhcp-range', note: 'the first address the user-mode DHCP hands out (passt hands out the host\'s own address); the guest agent reports the real one' });
    } else {
      out.push({ ...base, ipv4: [], ipv6: [], source: 'none', note: nic.mode === 'none' ? 'no cable' : 'from the LAN\'s DHCP, which Vireo does not see: install the guest agent to show it' });
    }
  }
  return out;
}
