// Drives the playground page in headless Chromium: it calls add, watches
// countdown stream, sends three items into echo and sees them come back,
// cancels sleep, and checks metadata and errors. It fails (exit status 1)
// at the first assertion that does not hold, and saves a screenshot of
// the page either way.
//
//   node browser.mjs PAGE_URL SCREENSHOT_PATH
//
// Chromium is Debian's (/usr/bin/chromium unless CHROMIUM is set), started
// by chromium.mjs (internal/nodetest), which the Go test copies next to
// this file, with the node_modules that playwright-core resolves from.
import assert from "node:assert/strict";
import { launch } from "./chromium.mjs";

const [pageURL, screenshot] = process.argv.slice(2);
if (pageURL === undefined || screenshot === undefined) {
  console.error("usage: node browser.mjs PAGE_URL SCREENSHOT_PATH");
  process.exit(2);
}

const browser = await launch("swill-playground-", { width: 1280, height: 860 });
const context = browser.context;
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
page.on("console", (msg) => {
  if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
});
// The page needs nothing but its own server.
const origin = new URL(pageURL).host;
page.on("request", (req) => {
  const u = new URL(req.url());
  if (u.host !== origin && u.protocol !== "data:") problems.push(`request outside the server: ${req.url()}`);
});

const step = (name) => console.log(`- ${name}`);
const panel = (name) => page.locator(`section.method[data-method="${name}"]`);

/** open shows the panel of a call by clicking it in the list, and waits for it. */
async function open(name) {
  await page.locator(`#methods li[data-method="${name}"] a`).click();
  await panel(name).waitFor();
}

/** entries returns the transcript of a call: [kind, label, value] per line. */
async function entries(name) {
  return panel(name)
    .locator("ol.log > li")
    .evaluateAll((lis) =>
      lis.map((li) => [
        li.dataset.kind,
        li.querySelector(".label")?.textContent ?? "",
        li.querySelector("pre")?.textContent ?? "",
      ]),
    );
}

/** waitState waits until a call's panel is in state. */
async function waitState(name, state) {
  await page.waitForSelector(`section.method[data-method="${name}"][data-state="${state}"]`, { timeout: 10_000 });
}

/** waitEntries waits until a call's transcript has n lines of kind. */
async function waitEntries(name, kind, n) {
  await page.waitForFunction(
    ([name, kind, n]) =>
      document.querySelectorAll(`section.method[data-method="${name}"] ol.log > li[data-kind="${kind}"]`).length >= n,
    [name, kind, n],
    { timeout: 10_000 },
  );
}

let failed;
try {
  step("the page lists every call with its kind");
  await page.goto(pageURL);
  await page.waitForSelector("#methods li");
  await page.waitForSelector('#conn-state[data-state="open"]');
  const listed = await page
    .locator("#methods li")
    .evaluateAll((lis) => lis.map((li) => [li.dataset.method, li.querySelector(".kind")?.textContent]));
  assert.deepEqual(listed, [
    ["add", "unary"],
    ["countdown", "server stream"],
    ["sum", "client stream"],
    ["fail", "unary"],
    ["sleep", "unary"],
    ["boom", "unary"],
    ["lead", "server stream"],
    ["echo", "bidi stream"],
    ["metadata", "unary"],
    ["echo_untyped", "bidi stream"],
    ["signup", "unary"],
  ]);
  assert.equal(await page.locator("#version").textContent(), "version demo");

  step("add: doc, types, example request, result");
  await open("add");
  assert.equal(await panel("add").locator(".doc").textContent(), "Adds two integers.");
  assert.deepEqual(await panel("add").locator(".types dd").allTextContents(), ["[integer, integer]", "integer"]);
  const textarea = panel("add").locator("textarea");
  assert.equal(await textarea.inputValue(), "[1, 1]");
  await textarea.fill("[20, 22]");
  await panel("add").locator("button.start").click();
  await waitState("add", "done");
  const add = await entries("add");
  assert.deepEqual(
    add.map(([k, , v]) => [k, v]),
    [
      ["sent", "[20, 22]"],
      ["result", "42"],
    ],
  );

  step("countdown: the items stream in, then the trailing metadata");
  await open("countdown");
  await panel("countdown").locator("textarea").fill("5");
  await panel("countdown").locator("button.start").click();
  await waitState("countdown", "done");
  const countdown = await entries("countdown");
  assert.deepEqual(
    countdown.map(([k, , v]) => [k, v]),
    [
      ["sent", "5"],
      ["item", "5"],
      ["item", "4"],
      ["item", "3"],
      ["item", "2"],
      ["item", "1"],
      ["trailing", '{"total": 5}'],
    ],
  );

  step("lead: leading metadata before the items");
  await open("lead");
  await panel("lead").locator("textarea").fill("2");
  await panel("lead").locator("button.start").click();
  await waitState("lead", "done");
  assert.deepEqual(
    (await entries("lead")).map(([k, , v]) => [k, v]),
    [
      ["sent", "2"],
      ["leading", '{"x": "y"}'],
      ["item", "0"],
      ["item", "1"],
    ],
  );

  step("sum: items one by one into a client stream, then end it");
  await open("sum");
  await panel("sum").locator("button.start").click();
  await waitState("sum", "running");
  for (const n of ["1", "2", "39"]) {
    await panel("sum").locator("textarea").fill(n);
    await panel("sum").locator("button.send").click();
  }
  await panel("sum").locator("button.end").click();
  await waitState("sum", "done");
  assert.deepEqual(
    (await entries("sum")).map(([k, , v]) => [k, v]),
    [
      ["sent", "1"],
      ["sent", "2"],
      ["sent", "39"],
      ["sent", ""],
      ["result", "42"],
    ],
  );

  step("metadata: request metadata rows, leading and trailing metadata");
  await open("metadata");
  await panel("metadata").locator("button.add-md").click();
  await panel("metadata").locator(".md-key").last().fill("who");
  await panel("metadata").locator(".md-value").last().fill("browser");
  await panel("metadata").locator("button.add-md").click();
  await panel("metadata").locator(".md-key").last().fill("n");
  await panel("metadata").locator(".md-value").last().fill("7");
  await panel("metadata").locator("button.start").click();
  await waitState("metadata", "done");
  assert.deepEqual(
    (await entries("metadata")).map(([k, , v]) => [k, v]),
    [
      ["sent", "null"],
      ["leading", '{"hello": "world"}'],
      ["trailing", '{"bye": "world"}'],
      ["result", '{"n": 7, "who": "browser"}'],
    ],
  );

  step("signup: its named types' fields and constraints are shown, and are in its JSON Schema");
  await open("signup");
  const signupReq = panel("signup").locator('.typedef[data-type="SignupRequest"]');
  await signupReq.waitFor();
  assert.ok(await signupReq.isVisible(), "the request type's fields are visible without a click");
  const nameRow = signupReq.locator('tr[data-field="name"]');
  assert.ok(await nameRow.isVisible());
  assert.deepEqual(await nameRow.locator("td").allTextContents(), ["name", "string", "required", "minLength: 2"]);
  assert.deepEqual(await signupReq.locator('tr[data-field="age"] td').allTextContents(), [
    "age",
    "integer",
    "required",
    "minimum: 13",
  ]);
  assert.ok(await panel("signup").locator('.typedef[data-type="SignupResponse"] tr[data-field="id"]').isVisible());
  await panel("signup").locator(".schema summary").click();
  const schemaText = await panel("signup").locator(".schema pre").textContent();
  assert.ok(await panel("signup").locator(".schema pre").isVisible());
  const shown = JSON.parse(schemaText);
  assert.equal(shown.request.$ref, "#/$defs/SignupRequest");
  assert.equal(shown.$defs.SignupRequest.properties.name.minLength, 2);
  assert.deepEqual(Object.keys(shown.$defs).sort(), ["SignupRequest", "SignupResponse"]);

  step("signup: a validation error with its data");
  assert.equal(
    await panel("signup").locator("textarea").inputValue(),
    '{"name": "example", "email": "example", "age": 13}',
  );
  await panel("signup").locator("textarea").fill('{"name": "A", "email": "a@example.com", "age": 5}');
  await panel("signup").locator("button.start").click();
  await waitState("signup", "failed");
  const signup = await entries("signup");
  assert.equal(signup[1][0], "error");
  assert.equal(signup[1][1], "✕ error 422 (validation error): Validation Error");
  assert.match(signup[1][2], /"age": \[\{"description": "less than 13"\}\]/);
  assert.match(await panel("signup").locator(".status").textContent(), /^failed with code 422/);

  step("sleep: cancel a call in progress");
  await open("sleep");
  await panel("sleep").locator("textarea").fill("60000");
  await panel("sleep").locator("button.start").click();
  await waitState("sleep", "running");
  // Let the request reach the server before cancelling it.
  await page.waitForTimeout(300);
  await panel("sleep").locator("button.cancel").click();
  await waitState("sleep", "cancelled");
  assert.match(await panel("sleep").locator(".status").textContent(), /^cancelled after \d+ ms$/);

  step("echo: three items sent one by one come back as they are sent");
  await open("echo");
  await panel("echo").locator("button.start").click();
  await waitState("echo", "running");
  const items = ['"hello"', "42", '{"nested": [1, 2.5, null]}'];
  for (const [i, item] of items.entries()) {
    await panel("echo").locator("textarea").fill(item);
    await panel("echo").locator("button.send").click();
    await waitEntries("echo", "item", i + 1);
  }
  await panel("echo").locator("button.end").click();
  await waitState("echo", "done");
  assert.deepEqual(
    (await entries("echo")).map(([k, , v]) => [k, v]),
    [
      ["sent", '"hello"'],
      ["item", '"hello"'],
      ["sent", "42"],
      ["item", "42"],
      ["sent", '{"nested": [1, 2.5, null]}'],
      ["item", '{"nested": [1, 2.5, null]}'],
      ["sent", ""],
    ],
  );
  assert.match(await panel("echo").locator(".status").textContent(), /^done in \d+ ms$/);

  assert.deepEqual(problems, []);
} catch (err) {
  failed = err;
} finally {
  await page.screenshot({ path: screenshot });
  await browser.close();
}
if (failed !== undefined) {
  console.error(failed);
  process.exit(1);
}
console.log("ok");
