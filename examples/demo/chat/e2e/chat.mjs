// Drives the demo's chat in headless Chromium with two pages, as two
// people in two tabs: both see the room's history on joining, each other
// in the presence list, each other's messages as they are sent, and the
// first sees the second leave. It fails (exit status 1) at the first
// assertion that does not hold, and saves a screenshot either way.
//
//   node chat.mjs CHAT_URL SCREENSHOT_PATH [CHAT_URL_2]
//
// With CHAT_URL_2 the second person's page is served by another node (of
// the same application, sharing its pub/sub engine).
//
// Chromium is Debian's (/usr/bin/chromium unless CHROMIUM is set), started
// by chromium.mjs (internal/nodetest), which the Go test copies next to
// this file, with the node_modules that playwright-core resolves from.
import { launch } from "./chromium.mjs";

const [chatURL, screenshot, otherURL] = process.argv.slice(2);
if (chatURL === undefined || screenshot === undefined) {
  console.error("usage: node chat.mjs CHAT_URL SCREENSHOT_PATH [CHAT_URL_2]");
  process.exit(2);
}

const browser = await launch("swill-chat-", { width: 1100, height: 720 });
const context = browser.context;
const problems = [];
const timeout = 15000;

async function open(name, url = chatURL) {
  const page = await context.newPage();
  page.on("pageerror", (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`${name}: console error: ${msg.text()}`);
  });
  await page.goto(url);
  await page.locator("#state.open").waitFor({ timeout });
  await page.fill("#name", name);
  await page.fill("#room", "test");
  await page.click("#join-button");
  return page;
}

const messageIn = (page, text) => page.locator("#messages li", { hasText: text }).waitFor({ timeout });
const personIn = (page, name) => page.locator("#people li", { hasText: name }).waitFor({ timeout });
async function personGone(page, name) {
  await page.waitForFunction(
    (n) => ![...document.querySelectorAll("#people li")].some((li) => li.textContent === n),
    name,
    { timeout },
  );
}
async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send-button");
}

let failed = false;
let ann;
try {
  ann = await open("ann");
  await messageIn(ann, "welcome to the test room"); // the history, shown on joining
  await personIn(ann, "ann");

  const bob = await open("bob", otherURL ?? chatURL);
  await messageIn(bob, "welcome to the test room");
  await personIn(bob, "ann"); // presence: who was there before
  await personIn(bob, "bob");
  await personIn(ann, "bob"); // and the join reached ann

  await say(ann, "hello from ann");
  await messageIn(bob, "hello from ann");
  await messageIn(ann, "hello from ann");
  await say(bob, "hi ann, bob here");
  await messageIn(ann, "hi ann, bob here");

  await bob.close(); // the tab goes away: its connection, and its subscription
  await personGone(ann, "bob");
  await messageIn(ann, "bob left");
  if (problems.length > 0) throw new Error(problems.join("\n"));
  console.log("chat: history, presence, messages, join and leave all seen in two pages");
} catch (err) {
  failed = true;
  console.error(String(err?.stack ?? err));
} finally {
  if (ann !== undefined) await ann.screenshot({ path: screenshot }).catch(() => {});
  await browser.close();
}
process.exit(failed ? 1 : 0);
