// The hub organiser's live count: asks the hub every 3 seconds and updates
// the numbers in place (announced politely, only when they change).
(function () {
  'use strict';
  var submitted = document.getElementById('submitted');
  var waiting = document.getElementById('waiting');
  var noun = document.getElementById('responses-noun');
  if (!submitted || !waiting) return;
  function tick() {
    window.fetch('/organiser/status', { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        if (submitted.textContent !== String(s.submitted)) {
          submitted.textContent = String(s.submitted);
          if (noun) noun.textContent = s.submitted === 1 ? 'response' : 'responses';
        }
        if (waiting.textContent !== String(s.waiting)) waiting.textContent = String(s.waiting);
      }, function () { /* the next tick tries again */ });
  }
  window.setInterval(tick, 3000);
})();
