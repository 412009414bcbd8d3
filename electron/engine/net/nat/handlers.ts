import type { Handlers } from '../../../api/contract.ts';
import type { EngineParts } from '../../parts.ts';
import { NatForwards } from './forwards.ts';

// The NAT area's API handlers (contract block "NAT port forwards").
export function natHandlers(p: EngineParts): Pick<Handlers, 'forwards.list' | 'forwards.add' | 'forwards.remove'> {
  const fw = new NatForwards(p);
  return {
    'forwards.list': (a) => fw.list(a.vm),
    'forwards.add': (a, c) => fw.add(a.vm, a.nic, a.forward, c),
    'forwards.remove': (a) => fw.remove(a.vm, a.nic, a),
  };
}
