// The dashboard's change signal: a revision counter the daemon bumps when something a page shows
// may have changed (a node observation written, a rollout transition, a follower's re-read, an
// enrolment). Live streams look at it at most every 500 ms and send only when it moved; an event
// id is `${bootId}-${revision}`, so a reconnect from another boot (or an older revision) is told
// apart from one that missed nothing.
import { randomBytes } from 'node:crypto';

export class Changes {
  readonly bootId = randomBytes(4).toString('hex');
  private rev = 0;

  /**
   * `also`: a counter that moves by itself and counts too — the fleet view's version, which moves
   * the moment an observation is taken, before the store write that bumps this one.
   */
  constructor(private readonly also: () => number = () => 0) {}

  get revision(): number {
    return this.rev + this.also();
  }

  bump(): void {
    this.rev += 1;
  }

  /** The event id of the current revision. */
  get id(): string {
    return `${this.bootId}-${this.revision}`;
  }

  /** True when `lastId` names this boot and the current revision: the page already shows it. */
  current(lastId: string | null | undefined): boolean {
    return lastId === this.id;
  }
}
