// Which controller of operator.yaml's list to use: the first that answers. "Answers" means any HTTP
// answer (an error status too); a refused or timed-out connection, where nothing reached a server,
// moves on to the next. Errors that say something about the server (TLS identity) stop the search.
import { NwError } from '../../host/errors.js';

const UNANSWERED = Symbol('nodewright.unanswered');

/** An error meaning the request never reached a server, so another controller may take it. */
export function notAnswered(message: string): Error {
  return Object.assign(new Error(message), { [UNANSWERED]: true });
}

export const isUnanswered = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[UNANSWERED] === true;

/** Runs `send` on each base in order until one answers; NW_PUSH naming every failure when none does. */
export async function tryInOrder<B extends { origin: string }, T>(bases: B[], send: (b: B) => Promise<T>, configFile: string): Promise<{ value: T; base: B }> {
  const failures: string[] = [];
  for (const base of bases) {
    try {
      return { value: await send(base), base };
    } catch (e) {
      if (!isUnanswered(e)) throw e;
      failures.push(`${base.origin}: ${(e as Error).message}`);
    }
  }
  const which = bases.length === 1 ? 'the controller' : `any of the ${bases.length} controllers`;
  throw new NwError('NW_PUSH', `cannot reach ${which} (${failures.join('; ')}); is \`nodewright controller run\` up, and is ${configFile} right?`);
}
