// Shared by the browser tests: a classic Notebook server (Debian's jupyter-notebook 6.4) on isolated
// Jupyter directories with the tsgpu kernelspec installed, and a headless Debian chromium driven by
// playwright-core, with its console errors collected. useNotebookBrowser() registers the presence
// checks (before) and the teardown (after) of the calling test file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { CLI, isolatedJupyter, NotebookServer, PYTHON, startNotebook, stopNotebook } from './notebook-server';

export const CHROMIUM = '/usr/bin/chromium';
// Flags from /work/shared/testing.md: a headless Chromium that talks to nothing but the page.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The classic Notebook's kernel indicator while the kernel is idle. */
export const KERNEL_IDLE = '#kernel_indicator_icon.kernel_idle_icon';

export async function waitIdle(page: Page, timeout: number): Promise<void> {
  await page.waitForSelector(KERNEL_IDLE, { timeout });
}

export interface NotebookSession {
  /** The isolated Jupyter directories and the notebook root live here. */
  tmp: string;
  env: NodeJS.ProcessEnv;
  server: NotebookServer;
  context: BrowserContext;
  /** Console errors of every watched page, in order. */
  consoleErrors: string[];
  /** Collects the page's console errors into consoleErrors. */
  watch(page: Page): Page;
  /** The browser's first tab, watched, at `route` on the server (e.g. `tree`), logged in with the token. */
  open(route: string): Promise<Page>;
  /** Fails on console errors other than the known noise of Debian's notebook 6.4. */
  assertNoConsoleErrors(): void;
  /** Kills the page's kernel, closes the browser and stops the server; returns its leftover kernel pids. */
  shutdown(page: Page): Promise<number[]>;
}

export interface NotebookBrowser {
  /** Isolated Jupyter directories (tsgpu installed), a classic Notebook server on them, a fresh Chromium. */
  start(viewport: { width: number; height: number }): Promise<NotebookSession>;
}

/**
 * Registers, for the calling test file, a before() that fails (never skips) when the browser, the
 * server or the build is missing, and an after() that closes the browser, removes its profile,
 * stops the server and removes the isolated Jupyter directories. `label` names those directories.
 */
export function useNotebookBrowser(label: string): NotebookBrowser {
  let tmp = '';
  let server: NotebookServer | undefined;
  let context: BrowserContext | undefined;
  let userDataDir = '';
  const consoleErrors: string[] = [];

  before(() => {
    // Fail (never skip) when the browser or the server is missing.
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/install-system-deps.sh)`);
    assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: run scripts/install-system-deps.sh`);
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  });

  after(async () => {
    if (context !== undefined) await context.close().catch(() => undefined);
    if (userDataDir !== '') fs.rmSync(userDataDir, { recursive: true, force: true });
    if (server !== undefined) await stopNotebook(server);
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  return {
    async start(viewport) {
      const jupyter = isolatedJupyter(label);
      tmp = jupyter.tmp;
      const started = await startNotebook(jupyter.tmp, jupyter.env);
      server = started;
      userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-chromium-'));
      const browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout: 60_000,
      });
      context = browser;
      const watch = (page: Page): Page => {
        page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
        return page;
      };
      return {
        tmp: jupyter.tmp,
        env: jupyter.env,
        server: started,
        context: browser,
        consoleErrors,
        watch,
        async open(route) {
          const page = watch(browser.pages()[0] ?? await browser.newPage());
          // The ?token= login sets the auth cookie for the notebook pages too.
          await page.goto(`${started.url}${route}?token=${started.token}`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
          return page;
        },
        assertNoConsoleErrors() {
          // Known noise on Debian's notebook 6.4: the ipywidgets nbextension is not installed.
          const relevant = consoleErrors.filter((text) => !/favicon|Failed to load resource|nbextensions\/widgets/.test(text));
          assert.deepEqual(relevant, [], 'no errors in the browser console');
        },
        async shutdown(page) {
          await page.evaluate('Jupyter.notebook.kernel.kill()');
          await browser.close();
          context = undefined;
          const leftovers = await stopNotebook(started);
          server = undefined;
          return leftovers;
        },
      };
    },
  };
}
