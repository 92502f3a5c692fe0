// Drives practitioner mode (`hark hub --practitioner`) in headless Chromium
// on a tablet-sized screen: the practitioner chooses the feeling-safe form
// and the context from the area's lists, hands the tablet to the child, the
// child answers one question and stops; the draft is on the start page,
// resumes at the next question, is finished and handed back, and the
// practitioner sees the form's safeguarding guidance at once; then Sync now.
// A parent then says "no" to taking part: nothing is sent, the draft is
// resumed, and the parent answers (a choice, and typed words).
// Started by the Rust test
// `practitioner::a_practitioner_runs_a_visit_in_a_browser`, which passes
// HARK_URL, HARK_CHROMIUM, HARK_SHOTS, HARK_AXE. Every screen met is audited
// with axe-core (WCAG 2.1 A and AA and best practices): no violations.
"use strict";
const path = require("path");
const { env, check, launch, audit } = require("./harness.cjs");

async function heading(page) {
  return (await page.textContent("h1")).trim();
}

async function face(page, label) {
  const exact = new RegExp("^" + label + "$");
  await page.locator("label.choice").filter({ has: page.locator(".text", { hasText: exact }) }).click();
}

async function next(page) {
  await page.getByRole("button", { name: "Next" }).click();
}

async function shot(page, name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(env("HARK_SHOTS"), name), fullPage: true });
}

(async () => {
  const url = env("HARK_URL");
  const browser = await launch();
  try {
    const tablet = await browser.newContext({
      viewport: { width: 800, height: 1100 }, hasTouch: true,
      bypassCSP: true, // only so that the axe audit can be injected
    });
    const page = await tablet.newPage();
    page.on("pageerror", (e) => { console.log("page error: " + e.message); process.exitCode = 1; });

    // ----- the start page ------------------------------------------------
    await page.goto(url + "/");
    check((await heading(page)) === "Practitioner", "the start page opens");
    check(await page.locator("a[href='/new/feeling-safe-child']").count() === 1, "it offers the area's forms");
    check((await page.textContent("#waiting")).includes("0 responses"), "nothing waits to sync yet");
    await shot(page, "practitioner-start.png");
    await audit(page, "the start page");

    // ----- the context --------------------------------------------------
    await page.click("a[href='/new/feeling-safe-child']");
    await page.selectOption("#setting", "home");
    await page.selectOption("#age_phase", "primary");
    await page.selectOption("#need", "autism");
    await page.fill("#occasion", "Home visit");
    check(await page.locator("#setting option").count() > 5, "the setting is chosen from the area's list");
    await shot(page, "practitioner-context.png");
    await audit(page, "the context page");
    await page.getByRole("button", { name: "Continue" }).click();

    // ----- hand over, child mode ----------------------------------------------
    await page.waitForSelector(".webform.adult h1");
    check((await heading(page)) === "Hand the tablet to the child", "a hand-over screen comes before child mode");
    await shot(page, "practitioner-handover.png");
    await audit(page, "the hand-over screen");
    await page.getByRole("button", { name: "Start child mode" }).click();
    await page.waitForSelector(".webform.child");
    check((await heading(page)).startsWith("Feeling safe"), "child mode starts with the form's title");
    await page.getByRole("button", { name: "Start" }).click();
    check((await heading(page)) === "For the grown-up", "a grown-up is asked for consent");
    await page.getByRole("button", { name: "Yes, I agree" }).click();
    check((await heading(page)) === "Is it OK to ask you?", "then the child for assent");
    await page.getByRole("button", { name: "Yes, I want to" }).click();
    await face(page, "Quite safe");
    await next(page);
    check((await page.textContent("#progress-text")).startsWith("Question 2 of"), "on to the second question");
    await shot(page, "practitioner-child-face.png");
    await audit(page, "a question in child mode");

    // ----- the child stops; the draft waits on the start page -----------------
    await page.getByRole("button", { name: "Stop for now" }).click();
    await page.waitForSelector("text=Stopping for now");
    check((await page.textContent("main")).includes("give the tablet back"), "the child is asked to hand back");
    await shot(page, "practitioner-paused.png");
    await audit(page, "the pause screen");
    await page.getByRole("link", { name: "Practitioner view" }).click();
    await page.waitForSelector("text=Drafts to resume");
    const draft = page.locator("ul.drafts a");
    check(await draft.count() === 1, "the draft is listed to resume");
    const row = await draft.textContent();
    check(row.includes("Feeling safe") && row.includes("Home · Primary (5-11) · Autism · Home visit") &&
      row.includes("1 answer"), "with its form, context and how many answers: " + row);
    check(!row.includes("Quite safe"), "but never its answers");
    await shot(page, "practitioner-drafts.png");
    await audit(page, "the start page with a draft");

    // ----- resumed where it was left, finished ---------------------------------
    await draft.click();
    await page.waitForSelector(".webform.child");
    check((await page.textContent("#progress-text")).startsWith("Question 2 of"), "the draft resumes at the question reached");
    await page.getByRole("button", { name: "Back" }).click();
    check(await page.locator("input[type=radio][value='4']").isChecked(), "with the answer given before the pause");
    await next(page);
    await face(page, "Not safe at all");
    await next(page);
    await face(page, "Very safe");
    await next(page);
    await face(page, "Quite safe");
    await next(page);
    await page.getByRole("button", { name: "I don't know" }).click();
    await next(page);
    await face(page, "No");
    await next(page);
    await next(page); // who they would tell: not required
    await next(page); // what helps: not required
    check((await heading(page)) === "All done?", "the last screen before sending");
    await page.getByRole("button", { name: "Send my answers" }).click();
    await page.waitForSelector("text=Thank you", { timeout: 10000 });
    check((await page.textContent("main")).includes("give the tablet back"), "the end screen asks for the tablet back");
    check(!(await page.textContent("main")).includes("safe at home"), "the child is not shown the guidance");
    await shot(page, "practitioner-handback.png");
    await audit(page, "the hand-back screen");

    // ----- the practitioner's guidance ------------------------------------------
    await page.getByRole("link", { name: "I'm the practitioner: continue" }).click();
    await page.waitForSelector("text=Safeguarding: act on this now");
    const guidance = await page.textContent(".guidance-list");
    check(guidance.includes("URGENT: the child has said they do not feel safe at home"),
      "the form's guidance for the rule raised is shown at once");
    check(!guidance.includes("at school"), "and only that rule's");
    await shot(page, "practitioner-guidance.png");
    await audit(page, "the guidance page");

    // ----- sync --------------------------------------------------------------------
    await page.getByRole("link", { name: "Back to the start" }).click();
    check((await page.textContent("#waiting")).includes("1 response"), "the response waits to sync");
    check(await page.locator("ul.drafts").count() === 0, "and is no longer a draft");
    await page.getByRole("button", { name: "Sync now" }).click();
    await page.waitForSelector("text=Synced: 1 sent");
    check((await page.textContent("#waiting")).includes("0 responses"), "Sync now sends it");
    await shot(page, "practitioner-synced.png");
    await audit(page, "the start page after a sync");

    // ----- a parent's form: a "no" sends nothing; resumed, then answered ----------
    await page.click("a[href='/new/service-satisfaction']");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForSelector(".webform.adult h1");
    check((await heading(page)) === "Your experience of our service", "an adult's form has no hand-over screen");
    await page.getByRole("button", { name: "Start" }).click();
    check((await heading(page)) === "Taking part", "the parent is asked for consent");
    await page.getByRole("button", { name: "No", exact: true }).click();
    await page.waitForSelector("text=That's OK");
    check((await page.textContent("main")).includes("give the tablet back"), "a \"no\" ends kindly and asks for the tablet back");
    await page.getByRole("link", { name: "I'm the practitioner: continue" }).click();
    await page.waitForSelector("text=not sent: consent or assent was refused");
    check(await page.getByRole("button", { name: "Delete this draft" }).count() === 1, "the practitioner may delete the draft");
    await shot(page, "practitioner-declined.png");
    await audit(page, "the page for a response not sent");
    await page.getByRole("link", { name: "Resume" }).click();
    await page.waitForSelector(".webform.adult h1");
    check((await heading(page)) === "Taking part", "resumed at the consent");
    await page.getByRole("button", { name: "Yes, I agree" }).click();
    await page.locator("[data-question='fft'] label.choice").filter({ hasText: /^Good$/ }).click();
    await page.locator("[data-question='fft_why'] textarea").fill("Kind staff");
    await page.getByRole("button", { name: "Send my answers" }).click();
    await page.waitForSelector("text=Thank you", { timeout: 10000 });
    await page.getByRole("link", { name: "I'm the practitioner: continue" }).click();
    await page.waitForSelector("text=No safeguarding prompt was raised");
    check(true, "the parent's answers are sent, and nothing was raised");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.log(e.message);
  process.exit(1);
});
