// The simulated fleet (lab/sim-fleet/fleet.ts) for tests: in a temp dir removed when the test file
// ends, running dist/'s CLI unless `cli` names another (the e2e groups run the packaged bin).
import { startSimFleetIn, type SimFleet, type SimFleetOptions } from '../../../lab/sim-fleet/fleet.js';
import { tempDir } from '../../tmp.js';
import { CONTROLLER_CLI, requireBuild } from '../agent/fixture.js';

export type { SimFleet };

export async function startSimFleet(o: SimFleetOptions & { cli?: string[] }): Promise<SimFleet> {
  if (!o.cli) requireBuild();
  return startSimFleetIn(tempDir('nw-simfleet-'), o.cli ?? ['node', CONTROLLER_CLI], o);
}
