import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { beforeAll, expect, inject, it } from "vitest";

// The package as users get it: compiled by `npm run build`, imported by
// name through its exports map from plain Node, without the test runner.

const run = promisify(execFile);
const pkgRoot = fileURLToPath(new URL("../..", import.meta.url));

beforeAll(async () => {
  await run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: pkgRoot });
});

it("the built ESM package works in plain Node through its exports map", async () => {
  const script = `
    import { connect, SwillError, Code } from "@swillorg/swill-go-client";
    import { Client } from "@swillorg/swill-go-client/compat";
    import { WebSocket } from "ws";
    const url = process.env.DEMO_URL;
    const client = await connect(url, { WebSocket });
    const out = { add: await client.call("add", [2, 3]) };
    out.countdown = [];
    for await (const n of client.serverStream("countdown", 2)) out.countdown.push(n);
    try { await client.call("fail", { code: 418, message: "teapot" }); }
    catch (e) { out.error = [e instanceof SwillError, e.code, Code.NotFound]; }
    client.close();
    const compat = new Client({ url, WebSocket });
    await compat.connect();
    out.compat = await compat.call("add", [4, 5]);
    compat.close();
    console.log(JSON.stringify(out));
  `;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: pkgRoot,
    env: { ...process.env, DEMO_URL: inject("demoUrl") },
  });
  expect(JSON.parse(stdout)).toEqual({ add: 5, countdown: [2, 1], error: [true, 418, 404], compat: 9 });
});
