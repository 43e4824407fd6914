// Benches that reuse a test lab's TypeScript (test/ is not part of dist/) compile it into one
// temporary ESM file and import it. Such a file lives outside the repository: code in it must find
// the repository from the working directory, never from its own location (test/e2e/build.ts repoRoot).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bundle `entry` (packages stay external: they resolve from the repository's node_modules) into `outfile` and import it. */
export async function importBundled<T>(entry: string, outfile: string): Promise<T> {
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
  return (await import(pathToFileURL(path.resolve(outfile)).href)) as T;
}
