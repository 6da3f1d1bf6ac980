import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import type { TestProject } from "vitest/node";

import { goBuild, startProcess } from "./process.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** ws:// URL of the demo server shared by the tests. */
    demoUrl: string;
    /** The demo server binary, for tests that run their own (restarts). */
    demoBin: string;
    /** The repository's root directory. */
    repoRoot: string;
    /** A scratch directory removed after the run. */
    scratchDir: string;
  }
}

/**
 * Builds the Go demo server once from the repository, starts it on a free
 * loopback port for all test files, and stops it (SIGTERM) afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), "swill-clientts-"));
  const demoBin = join(dir, "demo");
  await goBuild(root, "./examples/demo", demoBin);
  const demo = await startProcess(demoBin, ["-addr", "127.0.0.1:0"]);
  project.provide("demoUrl", demo.url);
  project.provide("demoBin", demoBin);
  project.provide("repoRoot", root);
  project.provide("scratchDir", dir);
  return async () => {
    await demo.stop("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  };
}
