// The CLI side of HA, pure parts: which controller of a list answers, operator.yaml lists, init's
// --store / --san, controller run's --listen override and the status answer.
import { describe, expect, it } from 'vitest';
import { notAnswered, tryInOrder } from '../../../controller/commands/controller-choice.js';
import { parseOperatorConfig } from '../../../controller/commands/client.js';
import { controllerStatusJson, formatControllerStatus, haStatusFromAnswer } from '../../../controller/commands/controller-status.js';
import { controllerYaml, operatorYaml, parseInitStore, parseSan, serverNames } from '../../../controller/commands/init.js';
import { parseControllerConfig } from '../../../controller/config.js';
import { memberOf } from '../../../controller/daemon.js';
import { NwError } from '../../../host/errors.js';

const a = new URL('https://10.0.0.1:7700');
const b = new URL('https://10.0.0.2:7700');
const c = new URL('https://10.0.0.3:7700');

describe('tryInOrder: the first controller that answers', () => {
  it('moves past controllers that did not answer and says which one answered', async () => {
    const tried: string[] = [];
    const r = await tryInOrder([a, b, c], async (u) => {
      tried.push(u.origin);
      if (u === a) throw notAnswered('connect ECONNREFUSED');
      return `answer of ${u.host}`;
    }, 'op.yaml');
    expect(r).toEqual({ value: 'answer of 10.0.0.2:7700', base: b });
    expect(tried).toEqual([a.origin, b.origin]);
  });

  it('stops at an error that is an answer (TLS identity, a coded refusal)', async () => {
    const tried: string[] = [];
    await expect(tryInOrder([a, b], async (u) => {
      tried.push(u.origin);
      throw new NwError('NW_TLS', 'not the controller');
    }, 'op.yaml')).rejects.toMatchObject({ code: 'NW_TLS' });
    expect(tried).toEqual([a.origin]);
  });

  it('none answers: NW_PUSH naming each controller and the config file', async () => {
    const e = await tryInOrder([a, b], async () => Promise.reject(notAnswered('timeout')), '/d/operator.yaml').catch((x) => x);
    expect(e).toMatchObject({ code: 'NW_PUSH' });
    expect(e.message).toContain('any of the 2 controllers');
    expect(e.message).toContain('https://10.0.0.1:7700: timeout');
    expect(e.message).toContain('https://10.0.0.2:7700: timeout');
    expect(e.message).toContain('/d/operator.yaml');
  });
});

describe('operator.yaml controller: one URL or a list', () => {
  const rest = 'ca: ca.crt\ncert: o.crt\nkey: o.key\n';
  it('reads a list in order, and one URL as a list of one', () => {
    expect(parseOperatorConfig(`controller:\n  - https://a:7700\n  - https://b:7701\n${rest}`, '/d/op.yaml').controllers).toEqual(['https://a:7700', 'https://b:7701']);
    expect(parseOperatorConfig(`controller: https://a:7700\n${rest}`, '/d/op.yaml').controllers).toEqual(['https://a:7700']);
  });
  it('refuses an empty list and any non-https entry', () => {
    for (const bad of ['controller: []\n', 'controller: [https://a:1, http://b:2]\n', 'controller: [https://a:1, 7]\n']) {
      expect(() => parseOperatorConfig(bad + rest, 'op.yaml')).toThrow(expect.objectContaining({ code: 'NW_CONFIG' }));
    }
  });
  it('init writes what the parser reads back', () => {
    const one = parseOperatorConfig(operatorYaml({ url: 'https://a:7700' }) , 'op.yaml');
    expect(one.controllers).toEqual(['https://a:7700']);
    const two = parseOperatorConfig(operatorYaml({ url: ['https://a:7700', 'https://b:7701'] }), 'op.yaml');
    expect(two.controllers).toEqual(['https://a:7700', 'https://b:7701']);
  });
});

describe('init --store and --san', () => {
  it('sqlite by default; postgres:// without a password; the password file only with postgres', () => {
    expect(parseInitStore(undefined, undefined)).toEqual({ kind: 'sqlite' });
    expect(parseInitStore('sqlite', undefined)).toEqual({ kind: 'sqlite' });
    expect(parseInitStore('postgres://nw@db:5432/nodewright', '/etc/nw/pg.pass')).toEqual({ kind: 'postgres', url: 'postgres://nw@db:5432/nodewright', passwordFile: '/etc/nw/pg.pass' });
    expect(() => parseInitStore('sqlite', '/p')).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
    expect(() => parseInitStore('mysql://nw@db/x', undefined)).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
  });
  it('a password in the URL is refused without echoing it', () => {
    const e = (() => {
      try {
        parseInitStore('postgres://nw:s3cret@db:5432/nodewright', undefined);
      } catch (x) {
        return x as NwError;
      }
    })();
    expect(e).toMatchObject({ code: 'NW_USAGE', message: expect.stringContaining('--store-password-file') });
    expect(e!.message).not.toContain('s3cret');
  });
  it('the written controller.yaml parses back to the same store', () => {
    const yaml = controllerYaml({ listen: '127.0.0.1:7700', stateDir: './state', url: 'https://127.0.0.1:7700', store: { kind: 'postgres', url: 'postgres://nw@db:5432/nw', passwordFile: '/etc/nw/pg.pass' } });
    const cfg = parseControllerConfig(yaml, '/d/controller.yaml');
    expect(cfg.store).toEqual({ kind: 'postgres', url: 'postgres://nw@db:5432/nw', passwordFile: '/etc/nw/pg.pass' });
  });
  it('--san takes IPs and DNS names; the certificate covers every listen address and san', () => {
    expect(parseSan('ctl-b.example.org')).toBe('ctl-b.example.org');
    expect(parseSan('10.0.0.9')).toBe('10.0.0.9');
    expect(parseSan('[fd00::9]')).toBe('fd00::9');
    for (const bad of ['*.example.org', 'a b', '', 'a..b', '-x']) expect(() => parseSan(bad)).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
    const n = serverNames(['127.0.0.1', '127.0.0.2', 'ctl-a'], ['10.0.0.9', 'vip.example.org']);
    expect(n.ipAddresses).toEqual(['127.0.0.1', '127.0.0.2', '10.0.0.9']);
    expect(n.dnsNames).toEqual(expect.arrayContaining(['localhost', 'ctl-a', 'vip.example.org']));
  });
});

describe('controller run --listen', () => {
  const base = 'stateDir: state\ntls: {cert: c.crt, key: c.key, ca: ca.crt}\ncaKeyFile: ca.key\nsigningKeyFile: s.key\n';
  it('replaces the listen, the member name and URL; the fleet URL stays the file\'s', () => {
    const derived = parseControllerConfig(`listen: "127.0.0.1:7700"\n${base}`, 'c.yaml', { listen: '127.0.0.2:7711' });
    expect(derived).toMatchObject({ listen: { host: '127.0.0.2', port: 7711 }, name: '127.0.0.2:7711', url: 'https://127.0.0.1:7700' });
    expect(memberOf(derived)).toEqual({ name: '127.0.0.2:7711', url: 'https://127.0.0.2:7711' });
    const explicit = parseControllerConfig(`listen: "127.0.0.1:7700"\nurl: "https://vip:7700"\nname: ctl-b\n${base}`, 'c.yaml', { listen: '127.0.0.2:7711' });
    expect(explicit).toMatchObject({ listen: { host: '127.0.0.2', port: 7711 }, name: 'ctl-b', url: 'https://vip:7700' });
    expect(memberOf(explicit)).toEqual({ name: 'ctl-b', url: 'https://127.0.0.2:7711' });
    expect(parseControllerConfig(base, 'c.yaml')).toMatchObject({ name: '127.0.0.1:7700', url: 'https://127.0.0.1:7700' });
    expect(() => parseControllerConfig(base, 'c.yaml', { listen: 'nope' })).toThrow(expect.objectContaining({ code: 'NW_USAGE' }));
  });
});

describe('controller status from a member\'s answer', () => {
  const answer = { leader: 'b', epoch: 4, members: [
    { name: 'a', url: 'https://10.0.0.1:7700', leader: false, lastHeartbeat: '2026-12-07T10:00:00.000Z' },
    { name: 'b', url: 'https://10.0.0.2:7700', leader: true, lastHeartbeat: '2026-12-07T10:00:01.000Z' },
  ] };
  it('--json is the contract, whatever else the member sends', () => {
    expect(controllerStatusJson(haStatusFromAnswer({ ...answer, term: 't4', extra: 1 }))).toEqual(answer);
  });
  it('the table ages heartbeats by this clock when the member sends no ages, and shows the term when it does', () => {
    const s = haStatusFromAnswer(answer, Date.parse('2026-12-07T10:00:03.000Z'));
    const lines = formatControllerStatus(s).split('\n');
    expect(lines[0]).toBe('leader b  epoch 4');
    expect(lines[2]).toMatch(/^a\s+follower\s+https:\/\/10\.0\.0\.1:7700\s+2026-12-07T10:00:00\.000Z\s+3\.0s ago$/);
    expect(lines[3]).toMatch(/^b\s+leader\s.*2\.0s ago$/);
    expect(formatControllerStatus(haStatusFromAnswer({ ...answer, term: 't4', since: '2026-12-07T09:00:00.000Z' })).split('\n')[0]).toBe('leader b  epoch 4  term t4  since 2026-12-07T09:00:00.000Z');
    expect(formatControllerStatus(haStatusFromAnswer({ leader: null, epoch: 0, members: [] })).split('\n')[0]).toMatch(/^leader none  epoch 0: /);
  });
  it('a malformed answer is a coded error, not a crash', () => {
    for (const bad of [null, { epoch: 1, members: [] }, { leader: 'a', epoch: '1', members: [] }, { leader: 'a', epoch: 1, members: [{ name: 'a' }] }]) {
      expect(() => haStatusFromAnswer(bad)).toThrow(expect.objectContaining({ code: 'NW_INTERNAL' }));
    }
  });
});
