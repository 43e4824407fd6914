// globalSetup of the dashboard's browser tests: Debian's Chromium must be there (never skipped:
// lab/install-deps.sh installs it), and the packaged controller fresh (each test file starts its own
// controller from it with simulated agents, test/e2e/ui/lab.ts, and stops exactly that).
import { requireChromium } from '../../../lab/chromium/browser.js';
import { ensureFreshPackage, packagedBin } from '../build.js';

export default async function setup(): Promise<void> {
  requireChromium();
  ensureFreshPackage('ui');
  packagedBin('controller');
}
