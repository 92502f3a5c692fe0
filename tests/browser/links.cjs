// A survey link in headless Chromium: an administrator makes a link in the
// dashboard, a parent opens it on a phone (no app, no account), answers
// and sends; the link's count goes up; a revoked link says the survey has
// closed. Started by `links::a_family_answers_a_survey_link_in_a_browser`
// (HARK_URL, HARK_USER, HARK_PASSWORD, HARK_CHROMIUM, HARK_SHOTS).
"use strict";
const { env, check, launch } = require("./harness.cjs");

// Answers every question shown with its first option, until no unanswered
// question with options is left (skip logic may show more).
async function answerAll(page) {
  for (let round = 0; round < 4; round++) {
    const clicked = await page.evaluate(() => {
      let n = 0;
      for (const block of document.querySelectorAll(".question-block")) {
        const inputs = [...block.querySelectorAll("input[type=radio], input[type=checkbox]")];
        if (inputs.length && !inputs.some((i) => i.checked)) { inputs[0].click(); n++; }
      }
      return n;
    });
    if (!clicked) return;
    await page.waitForTimeout(100);
  }
}

(async () => {
  const url = env("HARK_URL");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    const admin = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const errors = [];
    admin.on("pageerror", (e) => errors.push(String(e)));
    await admin.goto(url + "/");
    await admin.fill("#username", env("HARK_USER"));
    await admin.fill("#password", env("HARK_PASSWORD"));
    await admin.click("#sign-in button");
    await admin.waitForSelector("#admin:not([hidden])");
    await admin.waitForSelector("#link-form-id option[value='local-offer']", { state: "attached" });
    await admin.selectOption("#link-form-id", "local-offer");
    await admin.fill("#link-cap", "200");
    await admin.click("#link-form button[type=submit]");
    await admin.waitForSelector("#made-links code");
    const link = (await admin.textContent("#made-links code")).trim();
    check(link.startsWith(url + "/s/"), "the dashboard shows the new link's address (" + link + ")");
    check((await admin.textContent("#links")).includes("0 of 200"), "the link is listed with its cap");
    await admin.locator("#admin").screenshot({ path: shots + "/links-1-made.png" });

    // A parent on a phone: hark's own web form, nothing from elsewhere.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    const outside = [];
    p.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    p.on("pageerror", (e) => errors.push(String(e)));
    await p.goto(link);
    await p.waitForSelector(".webform.adult");
    await p.getByRole("button", { name: "Start" }).click();
    await p.getByRole("button", { name: "Yes, I agree" }).click();
    await answerAll(p);
    await p.screenshot({ path: shots + "/links-2-phone.png", fullPage: true });
    await p.getByRole("button", { name: "Send my answers" }).click();
    await p.waitForSelector("text=Thank you", { timeout: 20000 });
    check(true, "the parent's answers are saved");
    await p.screenshot({ path: shots + "/links-3-thank-you.png", fullPage: true });
    check(outside.length === 0, "nothing is fetched from elsewhere (" + outside.join(", ") + ")");

    // The count goes up; revoked, the link says the survey has closed.
    await admin.reload();
    await admin.waitForSelector("#links button[aria-label^='Revoke link']");
    check((await admin.textContent("#links")).includes("1 of 200"), "the dashboard counts the answer");
    await admin.click("#links button[aria-label^='Revoke link']");
    await admin.waitForFunction(() => document.getElementById("links").textContent.includes("revoked"));
    const closed = await p.goto(link);
    check(closed.status() === 410, "a revoked link answers 410");
    check((await p.textContent("h1")).includes("closed"), "and says the survey has closed");
    check(errors.length === 0, "no script errors (" + errors.join("; ") + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
