// R1's systemd points: kill -9 the agent service in a real systemd worker container (stub).
import type { Failure } from './R1.js';

export interface WorkerOutcome {
  kills: number;
  inconsistent: number;
  failures: Failure[];
  seconds: number;
  summary: string;
}

export async function runWorkerPoints(_n: number): Promise<WorkerOutcome> {
  return { kills: 0, inconsistent: 0, failures: [], seconds: 0, summary: 'not run' };
}
