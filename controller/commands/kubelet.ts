// nodewright kubelet build: the seed's patched kubelet (S5), built from the operator's Kubernetes
// clone with the operator's Go and registered in the controller's store as `artifact add` does
// (the controller hashes and signs it), under version <ref>-nw.<n>. docs/kubelet-build.md.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { NwError } from '../../host/errors.js';
import { exec } from '../../host/exec.js';
import { removeWorktreeSync, runKubeletBuild } from '../kubelet-build/build.js';
import { locateGo } from '../kubelet-build/go.js';
import { parsePatch } from '../kubelet-build/patch.js';
import { buildVersion, checkRef, nextBuildNumber, planKubeletBuild } from '../kubelet-build/plan.js';
import { addArtifact, listArtifacts } from './artifact.js';
import { out, printJson, withClient, withOperator, type OperatorOpts } from './operator.js';

interface BuildOpts extends OperatorOpts {
  src: string;
  ref: string;
  patch: string;
  go?: string;
  log?: string;
  timeout: string;
}

const progress = (line: string) => void process.stderr.write(`kubelet build: ${line}\n`);

function readPatch(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read --patch ${file} (${(e as NodeJS.ErrnoException).code}): give the patch file, e.g. patches/kubelet-1.10-cephfs-fuse-id.patch`);
  }
}

function checkSrc(src: string): void {
  if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NwError('NW_USAGE', `--src ${src} is not a directory: give your Kubernetes clone (git clone https://github.com/kubernetes/kubernetes)`);
  }
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z');

export function registerKubeletCommands(program: Command): void {
  const kubelet = program.command('kubelet').description('the patched kubelet');
  withOperator(
    kubelet
      .command('build')
      .description('build the patched kubelet from a Kubernetes clone and register it as artifact <ref>-nw.<n>')
      .requiredOption('--src <dir>', 'the Kubernetes git clone (left as it is: the build runs in a worktree)')
      .requiredOption('--ref <ref>', 'the tag to build, e.g. v1.10.4')
      .requiredOption('--patch <file>', 'the patch, e.g. patches/kubelet-1.10-cephfs-fuse-id.patch')
      .option('--go <path>', 'the go binary or its bin directory (default: go on PATH)')
      .option('--log <file>', 'the build log (default: $TMPDIR/nodewright-kubelet-build-<ref>-<time>.log)')
      .option('--timeout <seconds>', 'limit for make WHAT=cmd/kubelet', '3600'),
  ).action(async (o: BuildOpts) => {
    checkRef(o.ref);
    const src = path.resolve(o.src);
    checkSrc(src);
    const patchFile = path.resolve(o.patch);
    const patch = parsePatch(readPatch(patchFile), patchFile);
    const timeout = Number(o.timeout);
    if (!Number.isInteger(timeout) || timeout < 1) throw new NwError('NW_USAGE', `--timeout ${o.timeout} must be a whole number of seconds`);
    const logFile = path.resolve(o.log ?? path.join(os.tmpdir(), `nodewright-kubelet-build-${o.ref}-${stamp()}.log`));
    if (!statSync(path.dirname(logFile), { throwIfNoEntry: false })?.isDirectory()) throw new NwError('NW_USAGE', `--log ${logFile}: its directory does not exist`);
    const go = await locateGo(exec, o.go, process.env.PATH ?? '');
    const result = await withClient(o, async (client) => {
      // an unreachable controller fails now, not after the build; the number is taken now so the
      // binary can carry its version (a build registering the same version meanwhile: NW_EXISTS)
      const version = buildVersion(o.ref, nextBuildNumber(await listArtifacts(client), o.ref));
      const workDir = mkdtempSync(path.join(os.tmpdir(), 'nodewright-kubelet-build-'));
      try {
        const plan = planKubeletBuild({
          src,
          ref: o.ref,
          version,
          patchFile,
          go,
          workDir,
          logFile,
          makeTimeoutMs: timeout * 1000,
          env: process.env,
        });
        // Ctrl-C (the terminal signals make too) or a stop: leave no worktree behind
        let registering = false;
        const interrupted = (sig: NodeJS.Signals) => {
          removeWorktreeSync(plan);
          rmSync(workDir, { recursive: true, force: true });
          progress(`interrupted by ${sig}; worktree removed, ${registering ? 'check `nodewright artifact ls` for ' + version : 'nothing registered'}`);
          process.exit(sig === 'SIGINT' ? 130 : 143);
        };
        process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
        try {
          return await runKubeletBuild(plan, patch, {
            exec,
            progress,
            register: (file, v) => {
              registering = true;
              return addArtifact(client, file, { kind: 'kubelet-binary', version: v });
            },
          });
        } finally {
          process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
        }
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    });
    if (o.json) printJson(result);
    else out(`${result.artifact.kind} ${result.artifact.version} sha256=${result.artifact.sha256} size=${result.artifact.size} (log ${result.log})`);
  });
}
