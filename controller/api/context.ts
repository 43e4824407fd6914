// What the API routes are handed by the daemon (routes stay thin: parse, call, answer).
import type { Role } from '../../pki/index.js';
import type { ControllerStatusJson } from '../commands/controller-status.js';
import type { EnrollDeps } from '../fleet/enroll.js';
import type { Poller } from '../fleet/poller.js';
import type { ControllerMetrics } from '../metrics.js';
import type { FailureDomainSource } from '../rollout/domains.js';
import type { Store } from '../store/store.js';

export interface ApiContext {
  store: Store;
  poller: Poller | null;
  metrics: ControllerMetrics;
  enroll: EnrollDeps;
  caCertHash: string;
  operatorRoles: Role[];
  now: () => Date;
  /** false until start-up finished, and again while stopping. */
  ready: () => boolean;
  /** The failure domain nodes are shown with (controller.yaml failureDomain); default none. */
  failureDomain?: FailureDomainSource;
  /** A node enrolled (the hypervisor mapper places it). */
  onEnrolled?: (node: string) => void;
  /** HA: a write sent to a follower is answered 307 with the leader's URL (absent: this one always leads). */
  leadership?: { leading(): boolean; leaderUrl(): Promise<string | null> };
  /** The fleet's controllers (GET /v1/controller/status). */
  controllerStatus?: () => Promise<ControllerStatusJson>;
}
