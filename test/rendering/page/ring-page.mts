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

/** Each element's tag, and its attributes with style split into declarations. */
function shape(html: string): { tags: string[]; attributes: Map<string, string>[]; text: string } {
  const body = new DOMParser().parseFromString(html, 'text/html').body;
  const elements = [...body.querySelectorAll('*')];
  return {
    tags: elements.map((element) => element.tagName.toLowerCase()),
    attributes: elements.map((element) => {
      const found = new Map<string, string>();
      for (const attribute of [...element.attributes]) {
        if (attribute.name !== 'style') found.set(attribute.name, attribute.value);
        else for (const declaration of attribute.value.split(';')) {
          const [name, ...value] = declaration.split(':');
          if (name?.trim()) found.set(`style ${name.trim()}`, value.join(':').trim());
        }
      }
      return found;
    }),
    text: body.textContent ?? '',
  };
}

/** What the sanitizer changed in some HTML: removed elements, attributes, style declarations, text. */
function sanitizerChanges(html: string): string[] {
  const before = shape(html);
  const after = shape(sanitize(html));
  const changes: string[] = [];
  if (before.tags.join() !== after.tags.join()) {
    const kept = [...after.tags];
    for (const tag of before.tags) {
      const at = kept.indexOf(tag);
      if (at >= 0) kept.splice(at, 1);
      else changes.push(`element <${tag}> removed`);
    }
    for (const tag of kept) changes.push(`element <${tag}> added`);
  } else {
    before.attributes.forEach((attributes, index) => {
      for (const [name, value] of attributes) {
        const now = after.attributes[index]!.get(name);
        if (now === undefined) changes.push(`<${before.tags[index]}> ${name}: ${value.slice(0, 60)} removed`);
        else if (now !== value) changes.push(`<${before.tags[index]}> ${name}: ${value.slice(0, 60)} became ${now.slice(0, 60)}`);
      }
    });
  }
  if (before.text !== after.text) changes.push(`text changed: ${JSON.stringify(before.text.slice(0, 80))} became ${JSON.stringify(after.text.slice(0, 80))}`);
  return [...new Set(changes)];
}

type Rgba = [number, number, number, number];

function rgba(css: string): Rgba {
  const parts = /rgba?\(([^)]+)\)/.exec(css)?.[1]?.split(/[ ,/]+/).filter(Boolean).map(Number) ?? [0, 0, 0, 0];
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
}

function over(top: Rgba, bottom: Rgba): Rgba {
  const alpha = top[3];
  return [0, 1, 2].map((i) => top[i]! * alpha + bottom[i]! * (1 - alpha)).concat(1) as Rgba;
}

function luminance([r, g, b]: Rgba): number {
  const channel = (value: number): number => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** The colour behind an element: its and its ancestors' backgrounds composited, white under all. */
function backgroundOf(element: Element): Rgba {
  const layers: Rgba[] = [];
  for (let node: Element | null = element; node; node = node.parentElement) layers.push(rgba(getComputedStyle(node).backgroundColor));
  return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1] as Rgba);
}

/**
 * Contrast of every element with text of its own inside `selector`: its computed colour, faded by
 * its own and its ancestors' opacity, against the background behind it (WCAG 2 ratio).
 */
function contrasts(selector: string): { text: string; ratio: number; color: string; background: string }[] {
  const found: { text: string; ratio: number; color: string; background: string }[] = [];
  for (const element of document.querySelectorAll(`${selector} *`)) {
    if (element.closest('svg')) continue;
    const own = [...element.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent ?? '').join('').trim();
    if (own === '') continue;
    let opacity = 1;
    for (let node: Element | null = element; node; node = node.parentElement) opacity *= Number(getComputedStyle(node).opacity);
    const background = backgroundOf(element);
    const colour = rgba(getComputedStyle(element).color);
    const text = over([colour[0], colour[1], colour[2], colour[3] * opacity], background);
    const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a) as [number, number];
    found.push({ text: own.slice(0, 40), ratio: (light + 0.05) / (dark + 0.05), color: `rgb(${text.slice(0, 3).map(Math.round).join(',')})`, background: `rgb(${background.slice(0, 3).map(Math.round).join(',')})` });
  }
  return found;
}

/** A rendered report beside the kernel's HTML parsed as it is: table cells, text, the timeline's size. */
function reportFound(index: number, html: string) {
  const box = document.querySelector(`.ring-output[data-index="${index}"]`)!;
  const cells = (root: ParentNode): string[] => [...root.querySelectorAll('.tsgpu-report-table td, .tsgpu-report-table th')].map((cell) => cell.textContent ?? '');
  const expected = new DOMParser().parseFromString(html, 'text/html').body;
  const image = box.querySelector('.tsgpu-timeline');
  const size = image?.getBoundingClientRect();
  return {
    cells: cells(box), expectedCells: cells(expected), text: box.textContent ?? '', expectedText: expected.textContent ?? '',
    timeline: image && size ? { width: size.width, height: size.height, loaded: image instanceof HTMLImageElement ? image.complete && image.naturalWidth > 0 : true } : null,
  };
}

/** What Vega drew for an output: SVG elements, point symbols and bars of its marks (not its legends'). */
function chartDrawn(index: number) {
  const box = document.querySelector(`.ring-output[data-index="${index}"]`)!;
  return { svg: box.querySelectorAll('svg').length, symbols: box.querySelectorAll('svg .mark-symbol.role-mark path').length, rects: box.querySelectorAll('svg .mark-rect.role-mark path').length };
}

Object.assign(window, { ring: { render, sanitize, sanitizerChanges, contrasts, reportFound, chartDrawn } });
