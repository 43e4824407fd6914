#!/usr/bin/env node
// STAND-IN for the kubelet (no kubelet is packaged for Debian). Not a kubelet: it only
//  - serves GET /healthz on --healthz-bind-address:--healthz-port (kubelet's flags, default 127.0.0.1:10248),
//  - records its argv, env and what it sees of the Ceph keyring to $KUBELET_STANDIN_RECORD,
//  - checks the keyring ($KUBELET_STANDIN_KEYRING) is readable at its path inside the wrapper's
//    mount namespace, and (KUBELET_STANDIN_REQUIRE_KEYRING=1) is unhealthy without it,
//  - when built "broken" (KUBELET_STANDIN_BROKEN=1) never becomes healthy (healthz 500).
import http from 'node:http';
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const version = env.KUBELET_STANDIN_VERSION ?? 'dev';
const broken = env.KUBELET_STANDIN_BROKEN === '1';
const flag = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const port = Number(flag('healthz-port', '10248'));
const bind = flag('healthz-bind-address', '127.0.0.1');
const keyringPath = env.KUBELET_STANDIN_KEYRING ?? '/etc/ceph/ceph.client.k8s.keyring';
const recordFile = env.KUBELET_STANDIN_RECORD ?? '/run/kubelet-standin/record.json';

function keyringView() {
  let readable = false;
  let bytes = 0;
  let hasKey = false;
  try {
    const t = readFileSync(keyringPath, 'utf8');
    readable = true;
    bytes = t.length;
    hasKey = /^\s*key\s*=/m.test(t);
  } catch {}
  // A bind mount made by the wrapper shows up as a mount point at the target in our namespace.
  let boundAtTarget = false;
  try {
    boundAtTarget = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === keyringPath);
  } catch {}
  return { path: keyringPath, readable, bytes, hasKey, boundAtTarget };
}

const requireKeyring = env.KUBELET_STANDIN_REQUIRE_KEYRING === '1';
const healthy = () => !broken && (!requireKeyring || keyringView().readable);

const record = {
  standin: true,
  version,
  broken,
  pid: process.pid,
  startedAt: new Date().toISOString(),
  argv: process.argv.slice(2),
  env: Object.fromEntries(Object.entries(env).filter(([k]) => /^(RKT_|KUBELET_)/.test(k))),
  keyring: keyringView(),
};
mkdirSync(path.dirname(recordFile), { recursive: true });
writeFileSync(recordFile + '.tmp', JSON.stringify(record, null, 1));
renameSync(recordFile + '.tmp', recordFile);

http
  .createServer((req, res) => {
    if (req.url === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' });
      return res.end(ok ? 'ok' : broken ? `kubelet stand-in ${version} is a broken build` : `keyring ${keyringPath} not readable`);
    }
    if (req.url === '/record') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ...record, keyring: keyringView() }));
    }
    res.writeHead(404).end();
  })
  .listen(port, bind, () => console.log(`kubelet stand-in ${version}${broken ? ' (broken)' : ''} pid ${process.pid} on ${bind}:${port}`));
process.on('SIGTERM', () => process.exit(0));
