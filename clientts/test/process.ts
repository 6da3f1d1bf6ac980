import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

/** A server process started by the tests. */
export interface ServerProcess {
  /** The URL the server printed on its first line of stdout. */
  readonly url: string;
  readonly proc: ChildProcess;
  /** Sends signal (SIGTERM by default) and waits for the process to exit; SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** goBuild builds the Go package pkg (relative to root) into the binary out. */
export async function goBuild(root: string, pkg: string, out: string): Promise<void> {
  await promisify(execFile)("go", ["build", "-o", out, pkg], { cwd: root });
}

/**
 * startProcess runs bin with args and resolves once it has printed its URL
 * on the first line of stdout.
 */
export async function startProcess(bin: string, args: readonly string[], timeoutMs = 20_000): Promise<ServerProcess> {
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${bin}: no URL printed within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: proc.stdout! });
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (${code ?? signal}) before printing its URL; stderr:\n${stderr}`));
    });
  });
  return {
    url,
    proc,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return;
      }
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
