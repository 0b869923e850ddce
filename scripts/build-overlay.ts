// Builds the stream overlays' script and stylesheet into dist/overlay (npm run build does; the browser
// tests call buildOverlay themselves). Plain TypeScript bundled with graphql-ws's client, minified.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OVERLAY_OUT = path.join(ROOT, 'dist', 'overlay');

/** Writes overlay.js and overlay.css; returns the script's size in bytes (and gzipped, as served with compression). */
export async function buildOverlay(outDir = OVERLAY_OUT): Promise<{ bytes: number }> {
  await fs.mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, 'src', 'overlay', 'page.ts')],
    outfile: path.join(outDir, 'overlay.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome103'], // OBS 28+ ships Chromium 103 in its browser source
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await fs.copyFile(path.join(ROOT, 'src', 'overlay', 'overlay.css'), path.join(outDir, 'overlay.css'));
  return { bytes: (await fs.stat(path.join(outDir, 'overlay.js'))).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { bytes } = await buildOverlay();
  console.log(`Overlay script: ${bytes} bytes (${path.relative(process.cwd(), OVERLAY_OUT)}/overlay.js)`);
}
