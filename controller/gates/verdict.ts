// What one evaluation of a gate says: pass or hold, and the check or alert behind it.
export interface GateVerdict {
  pass: boolean;
  message: string;
}
