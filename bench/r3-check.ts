// R3's verdict, pure: the campaign passes when the controller never died (target crashes == 0), the
// run was big enough (a pass on a tiny run is no pass) and the honest rollout, running beside the
// hostile agents the whole time, completed.
export interface R3Result {
  crashes: number;
  responses: number;
  honestRollout: string;
  rssPeakMiB: number;
}

export const R3_MIN_RESPONSES = 10_000;

export function r3Verdict(r: R3Result, minResponses = R3_MIN_RESPONSES): { pass: boolean; line: string } {
  const pass = r.crashes === 0 && r.responses >= minResponses && r.honestRollout === 'completed';
  const line = `R3 crashes=${r.crashes} responses=${r.responses} honest_rollout=${r.honestRollout} rss_peak_mib=${Math.round(r.rssPeakMiB)} (target crashes == 0) ${pass ? 'PASS' : 'MISS'}`;
  return { pass, line };
}
