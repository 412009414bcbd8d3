// Fixture: linted as if it lived in renderer/src/. A folder of electron/ that is neither
// api (types) nor shared is closed, including one that does not exist yet.
import { something } from '../../electron/newfolder/thing.ts';
import { other } from '../../electron/sharedstuff/x.ts';

export const x = [something, other];
