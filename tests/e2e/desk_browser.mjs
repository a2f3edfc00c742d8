// A person at the desk, in Debian's chromium driven by playwright-core (no browser download):
// sign in by the emailed link (found in the local outbox), declare an incident, then approve it on the
// approval page at phone width, measuring the page. Prints one JSON object with what it found.
//
//   node desk_browser.mjs BASE_URL CHROMIUM SHOT_DIR
import { chromium } from "playwright-core";

const [base, executablePath, shots] = process.argv.slice(2);
const out = { steps: [] };
const step = (name, data = {}) => out.steps.push({ name, ...data });

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });

  // 1. Ask for a sign-in link.
  await page.goto(`${base}/desk`);
  await page.fill("#email", "bruno@ledgerly.example");
  await page.click("button[type=submit]");
  step("link requested", { notice: (await page.textContent("[role=status]")) || "" });

  // 2. The outbox shows the sign-in email; follow its link and press "Sign in".
  await page.goto(`${base}/outbox`);
  const signIn = page.locator("a.button", { hasText: "Sign in to the desk" }).first();
  const signInHref = await signIn.getAttribute("href");
  await signIn.click();
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/desk`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "clarion_desk") || null;
  step("signed in", { href: signInHref, session, heading: await page.textContent("h1") });

  // 3. The desk names the components; declare an incident.
  const componentLabels = await page.locator("#declare ~ form label.check").allTextContents();
  await page.fill("#title-en", "Card payments fail at checkout");
  await page.fill("#title-es", "Fallan los pagos con tarjeta al pagar");
  await page.check("input[name=component][value=checkout-api]");
  await page.selectOption("#declare-status", "partial_outage");
  await page.selectOption("#declare-severity", "SEV2");
  await page.click("form[action='/desk/incidents'] button[type=submit]");
  await page.waitForURL(/\/desk\/incidents\//);
  step("declared", { url: page.url(), components: componentLabels, done: await page.textContent("[role=status]") });

  // 4. Back on the desk, the approval waits; the desk links to it for this approver.
  let approvalHref = null;
  for (let i = 0; i < 120 && !approvalHref; i++) {
    await page.goto(`${base}/desk`);
    const link = page.locator("a.button", { hasText: "Review and approve" }).first();
    if (await link.count()) approvalHref = await link.getAttribute("href");
    else await page.waitForTimeout(250);
  }
  if (shots) await page.screenshot({ path: `${shots}/desk.png`, fullPage: false });
  step("approval waiting", { href: approvalHref });

  // 5. The approval page at 375 px: no sideways scrolling, every text box shows its whole text, tap
  // targets at least 24 px.
  const phone = await browser.newContext({
    viewport: { width: 375, height: 812 }, deviceScaleFactor: 1.5, isMobile: true, hasTouch: true,
  });
  const p = await phone.newPage();
  p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  await p.goto(approvalHref);
  const measures = await p.evaluate(() => {
    const doc = document.documentElement;
    const hidden = [...document.querySelectorAll("textarea")]
      .filter((t) => t.scrollHeight > t.clientHeight + 2)
      .map((t) => ({ name: t.name, scrollHeight: t.scrollHeight, clientHeight: t.clientHeight }));
    const small = [...document.querySelectorAll("button, a, input, select, textarea, summary, label.check")]
      .filter((e) => e.offsetParent !== null && !(e.tagName === "A" && e.closest("p, li, dd") && !e.classList.contains("button")))
      .map((e) => ({ tag: e.tagName, name: e.name || e.textContent.trim().slice(0, 30), w: e.getBoundingClientRect().width, h: e.getBoundingClientRect().height }))
      .filter((r) => r.w < 24 || r.h < 24);
    const wide = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1)
      .map((e) => e.tagName + (e.id ? "#" + e.id : ""))
      .slice(0, 10);
    return {
      clientWidth: doc.clientWidth,
      scrollWidth: doc.scrollWidth,
      hidden,
      small,
      wide,
      labels: [...document.querySelectorAll("fieldset h3")].map((h) => h.textContent),
      smsCount: document.querySelector("textarea[data-sms]") ? document.getElementById(document.querySelector("textarea[data-sms]").getAttribute("aria-describedby")).textContent : "",
    };
  });
  // The live count follows typing.
  const sms = p.locator("textarea[data-sms]").first();
  await sms.fill("Pagos con tarjeta: estamos investigando. ".repeat(6));
  const liveCount = await p.locator(`#${await sms.getAttribute("aria-describedby")}`).textContent();
  // A fresh visit (a reload would restore the scroll position): the page as the approver first sees it.
  await p.goto(approvalHref);
  if (shots) {
    await p.screenshot({ path: `${shots}/approval-phone.png` });
    await p.locator("textarea[data-sms]").first().scrollIntoViewIfNeeded();
    await p.locator("textarea[data-sms]").first().evaluate((e) => e.closest("fieldset").scrollIntoView());
    await p.screenshot({ path: `${shots}/approval-phone-sms.png` });
  }
  step("approval page at 375 px", { ...measures, liveCount });

  // 6. Edit only the English status-page text: the page asks before publishing.
  await p.fill("textarea[name='msg:customers/status_page/en']", "We are investigating failing card payments at checkout. Bank transfers work. Next update within the hour.");
  await p.click("button[value=approve]");
  const warning = (await p.locator("#languages").count()) ? await p.textContent("#languages") : "";
  await p.check("input[name=confirm_languages]");
  await p.click("button[value=approve]");
  step("approved", { warning, heading: await p.textContent("h1") });

  out.consoleErrors = consoleErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
