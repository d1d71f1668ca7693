// The rendering ring's page, bundled by esbuild at test time (bundle.ts): notebook outputs rendered
// as JupyterLab renders them (its rendermime registry with the default factories, its sanitizer
// and trust rules, its Vega 5 extension, under its light or dark theme CSS), or as a VS Code
// webview shows them (plain HTML under VS Code's theme variables, Vega-Lite through vega-embed).
// Kept out of tsc's project (.mts): it is DOM code, checked by what the browser test finds on it.
import { Widget } from '@lumino/widgets';
import { MimeModel, RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import { Sanitizer } from '@jupyterlab/apputils';
import { rendererFactory as vegaFactory } from '@jupyterlab/vega5-extension';
import vegaEmbed from 'vega-embed';
import lightTheme from '@jupyterlab/theme-light-extension/style/variables.css';
import darkTheme from '@jupyterlab/theme-dark-extension/style/variables.css';
import renderedStyles from '@jupyterlab/rendermime/style/base.css';

type Bundle = Record<string, unknown>;
interface Output { data: Bundle; metadata: Record<string, unknown>; label: string }
type Mode = 'light' | 'dark' | 'vscode-light' | 'vscode-dark';

// VS Code's Light Modern and Dark Modern colours for the variables its notebook webview defines.
const VSCODE_THEMES: Record<'vscode-light' | 'vscode-dark', Record<string, string>> = {
  'vscode-light': {
    '--vscode-editor-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#3b3b3b',
    '--vscode-notebook-outputContainerBackgroundColor': '#ffffff', '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px',
  },
  'vscode-dark': {
    '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-foreground': '#cccccc',
    '--vscode-notebook-outputContainerBackgroundColor': '#1f1f1f', '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px',
  },
};

function addStyle(css: string): void {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
}

function outputBox(root: HTMLElement, output: Output, index: number): HTMLElement {
  const box = document.createElement('div');
  box.className = 'ring-output';
  box.dataset['index'] = String(index);
  box.dataset['label'] = output.label;
  root.appendChild(box);
  return box;
}

async function renderJupyterLab(root: HTMLElement, outputs: Output[], trusted: boolean): Promise<string[]> {
  const registry = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
  // The rank JupyterLab's vega5 extension registers with.
  registry.addFactory(vegaFactory, 57);
  const chosen: string[] = [];
  for (const [index, output] of outputs.entries()) {
    const box = outputBox(root, output, index);
    box.classList.add('jp-OutputArea-output');
    // The output area's rule: an untrusted output only gets a renderer marked safe.
    const mime = registry.preferredMimeType(output.data as never, trusted ? 'any' : 'ensure');
    chosen.push(mime ?? '');
    box.dataset['mime'] = mime ?? '';
    if (!mime) continue;
    const renderer = registry.createRenderer(mime);
    Widget.attach(renderer, box);
    await renderer.renderModel(new MimeModel({ data: output.data as never, metadata: output.metadata as never, trusted }));
  }
  return chosen;
}

async function renderVsCode(root: HTMLElement, outputs: Output[]): Promise<string[]> {
  const chosen: string[] = [];
  for (const [index, output] of outputs.entries()) {
    const box = outputBox(root, output, index);
    // VS Code picks the richest type it has a renderer for: Vega-Lite, then HTML, SVG, text.
    const mime = ['application/vnd.vegalite.v5+json', 'text/html', 'image/svg+xml', 'text/plain'].find((type) => type in output.data) ?? '';
    chosen.push(mime);
    box.dataset['mime'] = mime;
    const content = output.data[mime];
    if (mime === 'application/vnd.vegalite.v5+json') {
      const target = document.createElement('div');
      box.appendChild(target);
      const dark = document.body.dataset['ringMode'] === 'vscode-dark';
      await vegaEmbed(target, content as never, { renderer: 'svg', actions: false, ...(dark ? { theme: 'dark' } : {}) });
    } else if (mime === 'text/html' || mime === 'image/svg+xml') {
      box.innerHTML = String(content);
    } else {
      const pre = document.createElement('pre');
      pre.textContent = String(content);
      box.appendChild(pre);
    }
  }
  return chosen;
}

/** Renders the outputs in a mode; resolves with the MIME type chosen for each. */
async function render(outputs: Output[], mode: Mode, trusted: boolean): Promise<string[]> {
  document.body.dataset['ringMode'] = mode;
  const root = document.getElementById('ring')!;
  if (mode === 'light' || mode === 'dark') {
    addStyle(mode === 'light' ? lightTheme : darkTheme);
    addStyle(renderedStyles);
    // What JupyterLab's themes key on: the Vega renderer draws dark when this says false.
    document.body.dataset['jpThemeLight'] = String(mode === 'light');
    document.body.classList.add('jp-ThemedContainer');
    addStyle(`body { margin: 0; padding: 12px; background: var(--jp-layout-color0); color: var(--jp-content-font-color1);
      font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); }
      .ring-output { padding: 4px 0; }`);
    return renderJupyterLab(root, outputs, trusted);
  }
  for (const [name, value] of Object.entries(VSCODE_THEMES[mode])) document.body.style.setProperty(name, value);
  addStyle(`body { margin: 0; padding: 12px; color: var(--vscode-editor-foreground); background: var(--vscode-notebook-outputContainerBackgroundColor);
    font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
    .ring-output { padding: 4px 0; }`);
  return renderVsCode(root, outputs);
}

/** What JupyterLab's sanitizer makes of some HTML (untrusted outputs go through it). */
function sanitize(html: string): string {
  return new Sanitizer().sanitize(html);
}

Object.assign(window, { ring: { render, sanitize } });
