// Drives the team catalog's web page in Debian's chromium (headless,
// through playwright-core) as a user would: search, filter, open a skill,
// read its SKILL.md, copy its install line; and opens a hostile skill's
// result and page to see that nothing in them runs. Run by
// tests/tests/catalog_server.rs, which starts the registry and
// `skilld catalog`, and passes:
//   URL       the catalog's address (http://127.0.0.1:PORT)
//   NODE_PATH where playwright-core is
// Prints one JSON object of what it saw; the test asserts on it.
"use strict";

const { chromium } = require("playwright-core");

async function main() {
  const url = process.env.URL;
  if (!url) throw new Error("URL is not set");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage();
  const seen = { dialogs: [], errors: [], blocked: [] };
  page.on("dialog", async (d) => {
    seen.dialogs.push(d.message());
    await d.dismiss();
  });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.blocked.push(m.text());
  });
  // Anything fetched from elsewhere than the catalog.
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(url)) foreign.push(r.url());
  });

  // Search from the box on the front page.
  await page.goto(url + "/");
  seen.front = (await page.locator("#count").textContent()).trim();
  await page.fill("input[name=q]", "review");
  await Promise.all([page.waitForNavigation(), page.press("input[name=q]", "Enter")]);
  seen.search = await page.locator("li.result h2 a").allTextContents();
  seen.searchUrl = page.url();

  // Filter by status with the filter form.
  await page.goto(url + "/");
  await page.selectOption("select[name=status]", "draft");
  await Promise.all([page.waitForNavigation(), page.click("form.filters button")]);
  seen.drafts = await page.locator("li.result h2 a").allTextContents();
  seen.draftVersions = await page.locator("li.result .version").allTextContents();

  // Open a skill from the results.
  await page.goto(url + "/?q=doc-reviewer");
  await Promise.all([page.waitForNavigation(), page.click("li.result h2 a")]);
  seen.skillTitle = await page.title();
  seen.skillHeading = (await page.locator("#skill-md h1").textContent()).trim();
  seen.skillTableCells = await page.locator("#skill-md table td").allTextContents();
  seen.install = (await page.locator("#install").textContent()).trim();
  seen.signature = (await page.locator("#signature").textContent()).trim();
  seen.versions = await page.locator("table.versions tbody tr td:first-child").allTextContents();
  // Another version from the table.
  await Promise.all([page.waitForNavigation(), page.click("table.versions a:text('1.0.0-draft')")]);
  seen.draftInstall = (await page.locator("#install").textContent()).trim();

  // The hostile skill: its result and its page.
  await page.goto(url + "/?q=hostile");
  seen.hostileDescription = (await page.locator("li.result .description").first().textContent()).trim();
  await Promise.all([page.waitForNavigation(), page.click("li.result h2 a")]);
  seen.hostileMarkdown = (await page.locator("#skill-md").textContent()).trim();
  seen.hostileLinks = await page.$$eval("a", (as) => as.map((a) => a.getAttribute("href")));
  seen.hostileScripts = await page.$$eval("script", (s) => s.length);
  seen.hostileImages = await page.$$eval("img", (s) => s.length);
  // Click every link made inert inside SKILL.md: none may run anything.
  for (const link of await page.locator("#skill-md a[href='#']").all()) {
    await link.click({ noWaitAfter: true }).catch(() => {});
  }
  await page.waitForTimeout(500);
  seen.pwned = await page.evaluate(() => window.pwned === undefined ? null : String(window.pwned));
  seen.foreign = foreign;
  await browser.close();
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
