// What every browser test shares: its settings from the environment (set
// by `hark_tests::run_browser_script`), a check that prints TAP-style
// lines and stops at the first failure, and Debian's Chromium launched
// headless.
"use strict";
const { chromium } = require("playwright-core");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(name + " is not set");
  return v;
};

function check(condition, message) {
  if (!condition) throw new Error("FAILED: " + message);
  console.log("ok - " + message);
}

function launch() {
  return chromium.launch({
    executablePath: env("HARK_CHROMIUM"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

module.exports = { env, check, launch };
