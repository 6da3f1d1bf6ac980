import { access, copyFile, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { goBuild, startProcess, type ServerProcess } from "../process.js";

// The bundled client in headless Chromium (Debian's chromium package; no
// browser is downloaded), loaded from a page served by clientts/testserver
// together with the demo service. CHROMIUM_PATH overrides /usr/bin/chromium.

const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const here = fileURLToPath(new URL(".", import.meta.url));

let server: ServerProcess | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  try {
    await access(chromiumPath);
  } catch {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium package or set CHROMIUM_PATH`);
  }
  const dir = await mkdtemp(join(inject("scratchDir"), "browser-"));
  const site = join(dir, "site");
  await build({
    entryPoints: [join(here, "../../src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: join(site, "swill-client.js"),
    logLevel: "silent",
  });
  await copyFile(join(here, "index.html"), join(site, "index.html"));
  const bin = join(dir, "testserver");
  await goBuild(inject("repoRoot"), "./clientts/testserver", bin);
  server = await startProcess(bin, ["-addr", "127.0.0.1:0", "-dir", site]);
  context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: chromiumPath,
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
  });
});

afterAll(async () => {
  await context?.close();
  await server?.stop("SIGTERM");
});

it("the bundled client calls, streams, subscribes, fails in a real browser", { timeout: 120_000 }, async () => {
  const page = await context!.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      problems.push(`console: ${msg.text()}`);
    }
  });
  await page.goto(server!.url);
  try {
    await page.waitForSelector("body[data-done]", { timeout: 90_000 });
  } catch (err: unknown) {
    const steps = await page.locator("#steps li").allTextContents();
    throw new Error(`the page did not finish; it shows:\n${steps.join("\n")}\nproblems: ${problems.join("; ")}`, {
      cause: err,
    });
  }
  const result = JSON.parse((await page.textContent("#result")) ?? "{}") as Record<string, unknown>;

  expect(result["unexpected"]).toBeUndefined();
  expect(result["protocol"]).toBe("swill.v1");
  expect(result["add"]).toBe(3);
  expect(result["countdown"]).toEqual([3, 2, 1]);
  expect(result["countdownTrailer"]).toEqual({ total: 3 });
  expect(result["countdownBreak"]).toEqual([1_000_000, 999_999]);
  expect(result["sleep"]).toBeUndefined();
  expect(result["sleepError"]).toMatchObject({ name: "AbortError", swill: false, connection: false });
  expect(result["sleepCancelledWithinMs"]).toBe(true);
  expect(result["sum"]).toBe(10);
  expect(result["echo"]).toBe("hello");
  expect(result["failError"]).toMatchObject({ name: "SwillError", code: 418, message: "I'm a teapot", swill: true });
  expect(result["signupError"]).toMatchObject({
    code: 422,
    data: { age: [{ description: "less than 13" }], name: [{ description: "length less than 2" }] },
  });
  expect(result["timeoutError"]).toMatchObject({ code: 408, swill: true });
  expect(result["afterCancel"]).toBe(42);
  expect(result["state"]).toBe("closed");
  expect(result["pubsubFirst"]).toEqual(["publication", "one", 1]);
  expect(result["pubsubRecovered"]).toEqual([
    ["two", 2],
    ["three", 3],
  ]);
  expect(result["pubsubUnrecovered"]).toEqual(["unrecovered", 9]);
  expect(result["pubsubLive"]).toEqual(["live", 10]);
  expect(result["pubsubEnd"]).toEqual([true, true]);
  expect(result["pubsubRoomEvent"]).toBeUndefined();
  expect(result["pubsubAbortError"]).toMatchObject({ name: "AbortError" });
  expect(problems).toEqual([]);

  // What the page shows, line by line.
  const steps = await page.locator("#steps li").allTextContents();
  expect(steps).toContain("add: 3");
  expect(steps).toContain("countdown: [3,2,1]");
  expect(steps.filter((s) => s.startsWith('sleepError: {"name":"AbortError"'))).toHaveLength(1);
  expect(steps).toContain("afterCancel: 42");
  await page.close();
});
