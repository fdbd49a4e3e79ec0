// Drives the extension in a real VS Code (code-server) through Debian's
// chromium: the Skills view lists the installed skill with its upgrade, a
// check reports the new version as a notification, and its Upgrade button
// changes the skill's folder on disk. Run by tests/tests/editors.rs, which
// starts the registry, the daemon and code-server, and passes:
//   URL          code-server's page (a folder open)
//   SKILLD_SOCKET the daemon's socket (to ask for a check)
//   SKILL_PATH   the installed skill's folder
//   SHOTS        a folder for screenshots
//   NODE_PATH    where playwright-core is
"use strict";

const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};

function check() {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: env("SKILLD_SOCKET"), method: "POST", path: "/v1/check", headers: { host: "skilld" } },
      (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`check: HTTP ${res.statusCode}`))));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function until(what, pred, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Do `act` until `done` holds (the view re-renders on every event, and a
 *  click on a row being replaced is lost): up to `tries` times, waiting
 *  `ms` after each. */
async function retry(what, act, done, tries = 4, ms = 5_000) {
  for (let i = 0; i < tries; i++) {
    await act();
    try {
      await until(what, done, ms);
      return;
    } catch {}
  }
  throw new Error(`${what}: not after ${tries} tries`);
}

async function main() {
  const shots = env("SHOTS");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60_000);
  try {
    await page.goto(env("URL"));
    await page.waitForSelector(".monaco-workbench");
    console.log("workbench loaded");

    // The Skills view in the activity bar.
    const tab = page.locator('.activitybar a[aria-label^="Skills"], .activitybar li[aria-label^="Skills"]').first();
    await tab.click();
    const row = page.locator('.monaco-list-row:has-text("hello-world")').first();
    await row.waitFor();
    await until("the upgrade in the view", async () => (await row.innerText()).includes("1.0.0 ↑ 1.1.0"));
    console.log(`view: ${(await row.innerText()).replace(/\s+/g, " ")}`);
    // Clicking the skill opens its SKILL.md.
    const tabOpen = () => page.locator('.tabs-container .tab:has-text("SKILL.md")').count().then((n) => n > 0);
    await retry("SKILL.md open", () => row.click(), tabOpen);
    console.log("SKILL.md opened from the view");
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, "vscode-skills.png") });

    // A check under the notify policy: the notification, then its Upgrade.
    await check();
    const toast = page.locator('.notification-toast:has-text("can be upgraded")').first();
    await toast.waitFor();
    console.log(`notification: ${(await toast.innerText()).replace(/\s+/g, " ")}`);
    await page.waitForTimeout(700);
    await page.screenshot({ path: path.join(shots, "vscode-notification.png") });
    await toast.locator('a.monaco-button:has-text("Upgrade"), .monaco-button:has-text("Upgrade")').first().click();
    const card = path.join(env("SKILL_PATH"), "skill.yaml");
    await until("the folder on disk at 1.1.0", () => fs.readFileSync(card, "utf8").includes("version: 1.1.0"));
    console.log("upgraded on disk: skill.yaml says 1.1.0");
    await until("the view at 1.1.0", async () => (await row.innerText()).includes("1.1.0") && !(await row.innerText()).includes("↑"));
    console.log(`view after: ${(await row.innerText()).replace(/\s+/g, " ")}`);

    // The context menu: Roll Back puts the folder back to 1.0.0.
    await retry(
      "the folder on disk at 1.0.0",
      async () => {
        await page.keyboard.press("Escape");
        await row.click({ button: "right" });
        const item = page.getByRole("menuitem", { name: "Roll Back" });
        await item.waitFor({ timeout: 5_000 }).catch(() => {});
        await item.hover().catch(() => {});
        await page.keyboard.press("Enter");
      },
      () => fs.readFileSync(card, "utf8").includes("version: 1.0.0"),
    );
    await until("the view at 1.0.0", async () => (await row.innerText()).includes("1.0.0"));
    console.log(`rolled back from the context menu: ${(await row.innerText()).replace(/\s+/g, " ")}`);
  } catch (e) {
    await page.screenshot({ path: path.join(shots, "failure.png") }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().then(
  () => console.log("e2e: ok"),
  (e) => {
    console.error(`e2e: ${e.stack || e}`);
    process.exit(1);
  },
);
