// Drives the playground page's channels in headless Chromium: the
// declared channels are listed with their message types and settings; a
// live subscription shows the publication the server makes, then one the
// page publishes itself; unsubscribing ends it. It fails (exit status 1)
// at the first assertion that does not hold, and saves a screenshot of the
// page either way.
//
//   node channels.mjs PAGE_URL SCREENSHOT_PATH
//
// Chromium is Debian's (/usr/bin/chromium unless CHROMIUM is set), started
// by chromium.mjs (internal/nodetest), which the Go test copies next to
// this file, with the node_modules that playwright-core resolves from.
import assert from "node:assert/strict";
import { launch } from "./chromium.mjs";

const [pageURL, screenshot] = process.argv.slice(2);
if (pageURL === undefined || screenshot === undefined) {
  console.error("usage: node channels.mjs PAGE_URL SCREENSHOT_PATH");
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

const step = (name) => console.log(`- ${name}`);
const panel = (pattern) => page.locator(`section.channel[data-channel="${pattern}"]`);

/** entries returns a channel panel's transcript: [kind, label, value] per line. */
async function entries(pattern) {
  return panel(pattern)
    .locator("ol.log > li")
    .evaluateAll((lis) =>
      lis.map((li) => [
        li.dataset.kind,
        li.querySelector(".label")?.textContent ?? "",
        li.querySelector("pre")?.textContent ?? "",
      ]),
    );
}

/** waitEntries waits until a channel's transcript has n lines of kind. */
async function waitEntries(pattern, kind, n) {
  await page.waitForFunction(
    ([pattern, kind, n]) =>
      document.querySelectorAll(`section.channel[data-channel="${pattern}"] ol.log > li[data-kind="${kind}"]`)
        .length >= n,
    [pattern, kind, n],
    { timeout: 15_000 },
  );
}

async function waitState(pattern, state) {
  await page.waitForSelector(`section.channel[data-channel="${pattern}"][data-state="${state}"]`, { timeout: 15_000 });
}

let failed;
try {
  step("the page lists the declared channels with their message types");
  await page.goto(pageURL);
  await page.waitForSelector("#channels li");
  await page.waitForSelector('#conn-state[data-state="open"]');
  assert.ok(await page.locator("#channels-head").isVisible());
  const listed = await page
    .locator("#channels li")
    .evaluateAll((lis) => lis.map((li) => [li.dataset.channel, li.querySelector(".kind")?.textContent]));
  assert.deepEqual(listed, [
    ["chat.*", "ChatMessage"],
    ["ticker", "any"],
  ]);
  assert.match(await page.locator("#count").textContent(), /· 2 channels$/);

  step("chat.*: message type with its fields, history, presence, publishing");
  await page.locator('#channels li[data-channel="chat.*"] a').click();
  const chat = panel("chat.*");
  await chat.waitFor();
  assert.equal(await chat.locator(".doc").textContent(), "Chat rooms, one channel per room.");
  assert.equal(await chat.locator(".kind").textContent(), "pattern");
  assert.equal(await chat.locator(".message-type").textContent(), "ChatMessage");
  assert.equal(await chat.locator(".history").textContent(), "last 10 publications; recovered after a reconnection");
  assert.equal(await chat.locator(".presence").textContent(), "yes, with joins and leaves");
  assert.equal(await chat.locator(".publish-allowed").textContent(), "clients may publish");
  const type = chat.locator('.typedef[data-type="ChatMessage"]');
  assert.ok(await type.isVisible(), "the message type's fields are visible without a click");
  assert.deepEqual(await type.locator('tr[data-field="user"] td').allTextContents(), [
    "user",
    "string",
    "required",
    "minLength: 1",
  ]);
  assert.deepEqual(await type.locator('tr[data-field="text"] td').allTextContents(), ["text", "string", "optional", ""]);
  assert.equal(await chat.locator("input.channel-name").inputValue(), "chat.example");

  step("chat.lobby: a live subscription shows the server's publication as it arrives");
  await chat.locator("input.channel-name").fill("chat.lobby");
  await chat.locator("button.subscribe").click();
  await waitState("chat.*", "live");
  // The test's server publishes once the page is among chat.lobby's
  // subscribers.
  await waitEntries("chat.*", "publication", 1);
  let log = await entries("chat.*");
  assert.equal(log[0][0], "leading");
  const first = log.find(([k]) => k === "publication");
  assert.deepEqual(first, ["publication", "← chat.lobby #1", '{"user": "server", "text": "hello from the server"}']);
  assert.ok(
    log.some(([k, l]) => k === "join" && l === "← join on chat.lobby"),
    "the page's own join is shown",
  );

  step("chat.lobby: the page publishes, and its publication comes back live");
  await chat.locator("textarea.message").fill('{"user": "page", "text": "hi from the page"}');
  await chat.locator("button.publish").click();
  await waitEntries("chat.*", "publication", 2);
  log = await entries("chat.*");
  const sent = log.find(([k]) => k === "sent");
  assert.equal(sent[1], "→ published on chat.lobby");
  assert.match(sent[2], /"offset": 2/);
  assert.deepEqual(log.filter(([k]) => k === "publication")[1], [
    "publication",
    "← chat.lobby #2",
    '{"user": "page", "text": "hi from the page"}',
  ]);
  assert.match(await chat.locator(".status").textContent(), /^live: 2 publications$/);

  step("unsubscribe ends the subscription");
  await chat.locator("button.unsubscribe").click();
  await waitState("chat.*", "ended");
  assert.equal(await chat.locator(".status").textContent(), "unsubscribed");

  step("ticker: untyped, no history; the server's hook refuses the page's publication");
  await page.locator('#channels li[data-channel="ticker"] a').click();
  const ticker = panel("ticker");
  await ticker.waitFor();
  assert.equal(await ticker.locator(".message-type").textContent(), "any");
  assert.equal(await ticker.locator(".history").textContent(), "none");
  assert.equal(await ticker.locator(".presence").textContent(), "no");
  assert.equal(await ticker.locator("input.channel-name").inputValue(), "ticker");
  await ticker.locator("textarea.message").fill('"tick"');
  await ticker.locator("button.publish").click();
  await waitEntries("ticker", "error", 1);
  assert.deepEqual(await entries("ticker"), [["error", "✕ not published: error 403: server only", ""]]);

  step("the calls are still listed and usable beside the channels");
  await page.locator('#methods li[data-method="add"] a').click();
  await page.locator('section.method[data-method="add"]').waitFor();

  // Back on chat.*: the panel was kept, with its transcript.
  await page.locator('#channels li[data-channel="chat.*"] a').click();
  assert.equal((await entries("chat.*")).filter(([k]) => k === "publication").length, 2);

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
