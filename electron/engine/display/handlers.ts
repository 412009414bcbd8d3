import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { typeText, typingPlan } from './type-text.ts';

// The screen's engine-side actions that are not the VNC stream itself.
export function displayHandlers(p: EngineParts): Pick<Handlers, 'vms.typeText'> {
  return {
    'vms.typeText': async (a) => {
      const m = p.vms.machineFor(p.vms.resolve(a.vm));
      // A text with keyless characters is refused the same way whether the VM runs or not.
      typingPlan(a.text);
      return typeText(m.monitor('type text into'), a.text);
    },
  };
}
