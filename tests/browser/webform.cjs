// Drives hark's web form on an event hub in headless Chromium (Debian's):
// a child on a phone joins with the event code, answers the feeling-safe
// form by tapping faces, asks for the question to be read out (the speech
// call is observed), reloads mid-form and finds the answers kept, and sends;
// a parent on a tablet answers the satisfaction form while the connection
// drops, and the answers still arrive. Saves screenshots at both sizes.
// Started by the Rust test `hub::a_child_answers_with_faces_in_a_browser`,
// which passes HARK_URL, HARK_CODE, HARK_CHROMIUM, HARK_SHOTS, HARK_AXE.
// Every screen met is audited with axe-core (WCAG 2.1 A and AA and axe's
// best practices): no violations allowed.
"use strict";
const path = require("path");
const { env, check, launch, audit } = require("./harness.cjs");

// The browser's speech synthesis, replaced by a recorder (headless Chromium
// has no voices); the web form calls it exactly as it would the real one.
function spyOnSpeech() {
  window.__spoken = [];
  const recorder = {
    speak(u) { window.__spoken.push({ text: u.text, lang: u.lang }); },
    cancel() {}, pause() {}, resume() {}, getVoices() { return []; },
    speaking: false, pending: false, paused: false,
  };
  Object.defineProperty(window, "speechSynthesis", { value: recorder, configurable: true });
  if (typeof window.SpeechSynthesisUtterance !== "function") {
    window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  }
}

async function join(page, url, code) {
  await page.goto(url);
  await page.fill("#code", "NOPE99");
  await page.click("button[type=submit]");
  check((await page.textContent(".problem")).includes("not right"), "a wrong event code is refused");
  await page.fill("#code", code.toLowerCase());
  await page.click("button[type=submit]");
  await page.waitForURL(/\/forms$/);
  check(true, "the right code opens the list of surveys");
}

async function heading(page) {
  return (await page.textContent("h1")).trim();
}

async function face(page, label) {
  const exact = new RegExp("^" + label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$");
  await page.locator("label.choice").filter({ has: page.locator(".text", { hasText: exact }) }).tap();
}

async function next(page) {
  await page.getByRole("button", { name: "Next" }).click();
}

(async () => {
  const url = env("HARK_URL");
  const code = env("HARK_CODE");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    // ----- a child on a phone -------------------------------------------
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      bypassCSP: true, // only so that the axe audit can be injected
    });
    await phone.addInitScript(spyOnSpeech);
    const page = await phone.newPage();
    page.on("pageerror", (e) => { console.log("page error: " + e.message); process.exitCode = 1; });
    await page.goto(url);
    check(await page.locator("svg.qr").count() === 1, "the join page shows the QR code");
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, "webform-phone-join.png"), fullPage: true });
    await audit(page, "the join page");
    await join(page, url, code);
    await page.click("a[href='/form/feeling-safe-child']");
    await page.waitForSelector(".webform.child");
    check((await heading(page)).startsWith("Feeling safe"), "child mode starts with the form's title");
    await page.getByRole("button", { name: "Read it to me" }).click();
    let spoken = await page.evaluate(() => window.__spoken);
    check(spoken.length === 1 && spoken[0].text.includes("Feeling safe"), "the start screen is read aloud");
    await page.getByRole("button", { name: "Start" }).click();
    check((await heading(page)) === "For the grown-up", "a grown-up is asked for consent first");
    await page.getByRole("button", { name: "Yes, I agree" }).click();
    check((await heading(page)) === "Is it OK to ask you?", "then the child is asked for assent");
    await page.getByRole("button", { name: "Yes, I want to" }).click();

    check((await page.textContent("#progress-text")).startsWith("Question 1 of"), "progress is shown");
    // A required question cannot be skipped.
    await next(page);
    check((await page.textContent(".question-block .problem")).includes("I don't know"),
      "a required question asks for an answer, offering \"I don't know\"");
    await face(page, "Quite safe");
    await page.getByRole("button", { name: "Read it to me" }).click();
    spoken = await page.evaluate(() => window.__spoken);
    check(spoken.length === 2 && /school/i.test(spoken[1].text) && spoken[1].lang === "en",
      "the question is read aloud in the form's language: " + JSON.stringify(spoken[1]));
    await page.getByRole("button", { name: "Easy read" }).click();
    check(await page.getByRole("button", { name: "Easy read" }).getAttribute("aria-pressed") === "true",
      "the easy-read toggle is on");
    check((await heading(page)).startsWith("Do you feel safe at school?"), "easy read shows the easy-read wording");
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, "webform-phone-face.png"), fullPage: true });
    await audit(page, "a face question in child mode");
    await next(page);
    await face(page, "Very safe");
    await next(page);

    // A reload mid-form keeps the answers and the place.
    await page.reload();
    await page.waitForSelector(".webform.child");
    check((await page.textContent("#progress-text")).startsWith("Question 3 of"), "a reload keeps the place");
    await page.getByRole("button", { name: "Back" }).click();
    check(await page.locator("input[type=radio][value='5']").isChecked(), "a reload keeps the answers");
    await next(page);

    await face(page, "In the middle");
    await next(page);
    await face(page, "Safe");
    await next(page);
    await page.getByRole("button", { name: "I don't know" }).click();
    await next(page);
    // goes_clubs: "No", so skip logic leaves out "how safe at your club".
    await face(page, "No");
    await next(page);
    check(!(await page.textContent("h1")).includes("club"), "skip logic leaves out the club question");
    await face(page, "A friend");
    await next(page);
    await page.fill("textarea", "My dog and my big sister");
    await next(page);
    check((await heading(page)) === "All done?", "a last screen before sending");
    await page.getByRole("button", { name: "Send my answers" }).click();
    await page.waitForSelector("text=Thank you", { timeout: 10000 });
    check(true, "the calm end screen thanks the child once the hub has stored the answers");
    const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("hark.draft.")));
    check(left.length === 0, "nothing is left on the phone once stored");
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, "webform-phone-done.png"), fullPage: true });
    await audit(page, "the end screen");
    await phone.close();

    // ----- a tablet ---------------------------------------------------------
    const tablet = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true, bypassCSP: true });
    await tablet.addInitScript(spyOnSpeech);
    const t = await tablet.newPage();
    t.on("pageerror", (e) => { console.log("page error: " + e.message); process.exitCode = 1; });
    await join(t, url, code);
    await t.goto(url + "/form/feeling-safe-child");
    await t.getByRole("button", { name: "Start" }).click();
    await t.getByRole("button", { name: "Yes, I agree" }).click();
    await t.getByRole("button", { name: "Yes, I want to" }).click();
    // Keyboard only: focus starts on the question, Tab reaches the faces,
    // the arrow keys choose one.
    check(await t.evaluate(() => document.activeElement.classList.contains("question")),
      "focus moves to the question on each new screen");
    await t.keyboard.press("Tab");
    await t.keyboard.press("ArrowRight");
    check(await t.locator("input[type=radio][value='2']").isChecked(), "a face can be chosen with the keyboard");
    await face(t, "Very safe");
    await t.emulateMedia({ reducedMotion: "reduce" });
    await t.getByRole("button", { name: "Back" }).click();
    check(await t.evaluate(() => getComputedStyle(document.querySelector(".screen")).animationName) === "none",
      "nothing moves when the device asks for reduced motion");
    await t.getByRole("button", { name: "Yes, I want to" }).click();
    await t.waitForTimeout(300);
    await t.screenshot({ path: path.join(shots, "webform-tablet-face.png"), fullPage: true });

    // A parent answers the satisfaction form (adult mode: one page).
    await t.goto(url + "/form/service-satisfaction");
    await t.waitForSelector(".webform.adult");
    await t.getByRole("button", { name: "Start" }).click();
    await t.getByRole("button", { name: "Yes, I agree" }).click();
    check(await t.locator(".question-block").count() > 5, "adult mode shows the questions on one page");
    await t.getByRole("button", { name: "Send my answers" }).click();
    check((await t.textContent(".summary")).includes("Please check"), "a missing required answer is listed");
    await face(t, "Very good");
    await t.fill("textarea >> nth=0", "Kind staff who listened");
    await t.waitForTimeout(300);
    await t.screenshot({ path: path.join(shots, "webform-tablet-adult.png"), fullPage: true });
    await audit(t, "a form in adult mode");
    // The connection drops as the parent sends: the answers wait and go later.
    await tablet.setOffline(true);
    await t.getByRole("button", { name: "Send my answers" }).click();
    await t.waitForSelector("text=No connection to the hub", { timeout: 10000 });
    check(true, "with no connection the form says it will keep trying");
    await tablet.setOffline(false);
    await t.waitForSelector("text=Thank you", { timeout: 20000 });
    check(true, "the answers arrive once the connection is back");
    // A parent answers a form in Polish, switching language part way.
    await t.goto(url + "/form/event-feedback");
    await t.waitForSelector(".webform.adult");
    await t.getByRole("button", { name: "Start" }).click();
    await t.getByRole("button", { name: "Yes, I agree" }).click();
    check((await t.textContent("#q-thanks")).includes("Two more questions") &&
      await t.locator("#q-thanks input, #q-thanks textarea").count() === 0,
      "a note is shown as text, with nothing to answer");
    check((await t.textContent("#progress-text")).startsWith("Page 1 of 2"),
      "a one-page section is a page of its own");
    check(await t.locator("#q-children").count() === 0, "its questions are not on the first page");
    await face(t, "Very useful");
    await next(t);
    check((await t.textContent(".section-title")).trim() === "Your family", "the section's page shows its title");
    check(await t.locator("#q-children").isVisible() && await t.locator("#q-why").isHidden(),
      "skip logic hides a question until it is asked");
    await t.getByRole("button", { name: "Back" }).click();
    await face(t, "Not useful");
    await t.selectOption("#language", "pl");
    check((await t.textContent("h1")).trim() === "Dzisiejsze spotkanie", "the language switch shows the form in Polish");
    check(await t.locator("label.choice", { hasText: "Nieprzydatne" }).locator("input").isChecked(),
      "answers are kept across a language switch");
    check(await t.evaluate(() => document.documentElement.lang) === "pl", "the page's language follows");
    check(await t.getByRole("button", { name: "Dalej" }).count() === 1 &&
      await t.getByRole("button", { name: "Wstecz" }).count() === 1 &&
      (await t.textContent("#progress-text")).startsWith("Strona 1 z 2") &&
      (await t.textContent("label.language")).startsWith("Język"),
      "hark's own words (buttons, progress, the language switch) are in Polish too");
    await t.getByRole("button", { name: "Dalej" }).click();
    check(await t.locator("#q-why").isVisible(), "and shows it once it is");
    check((await t.textContent(".section-title")).trim() === "Twoja rodzina", "the section's title in Polish");
    await t.fill("#q-children-input", "11");
    await t.getByRole("button", { name: "Wyślij moje odpowiedzi" }).click();
    check((await t.textContent("#q-children .problem")).includes("Od 0 do 10, prosimy."),
      "a number out of range is explained in the author's words, in the chosen language");
    await t.fill("#q-children-input", "2");
    check((await t.locator(".summary").textContent()) === "", "the list of what to check goes once an answer changes");
    await t.fill("#q-why textarea", "Za mało czasu");
    await t.waitForTimeout(300);
    await t.screenshot({ path: path.join(shots, "webform-tablet-polish.png"), fullPage: true });
    await audit(t, "a form in Polish");
    await t.getByRole("button", { name: "Wyślij moje odpowiedzi" }).click();
    await t.waitForSelector("text=Dziękujemy", { timeout: 10000 });
    check((await t.textContent("#app")).includes("Twoje odpowiedzi są zapisane"), "the Polish answers are stored, and the thanks is in Polish");
    await t.screenshot({ path: path.join(shots, "webform-tablet-polish-thanks.png"), fullPage: true });
    // A shared phone or tablet: the next person starts afresh.
    await t.getByRole("button", { name: "Następna osoba" }).click();
    check((await heading(t)) === "Dzisiejsze spotkanie" || (await heading(t)) === "Today's event", "next person starts again");
    check(await t.locator("#q-why").count() === 0, "at the start, with nothing of the last person's");

    // The organiser's screen on the hub: the code, the QR and the count.
    await t.goto(url + "/organiser");
    check((await t.textContent("#submitted")).trim() === "3", "the organiser sees every response counted");
    await t.screenshot({ path: path.join(shots, "webform-tablet-organiser.png"), fullPage: true });
    await audit(t, "the organiser's page");
    await tablet.close();
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
