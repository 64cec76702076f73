import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where tests save screenshots (gitignored): test-artifacts/ at the repository root. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The phone viewport of the pages' small-screen checks (an iPhone 12–15's CSS pixels). */
export const PHONE = { width: 390, height: 844 } as const;

/** Skips the calling test (saying why) when the system chromium is absent; else launches it. */
export async function launchChromium(ctx: Mocha.Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    console.log(`    skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
    ctx.skip();
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** Collects what a page logs as console errors and uncaught exceptions. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`    screenshot: ${file}`);
  return file;
}

/** The page's width beyond its viewport (0: nothing scrolls sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/**
 * Elements a person can act on (links, buttons, inputs, selects, textareas, summaries) that
 * have no accessible name, described by tag and id; and images without alt text.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, img, [role=button], [role=img]';
  const out: string[] = [];
  for (const handle of await page.$$(selector)) {
    const tag = await handle.evaluate((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`);
    // An input hidden behind its label is still named by the label.
    const name = await handle.evaluate((el) => {
      const e = el as HTMLElement & { labels?: NodeListOf<HTMLLabelElement> | null; alt?: string };
      const labelled = (e.getAttribute('aria-labelledby') ?? '').split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      const fromLabels = e.labels ? Array.from(e.labels, (l) => l).map((l) => l.textContent ?? '').join(' ') : '';
      return [e.getAttribute('aria-label'), labelled, fromLabels, e.tagName === 'IMG' ? e.getAttribute('alt') : e.textContent, e.getAttribute('title')].map((s) => (s ?? '').trim()).find((s) => s.length > 0) ?? '';
    });
    if (name === '') out.push(tag);
  }
  return out;
}
