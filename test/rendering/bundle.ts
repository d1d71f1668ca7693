// Bundles the rendering ring's page (page/ring-page.mts) with esbuild into a folder Chromium can
// open from disk: index.html and ring.js. Built at test time from the installed JupyterLab
// packages, never committed.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SOURCE = path.join(__dirname, '..', '..', '..', 'test', 'rendering', 'page', 'ring-page.mts');

/** Writes the page into `folder`; returns the path of its index.html. */
export async function bundleRingPage(folder: string): Promise<string> {
  fs.mkdirSync(folder, { recursive: true });
  // One React for the whole page, the copy react-dom was built against (a second copy from another
  // dependency would break react-dom's import).
  const react = path.dirname(require.resolve('react/package.json', { paths: [path.dirname(require.resolve('react-dom/package.json'))] }));
  await build({
    entryPoints: [SOURCE],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    outfile: path.join(folder, 'ring.js'),
    // Theme and output CSS are injected by the page as text; icons JupyterLab imports are SVG text.
    loader: { '.css': 'text', '.svg': 'text' },
    alias: { react },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const index = path.join(folder, 'index.html');
  fs.writeFileSync(index, '<!doctype html><html><head><meta charset="utf-8"><title>tsgpu rendering ring</title></head>'
    + '<body><div id="ring"></div><script src="ring.js"></script></body></html>');
  return index;
}
