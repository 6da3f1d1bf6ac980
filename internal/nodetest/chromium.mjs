// Starts Debian's headless Chromium (or what CHROMIUM names) for the
// browser tests' scripts, with the flags this machine's closed network
// needs, in a fresh profile. nodetest's RunBrowser copies this file next
// to the script it runs; playwright-core resolves from the node_modules
// there.
//
//   import { launch } from "./chromium.mjs";
//   const browser = await launch("swill-chat-", { width: 1100, height: 720 });
//   ... browser.context ...
//   await browser.close(); // the browser and its profile
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

export async function launch(profilePrefix, viewport) {
  const profile = await mkdtemp(join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
