/**
 * Drives a real VS Code workbench (code-server in headless Chromium) as a person would:
 * the command palette, views, the notifications panel. Screenshots go to test-results/ui/.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { packageVsix } from '../../scripts/package';
import { openBrowser, resultsDir, startCodeServer, type BrowserSession, type CodeServer, type StartOptions } from '../launch/codeServer';

export const screenshotsDir = path.join(resultsDir, 'ui');

export class Workbench {
  private constructor(
    readonly server: CodeServer,
    private readonly session: BrowserSession,
    readonly vsix: string,
  ) {}

  get page(): Page {
    return this.session.page;
  }

  /** Packages the extension, installs the .vsix into a fresh code-server, opens the workbench. */
  static async open(options: StartOptions = {}): Promise<Workbench> {
    const vsix = packageVsix(mkdtempSync(path.join(os.tmpdir(), 'agent-memory-vsix-')));
    const server = await startCodeServer({ ...options, vsix });
    let session: BrowserSession | undefined;
    try {
      session = await openBrowser();
      const wb = new Workbench(server, session, vsix);
      await session.page.goto(server.url());
      await session.page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
      // Let the workbench settle (extension host connected, views restored).
      await session.page.waitForSelector('.statusbar', { timeout: 60_000 });
      return wb;
    } catch (err) {
      await session?.close();
      await server.stop();
      throw err;
    }
  }

  /**
   * Opens the command palette and runs a command by its title, as a user would. Contributed
   * commands appear once the extension host has registered them, so the palette is retried.
   */
  async runCommand(title: string, timeoutMs = 90_000): Promise<void> {
    const page = this.page;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 30_000 });
      try {
        await input.fill('>', { timeout: 5_000 });
      } catch (err) {
        // Seen after a long cancelled import: the palette opens inert. Close whatever holds it and retry.
        if (Date.now() > deadline) throw err;
        await page.keyboard.press('Escape');
        await page.waitForTimeout(500);
        continue;
      }
      await page.keyboard.type(title, { delay: 20 });
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      try {
        await row.waitFor({ timeout: 5_000 });
        // The fuzzy match may rank another command first ("Preferences: Color Theme" vs "…Browse
        // Color Themes in Marketplace"): choose the row whose label is exactly the title.
        const exact = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.getByText(title, { exact: true }) }).first();
        if (await exact.count()) await exact.click();
        else await page.keyboard.press('Enter');
        return;
      } catch (err) {
        await page.keyboard.press('Escape');
        if (Date.now() > deadline) throw err;
        await page.waitForTimeout(1_000);
      }
    }
  }

  /** Runs a palette command until `target` shows (a loaded machine can drop keystrokes): 3 tries. */
  async runUntilVisible(title: string, target: Locator, timeoutMs = 30_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.runCommand(title);
      try {
        await target.waitFor({ timeout: timeoutMs });
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  /**
   * Answers code-server's file dialog (a quick input listing the current folder) with `file`.
   * The dialog fills its input with the folder once it has listed it, overwriting anything typed
   * before that: wait for the file's row, then type the path and press Enter once it holds.
   */
  async pickFile(file: string): Promise<void> {
    const page = this.page;
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(file) }).first().waitFor({ timeout: 30_000 });
    for (let attempt = 1; ; attempt++) {
      await input.fill(file);
      if ((await input.inputValue()) === file) break;
      if (attempt === 5) throw new Error(`the file dialog holds ${await input.inputValue()}, not ${file}`);
      await page.waitForTimeout(500);
    }
    await page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /** Opens a workspace file through Quick Open (Ctrl+P), as a user would. */
  async openFile(relativePath: string): Promise<void> {
    const page = this.page;
    const name = relativePath.split('/').pop()!;
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 30_000 });
      await input.fill(relativePath);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
      try {
        await row.waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
        return;
      } catch (err) {
        await page.keyboard.press('Escape');
        if (attempt === 3) throw err;
      }
    }
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(screenshotsDir, { recursive: true });
    const file = path.join(screenshotsDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> {
    await this.session.close();
    await this.server.stop();
  }
}
