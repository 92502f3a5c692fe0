// hark's own web form: renders any hark form from the JSON hark-core's form
// model serialises (face scales, choices, yes/no, text, numbers, decimals, dates,
// skip logic, languages, easy read, read aloud, symbols, "don't know" and
// "don't want to say", consent and assent as the audience needs).
//
// Child and young-person forms run in child mode (one question a screen,
// big faces, an easy-read toggle, "read it to me" with the browser's own
// speech synthesis, progress, back, a calm end screen); other forms show
// every question on one page. Answers are kept in localStorage until the
// receiving side says "stored", so a reload or a lost connection loses
// nothing, and a submission is retried until it is acknowledged. The checks
// here only help the respondent: the receiving side checks everything again
// with hark-core's own rules. No framework, nothing fetched from elsewhere.
//
// Practitioner mode (data-mode="practitioner", served by `hark hub
// --practitioner` on the practitioner's own machine) opens one draft held
// in the device store: each answer and the consent are sent as they are
// given and the store keeps them (so a draft resumes where it was left),
// a child's form starts with a "hand the tablet to the child" screen, and
// the end asks the respondent to hand back, then opens the practitioner's
// page (data-done) with whatever safeguarding guidance the submit raised.
(function () {
  'use strict';

  var app = document.getElementById('app');
  var live = document.getElementById('live');
  var FORM_URL = app.getAttribute('data-form-url');
  var SUBMIT_URL = app.getAttribute('data-submit-url');
  var HOME = app.getAttribute('data-home') || '/';
  var PRACTITIONER = app.getAttribute('data-mode') === 'practitioner';
  var DONE = app.getAttribute('data-done') || HOME;
  var CHILD = ['child_4_to_7', 'child_8_to_11', 'young_person_11_to_17'];
  var FACES = { 3: ['😟', '😐', '😊'], 5: ['😢', '🙁', '😐', '🙂', '😄'] };
  var RTL = ['ar', 'fa', 'he', 'ps', 'ur', 'yi'];
  var DONT_KNOW = 'dont_know';
  var PREFER_NOT = 'prefer_not_to_say';
  var MAX_TEXT = 4000;
  // A decimal as the core reads one: digits, optionally a point and digits.
  var DECIMAL = /^-?\d+(\.\d+)?$/;
  var MAX_DIGITS = 28;

  var form = null;
  var state = null;
  var storageKey = '';
  var retryTimer = null;
  var retries = 0;
  // Practitioner mode: what the store has acknowledged, per question (as
  // JSON text), the consent it holds, and the sends waiting their turn.
  var acked = {};
  var ackedConsent = '';
  var pending = {};
  var sending = Promise.resolve();
  var ANSWERS_URL = FORM_URL + '/answers';
  var CONSENT_URL = FORM_URL + '/consent';

  // ----- small helpers -------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = v;
      else if (k === 'on') Object.keys(v).forEach(function (ev) { node.addEventListener(ev, v[ev]); });
      else if (v === true) node.setAttribute(k, '');
      else node.setAttribute(k, String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function has(obj, k) { return Object.prototype.hasOwnProperty.call(obj, k); }

  function tx(text) {
    if (!text) return '';
    if (has(text, state.lang)) return text[state.lang];
    var first = form.languages[0];
    if (has(text, first)) return text[first];
    var keys = Object.keys(text);
    return keys.length ? text[keys[0]] : '';
  }

  // hark's own words (form-words.js) in the respondent's language, or
  // English where it has none; `{name}` filled from `params`.
  var WORDS = window.HARK_WORDS || { en: {} };
  function t(id, params) {
    var lang = String((state && state.lang) || window.navigator.language || 'en');
    var words = WORDS[lang] || WORDS[lang.split('-')[0]] || WORDS.en;
    var s = has(words, id) ? words[id] : WORDS.en[id];
    if (s === undefined) s = id;
    return s.replace(/\{(\w+)\}/g, function (m, k) { return params && has(params, k) ? String(params[k]) : m; });
  }
  // A word as a form's text: every language hark has it in.
  function allLanguages(id) {
    var text = {};
    Object.keys(WORDS).forEach(function (l) { if (has(WORDS[l], id)) text[l] = WORDS[l][id]; });
    return text;
  }

  function isChild() { return CHILD.indexOf(form.audience) >= 0; }
  // A child needs a parent's consent as well as their own assent; a young
  // person (11 to 17) answering alone may give assent without it, as the
  // core's consent rules allow.
  function youngPerson() { return form.audience === 'young_person_11_to_17'; }

  function announce(text) {
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function save() {
    // Practitioner mode: the store holds the answers and consent; only
    // where the respondent is (screen, easy read, language) is kept here.
    var kept = PRACTITIONER
      ? { v: 1, screen: state.screen, easy: state.easy, lang: state.lang }
      : state;
    try { window.localStorage.setItem(storageKey, JSON.stringify(kept)); } catch (e) { /* private mode: kept in memory */ }
    if (PRACTITIONER) sendConsent();
  }

  // ----- practitioner mode: the store keeps every answer -----------------

  function post(url, body) {
    return window.fetch(url, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store', keepalive: true,
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (r.status !== 200) throw new Error((b.error && b.error.message) || t('not_saved'));
        return b;
      });
    });
  }

  // Sends are one at a time, in order (skip logic reads earlier answers
  // first); a question changed again while waiting is sent once, as it is
  // then. An answer the checks here would refuse stays on the page until
  // it is fixed (the store keeps the last good one).
  function sendAnswer(q) {
    if (!has(pending, q.id)) return;
    delete pending[q.id];
    var value = has(state.answers, q.id) ? state.answers[q.id] : null;
    if (value !== null && problemOf(q, value)) return;
    var text = JSON.stringify(value);
    if ((acked[q.id] || 'null') === text) return;
    sending = sending.then(function () {
      return post(ANSWERS_URL, { question: q.id, value: value }).then(function (b) {
        acked[q.id] = text;
        (b.cleared || []).forEach(function (id) { delete state.answers[id]; delete acked[id]; });
      }, function (e) { state.problem = e.message; });
    });
  }

  function queueAnswer(q) {
    if (!PRACTITIONER) return;
    var typed = q.type === 'free_text' || q.type === 'number' || q.type === 'decimal' || q.type === 'date';
    if (has(pending, q.id)) window.clearTimeout(pending[q.id]);
    pending[q.id] = window.setTimeout(function () { sendAnswer(q); }, typed ? 700 : 0);
  }

  // Everything waiting, sent now; resolves once the store has it.
  function flush() {
    Object.keys(pending).forEach(function (id) {
      window.clearTimeout(pending[id]);
      var q = form.questions.filter(function (x) { return x.id === id; })[0];
      if (q) sendAnswer(q);
    });
    walk().asked.forEach(function (q) {
      if (q.type === 'note' || !has(state.answers, q.id)) return;
      if (acked[q.id] !== JSON.stringify(state.answers[q.id])) { pending[q.id] = 0; sendAnswer(q); }
    });
    return sending;
  }

  function sendConsent() {
    var text = JSON.stringify(state.consent);
    if (text === ackedConsent) return;
    var consent = { consent: state.consent.consent, assent: state.consent.assent };
    sending = sending.then(function () {
      return post(CONSENT_URL, consent).then(function () { ackedConsent = JSON.stringify(consent); },
        function (e) { state.problem = e.message; });
    });
  }

  // A draft from the store: its answers and consent, and the screen to
  // go on from (where this browser left it, else the first question
  // without an answer once consent is recorded).
  function resumed(draft) {
    var s = fresh();
    s.answers = draft.answers || {};
    s.consent = draft.consent || s.consent;
    // An adult answering for themselves gives no assent.
    if (!isChild() && s.consent.assent === 'not_recorded') s.consent.assent = 'not_applicable';
    if (draft.language && form.languages.indexOf(draft.language) >= 0) s.lang = draft.language;
    Object.keys(s.answers).forEach(function (id) { acked[id] = JSON.stringify(s.answers[id]); });
    ackedConsent = JSON.stringify(draft.consent || {});
    var here = null;
    try { here = JSON.parse(window.localStorage.getItem(storageKey) || 'null'); } catch (e) { here = null; }
    state = s;
    if (here && here.v === 1 && typeof here.screen === 'number') {
      s.screen = here.screen;
      s.easy = !!here.easy;
      if (form.languages.indexOf(here.lang) >= 0) s.lang = here.lang;
    } else if (Object.keys(s.answers).length) {
      var list = screens();
      var next = walk().asked.filter(function (q) { return q.type !== 'note' && !has(s.answers, q.id); })[0];
      s.screen = next ? Math.max(0, screenOf(next)) : list.length - 1;
    }
    return s;
  }

  function fresh() {
    return {
      v: 1, key: randomKey(), lang: form.languages[0], easy: false,
      consent: { consent: 'not_recorded', assent: isChild() ? 'not_recorded' : 'not_applicable' },
      answers: {}, screen: 0, stage: 'filling', problem: ''
    };
  }

  function load() {
    var raw = null;
    try { raw = window.localStorage.getItem(storageKey); } catch (e) { raw = null; }
    var s = null;
    try { s = raw ? JSON.parse(raw) : null; } catch (e) { s = null; }
    if (!s || s.v !== 1 || typeof s.answers !== 'object') s = fresh();
    if (form.languages.indexOf(s.lang) < 0) s.lang = form.languages[0];
    return s;
  }

  // ----- skip logic and checks (the core decides; these mirror it) ------

  // A plain decimal's sign (-1, 0, 1), whole digits and fraction digits,
  // without leading or trailing zeros.
  function decimalParts(text) {
    var neg = text.charAt(0) === '-';
    var t = (neg ? text.slice(1) : text).split('.');
    var whole = t[0].replace(/^0+/, ''), frac = (t[1] || '').replace(/0+$/, '');
    return { sign: whole === '' && frac === '' ? 0 : (neg ? -1 : 1), whole: whole, frac: frac };
  }

  // Compares two numbers written as text (or whole numbers) exactly, as the
  // core does, with no binary floating point: -1, 0 or 1, or null if either
  // is not a plain decimal.
  function cmpDecimal(a, b) {
    a = String(a); b = String(b);
    if (!DECIMAL.test(a) || !DECIMAL.test(b)) return null;
    var x = decimalParts(a), y = decimalParts(b);
    if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
    var m = x.whole.length - y.whole.length;
    if (m === 0) {
      var len = Math.max(x.frac.length, y.frac.length);
      var dx = x.whole + x.frac.padEnd(len, '0'), dy = y.whole + y.frac.padEnd(len, '0');
      m = dx < dy ? -1 : (dx > dy ? 1 : 0);
    }
    return (m < 0 ? -1 : (m > 0 ? 1 : 0)) * (x.sign || 1);
  }

  function typeOf(qid) {
    var q = form.questions.filter(function (x) { return x.id === qid; })[0];
    return q ? q.type : '';
  }

  function matches(qid, answer, value) {
    if (Array.isArray(answer)) return typeof value === 'string' && answer.indexOf(value) >= 0;
    if (typeOf(qid) === 'decimal' && answer !== DONT_KNOW && answer !== PREFER_NOT) return cmpDecimal(answer, value) === 0;
    return typeof answer === typeof value && answer === value;
  }

  // How a numeric answer compares with a bound (null if either is not a number).
  function compared(qid, kept, bound) {
    if (!has(kept, qid)) return null;
    var a = kept[qid];
    return typeof a === 'number' || typeOf(qid) === 'decimal' ? cmpDecimal(a, bound) : null;
  }

  function holds(c, kept) {
    if (has(c, 'answered')) return has(kept, c.answered);
    if (has(c, 'equals')) return has(kept, c.equals.question) && matches(c.equals.question, kept[c.equals.question], c.equals.value);
    if (has(c, 'one_of')) {
      var qid = c.one_of.question;
      return has(kept, qid) && c.one_of.values.some(function (v) { return matches(qid, kept[qid], v); });
    }
    if (has(c, 'at_least')) { var lo = compared(c.at_least.question, kept, c.at_least.value); return lo !== null && lo >= 0; }
    if (has(c, 'at_most')) { var hi = compared(c.at_most.question, kept, c.at_most.value); return hi !== null && hi <= 0; }
    if (has(c, 'all')) return c.all.every(function (x) { return holds(x, kept); });
    if (has(c, 'any')) return c.any.some(function (x) { return holds(x, kept); });
    if (has(c, 'not')) return !holds(c.not, kept);
    return false;
  }

  // Questions in order; one is asked when it has no condition or its
  // condition holds on the answers kept so far.
  function walk() {
    var kept = {};
    var asked = [];
    form.questions.forEach(function (q) {
      if (!q.relevant || holds(q.relevant, kept)) {
        asked.push(q);
        // A note is shown, never answered.
        if (q.type !== 'note' && has(state.answers, q.id)) kept[q.id] = state.answers[q.id];
      }
    });
    return { asked: asked, kept: kept };
  }

  function optionsOf(q) {
    if (q.type === 'face_scale') return q.labels;
    if (q.type === 'single_choice' || q.type === 'multiple_choice') return q.options;
    if (q.type === 'yes_no') {
      return [
        { id: 'yes', label: allLanguages('yes'), symbol: '👍' },
        { id: 'no', label: allLanguages('no'), symbol: '👎' },
        { id: 'not_sure', label: allLanguages('not_sure'), symbol: '🤔' }
      ];
    }
    return [];
  }

  function validDate(s) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
    var d = new Date(s + 'T00:00:00Z');
    return !isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }

  // A refused bound: the author's words where the form has them.
  function outside(q, text) { return q.constraint_message ? tx(q.constraint_message) : text; }

  // The message for an answer the core would refuse, or '' if it is fine.
  function problemOf(q, a) {
    if (a === DONT_KNOW) return q.allow_dont_know && q.type !== 'free_text' ? '' : t('choose_answer');
    if (a === PREFER_NOT) return q.allow_prefer_not_to_say && q.type !== 'free_text' ? '' : t('choose_answer');
    var ids = optionsOf(q).map(function (o) { return o.id; });
    switch (q.type) {
      case 'face_scale':
        return Number.isInteger(a) && a >= 1 && a <= q.points ? '' : t('choose_face');
      case 'single_choice':
      case 'yes_no':
        return ids.indexOf(a) >= 0 ? '' : t('choose_one');
      case 'multiple_choice': {
        var min = q.min_selected === undefined ? 1 : q.min_selected;
        var max = q.max_selected === undefined ? ids.length : q.max_selected;
        if (!Array.isArray(a) || a.some(function (x) { return ids.indexOf(x) < 0; })) return t('choose_shown');
        if (a.length < min || a.length > max) {
          return outside(q, min === max ? t('choose_exactly', { min: min }) : t('choose_between', { min: min, max: max }));
        }
        return '';
      }
      case 'free_text': {
        var maxLen = q.max_length || MAX_TEXT;
        if (typeof a !== 'string' || a.trim() === '') return t('write_or_leave');
        return Array.from(a).length > maxLen ? outside(q, t('keep_to', { max: maxLen })) : '';
      }
      case 'number':
        if (!Number.isInteger(a)) return t('whole_number');
        return a >= q.min && a <= q.max ? '' : outside(q, t('number_between', { min: q.min, max: q.max }));
      case 'decimal': {
        var digits = typeof a === 'string' ? a.replace(/[-.]/g, '') : '';
        if (typeof a !== 'string' || !DECIMAL.test(a) || digits.length > MAX_DIGITS) {
          return outside(q, t('decimal_shape'));
        }
        var low = q.min !== undefined && cmpDecimal(a, q.min) < 0, high = q.max !== undefined && cmpDecimal(a, q.max) > 0;
        if (!low && !high) return '';
        if (q.min !== undefined && q.max !== undefined) return outside(q, t('number_between', { min: q.min, max: q.max }));
        return outside(q, low ? t('at_least', { min: q.min }) : t('at_most', { max: q.max }));
      }
      case 'date':
        if (typeof a !== 'string' || !validDate(a)) return outside(q, t('a_date'));
        if (q.min && a < q.min) return outside(q, t('date_from', { min: q.min }));
        if (q.max && a > q.max) return outside(q, t('date_to', { max: q.max }));
        return '';
      default:
        return t('cannot_answer');
    }
  }

  // What must change before moving on from (or sending) a question.
  function blocker(q) {
    if (q.type === 'note') return '';
    if (!has(state.answers, q.id)) {
      if (!q.required) return '';
      if (q.required_message) return tx(q.required_message);
      return q.allow_dont_know ? t('answer_or_dont_know') : t('answer_this');
    }
    return problemOf(q, state.answers[q.id]);
  }

  function setAnswer(q, value) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) delete state.answers[q.id];
    else state.answers[q.id] = value;
    save();
    queueAnswer(q);
  }

  // ----- speech ---------------------------------------------------------

  function canSpeak() { return 'speechSynthesis' in window && typeof window.SpeechSynthesisUtterance === 'function'; }

  function speak(text) {
    if (!canSpeak() || !text) return;
    window.speechSynthesis.cancel();
    var u = new window.SpeechSynthesisUtterance(text);
    u.lang = state.lang;
    u.rate = 0.9;
    window.speechSynthesis.speak(u);
  }

  function speakButton(textFn) {
    if (!canSpeak()) return null;
    return el('button', { type: 'button', class: 'speak', on: { click: function () { speak(textFn()); } } }, [
      el('span', { 'aria-hidden': 'true', text: '🔊' }), t('read_aloud')
    ]);
  }

  function label(q) { return state.easy && q.easy_read ? tx(q.easy_read) : tx(q.label); }
  function optionLabel(o) { return state.easy && o.easy_read ? tx(o.easy_read) : tx(o.label); }

  function readAloud(q) {
    if (q.read_aloud) return tx(q.read_aloud);
    var parts = [label(q)];
    optionsOf(q).forEach(function (o) { parts.push(optionLabel(o)); });
    if (q.allow_dont_know) parts.push(t('dont_know'));
    if (q.allow_prefer_not_to_say) parts.push(t('prefer_not'));
    return parts.join('. ');
  }

  // ----- the bar: progress, easy read, language --------------------------

  function hasEasyRead() {
    return form.questions.some(function (q) {
      return q.easy_read || optionsOf(q).some(function (o) { return o.easy_read; });
    });
  }

  function languageName(tag) {
    try {
      var names = new Intl.DisplayNames([tag], { type: 'language' });
      return names.of(tag) || tag;
    } catch (e) { return tag; }
  }

  function setDocumentLanguage() {
    document.documentElement.lang = state.lang;
    document.documentElement.dir = RTL.indexOf(state.lang.split('-')[0]) >= 0 ? 'rtl' : 'ltr';
  }

  function bar(progress) {
    var items = [];
    if (progress) {
      items.push(el('div', { class: 'progress' }, [
        el('span', { id: 'progress-text', text: t(progress[2] ? 'page_of' : 'question_of', { n: progress[0], total: progress[1] }) }),
        el('progress', { max: progress[1], value: progress[0], 'aria-labelledby': 'progress-text' })
      ]));
    }
    if (hasEasyRead()) {
      items.push(el('button', {
        type: 'button', class: 'toggle', 'aria-pressed': state.easy ? 'true' : 'false',
        on: { click: function () { state.easy = !state.easy; save(); render(); announce(t(state.easy ? 'easy_read_on' : 'easy_read_off')); } }
      }, [t('easy_read')]));
    }
    if (form.languages.length > 1) {
      var select = el('select', { id: 'language', on: { change: function () { state.lang = select.value; save(); render(); } } },
        form.languages.map(function (l) { return el('option', { value: l, selected: l === state.lang, text: languageName(l) }); }));
      items.push(el('label', { class: 'language', for: 'language' }, [t('language') + ' ']));
      items.push(select);
    }
    return el('div', { class: 'bar' }, items);
  }

  // ----- one question ----------------------------------------------------

  // A note: its text (and hint), nothing to answer.
  function noteBlock(q, headingTag) {
    var title = el(headingTag, { id: 'q-' + q.id + '-label', class: 'question note', tabindex: '-1', text: label(q) });
    var block = el('section', { class: 'question-block note', id: 'q-' + q.id, 'data-question': q.id, 'data-note': 'true' }, [
      title, q.hint ? el('p', { class: 'hint', text: tx(q.hint) }) : null
    ]);
    block.showProblem = function () {};
    block.focusTitle = function () { title.focus(); };
    return block;
  }

  function questionBlock(q, headingTag, onChange) {
    if (q.type === 'note') return noteBlock(q, headingTag);
    var id = 'q-' + q.id;
    var problemId = id + '-problem';
    var hintId = id + '-hint';
    var current = state.answers[q.id];
    var special = current === DONT_KNOW || current === PREFER_NOT;
    var body = [];
    var inputs = [];
    var title = el(headingTag, { id: id + '-label', class: 'question', tabindex: '-1' }, [
      label(q), q.required ? el('span', { class: 'required', text: ' ' + t('needs_answer') }) : null
    ]);
    var hint = q.hint ? el('p', { class: 'hint', id: hintId, text: tx(q.hint) }) : null;
    var problem = el('p', { class: 'problem', id: problemId, role: 'alert' });
    var described = (hint ? hintId + ' ' : '') + problemId;

    function changed(value) {
      setAnswer(q, value);
      problem.textContent = '';
      specials.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
      if (onChange) onChange();
    }

    var opts = optionsOf(q);
    if (q.type === 'face_scale' || q.type === 'single_choice' || q.type === 'yes_no') {
      var faces = q.type === 'face_scale';
      body.push(el('div', { class: faces ? 'choices faces' : 'choices' }, opts.map(function (o, i) {
        var value = faces ? i + 1 : o.id;
        var input = el('input', {
          type: 'radio', name: id, id: id + '-' + o.id, value: String(value), checked: current === value,
          on: { change: function () { changed(value); } }
        });
        inputs.push(input);
        var symbol = o.symbol || (faces ? (FACES[q.points] || [])[i] : '');
        return el('label', { class: 'choice', for: id + '-' + o.id }, [
          input,
          symbol ? el('span', { class: 'symbol', 'aria-hidden': 'true', text: symbol }) : null,
          el('span', { class: 'text', text: optionLabel(o) })
        ]);
      })));
    } else if (q.type === 'multiple_choice') {
      body.push(el('div', { class: 'choices' }, opts.map(function (o) {
        var picked = Array.isArray(current) && current.indexOf(o.id) >= 0;
        var input = el('input', {
          type: 'checkbox', id: id + '-' + o.id, value: o.id, checked: picked,
          on: {
            change: function () {
              var values = inputs.filter(function (x) { return x.checked; }).map(function (x) { return x.value; });
              changed(values);
            }
          }
        });
        inputs.push(input);
        return el('label', { class: 'choice', for: id + '-' + o.id }, [
          input,
          o.symbol ? el('span', { class: 'symbol', 'aria-hidden': 'true', text: o.symbol }) : null,
          el('span', { class: 'text', text: optionLabel(o) })
        ]);
      })));
    } else if (q.type === 'free_text') {
      var area = el('textarea', {
        id: id + '-input', rows: 4, maxlength: q.max_length || MAX_TEXT, 'aria-labelledby': id + '-label', 'aria-describedby': described,
        on: { input: function () { changed(area.value.trim() === '' ? undefined : area.value); } }
      });
      area.value = typeof current === 'string' ? current : '';
      inputs.push(area);
      body.push(area);
    } else if (q.type === 'number' || q.type === 'decimal' || q.type === 'date') {
      var isNumber = q.type === 'number', isDecimal = q.type === 'decimal';
      // A decimal is typed as text (a number input would read it as binary
      // floating point, and some browsers take a comma for the point).
      var input = el('input', {
        id: id + '-input', type: isNumber ? 'number' : (isDecimal ? 'text' : 'date'), step: isNumber ? 1 : null,
        inputmode: isNumber ? 'numeric' : (isDecimal ? 'decimal' : null),
        min: isDecimal ? null : q.min, max: isDecimal ? null : q.max, autocomplete: isDecimal ? 'off' : null,
        'aria-labelledby': id + '-label', 'aria-describedby': described,
        on: {
          input: function () {
            var v = input.value.trim();
            if (v === '') return changed(undefined);
            changed(isNumber ? (/^-?\d+$/.test(v) ? parseInt(v, 10) : v) : v);
          }
        }
      });
      if (!special && current !== undefined) input.value = String(current);
      inputs.push(input);
      body.push(input);
    }

    // "I don't know" and "I don't want to say", where the form offers them.
    var specials = [];
    [[q.allow_dont_know, DONT_KNOW, t('dont_know'), '🤷'], [q.allow_prefer_not_to_say, PREFER_NOT, t('prefer_not'), '🤐']]
      .forEach(function (s) {
        if (!s[0] || q.type === 'free_text') return;
        var b = el('button', {
          type: 'button', class: 'special', 'aria-pressed': current === s[1] ? 'true' : 'false',
          on: {
            click: function () {
              inputs.forEach(function (x) { if (x.type === 'radio' || x.type === 'checkbox') x.checked = false; else x.value = ''; });
              setAnswer(q, s[1]);
              problem.textContent = '';
              specials.forEach(function (o) { o.setAttribute('aria-pressed', o === b ? 'true' : 'false'); });
              if (onChange) onChange();
            }
          }
        }, [el('span', { 'aria-hidden': 'true', text: s[3] }), s[2]]);
        specials.push(b);
      });

    var group = (q.type === 'free_text' || q.type === 'number' || q.type === 'decimal' || q.type === 'date')
      ? el('div', { class: 'answer' }, body)
      : el('div', { class: 'answer', role: q.type === 'multiple_choice' ? 'group' : 'radiogroup', 'aria-labelledby': id + '-label', 'aria-describedby': described }, body);
    var block = el('section', { class: 'question-block', id: id, 'data-question': q.id }, [
      title, hint, group, specials.length ? el('div', { class: 'specials' }, specials) : null, problem
    ]);
    block.showProblem = function (text) { problem.textContent = text; };
    block.focusTitle = function () { title.focus(); };
    return block;
  }

  // ----- screens ----------------------------------------------------------

  function consentScreens() {
    if (!isChild()) return ['consent'];
    return ['grown_up', 'assent'];
  }

  function sectionOf(q) {
    var id = q.section;
    return id ? (form.sections || []).filter(function (s) { return s.id === id; })[0] || null : null;
  }

  // Adult mode's pages: the questions in order, a one-page section always a
  // page of its own (a form without one is a single page).
  function pages() {
    var out = [];
    var key = null;
    form.questions.forEach(function (q) {
      var s = sectionOf(q);
      var k = s && s.one_page ? 'section:' + s.id : 'rest';
      if (!out.length || k !== key) out.push([]);
      key = k;
      out[out.length - 1].push(q);
    });
    return out;
  }

  // Child mode: start, consent, one screen per asked question, then send.
  // Adult mode: start, consent, the pages.
  function screens() {
    var list = ['start'].concat(consentScreens());
    if (PRACTITIONER && isChild()) list.unshift('handover');
    if (isChild()) {
      walk().asked.forEach(function (q) { list.push(q); });
      list.push('review');
    } else {
      pages().forEach(function (p, i) { list.push('page:' + i); });
    }
    return list;
  }

  // The screen a question is asked on.
  function screenOf(q) {
    if (isChild()) return screens().indexOf(q);
    var i = pages().findIndex(function (p) { return p.indexOf(q) >= 0; });
    return screens().indexOf('page:' + i);
  }

  function go(delta) {
    var list = screens();
    state.screen = Math.max(0, Math.min(list.length - 1, state.screen + delta));
    state.problem = '';
    save();
    render(true);
  }

  function nav(back, next) {
    return el('div', { class: 'nav' }, [
      back ? el('button', { type: 'button', class: 'back', on: { click: function () { go(-1); } } }, [el('span', { 'aria-hidden': 'true', text: '←' }), t('back')]) : el('span'),
      next
    ]);
  }

  function primary(text, onClick) {
    return el('button', { type: 'button', class: 'primary', on: { click: onClick } }, [text]);
  }

  function decline(which) {
    state.consent[which] = 'refused';
    state.stage = 'declined';
    save();
    render(true);
  }

  // Practitioner mode: the respondent stops for now (the store has every
  // answer so far) and hands back.
  function pause() {
    flush().then(function () { state.stage = 'paused'; render(true); });
  }

  function pauseButton() {
    if (!PRACTITIONER) return null;
    return el('button', { type: 'button', class: 'pause', on: { click: pause } }, [t('stop_for_now')]);
  }

  function handBack(text) {
    return [
      el('p', { class: 'handback', text: text }),
      el('div', { class: 'nav' }, [el('a', { class: 'button primary', href: DONE, text: "I'm the practitioner: continue" })])
    ];
  }

  function render(moved) {
    setDocumentLanguage();
    var listed = screens();
    var handing = PRACTITIONER && state.stage === 'filling' && listed[Math.min(state.screen, listed.length - 1)] === 'handover';
    app.className = isChild() && !handing ? 'webform child' : 'webform adult';
    app.textContent = '';
    var focus = null;
    if (state.stage === 'sending') {
      app.appendChild(el('section', { class: 'screen end' }, [
        el('h1', { tabindex: '-1', text: t('saving') }),
        el('p', { text: state.problem || t('keep_open') })
      ]));
      focus = app.querySelector('h1');
    } else if (PRACTITIONER && (state.stage === 'done' || state.stage === 'declined')) {
      var finished = state.stage === 'done';
      app.appendChild(el('section', { class: 'screen end' }, [
        el('p', { class: 'calm', 'aria-hidden': 'true', text: finished ? '🌈' : '🌱' }),
        el('h1', { tabindex: '-1', text: t(finished ? 'thank_you' : 'thats_ok') }),
        el('p', { text: t(finished ? 'saved' : 'nothing_sent') })
      ].concat(handBack(t('hand_back')))));
      focus = app.querySelector('h1');
    } else if (state.stage === 'paused') {
      app.appendChild(el('section', { class: 'screen end' }, [
        el('h1', { tabindex: '-1', text: t('stopping') }),
        el('p', { text: t('saved_so_far') }),
        el('p', { class: 'handback', text: t('hand_back') }),
        el('div', { class: 'nav' }, [
          el('button', { type: 'button', on: { click: function () { state.stage = 'filling'; render(true); } } }, [t('carry_on')]),
          el('a', { class: 'button primary', href: HOME, text: 'Practitioner view' })
        ])
      ]));
      focus = app.querySelector('h1');
    } else if (state.stage === 'done' || state.stage === 'declined') {
      var done = state.stage === 'done';
      app.appendChild(el('section', { class: 'screen end' }, [
        el('p', { class: 'calm', 'aria-hidden': 'true', text: done ? '🌈' : '🌱' }),
        el('h1', { tabindex: '-1', text: t(done ? 'thank_you' : 'thats_ok') }),
        el('p', { text: t(done ? 'saved' : 'nothing_saved') }),
        el('div', { class: 'nav' }, [
          el('a', { class: 'button', href: HOME, text: t('finish') }),
          primary(t('next_person'), function () { state = fresh(); save(); render(true); })
        ])
      ]));
      focus = app.querySelector('h1');
    } else {
      focus = renderScreen();
    }
    if (moved) {
      Array.prototype.forEach.call(app.querySelectorAll('.screen'), function (n) { n.classList.add('enter'); });
      if (focus) focus.focus();
    }
  }

  function renderScreen() {
    var list = screens();
    if (state.screen >= list.length) state.screen = list.length - 1;
    var screen = list[state.screen];
    var asked = walk().asked;
    if (screen === 'handover') {
      var who = youngPerson() ? 'young person' : 'child';
      app.appendChild(el('section', { class: 'screen' }, [
        el('h1', { tabindex: '-1', text: 'Hand the tablet to the ' + who }),
        el('p', { text: tx(form.title) }),
        el('p', { text: 'Child mode starts when you press the button: one question a screen, big faces, and "read it to me". ' +
          (youngPerson() ? 'The young person is asked whether a grown-up agrees (or whether they are answering on their own), then for their own agreement. '
            : 'A grown-up with the child is asked for consent first. ') +
          'At the end, the ' + who + ' is asked to give the tablet back to you, and you see any safeguarding prompt at once.' }),
        el('div', { class: 'nav' }, [
          el('a', { class: 'button', href: HOME, text: 'Back to practitioner view' }),
          primary('Start child mode', function () { go(1); })
        ])
      ]));
      return app.querySelector('h1');
    }
    if (screen === 'start') {
      var intro = form.intro ? tx(form.intro) : '';
      app.appendChild(bar(null));
      app.appendChild(el('section', { class: 'screen' }, [
        el('h1', { tabindex: '-1', text: tx(form.title) }),
        intro ? el('p', { class: 'intro', text: intro }) : null,
        speakButton(function () { return tx(form.title) + '. ' + intro; }),
        nav(false, primary(t('start'), function () { go(1); }))
      ]));
      return app.querySelector('h1');
    }
    if (screen === 'grown_up') {
      var text = t(youngPerson() ? 'ask_grown_up' : 'grown_up_consent');
      app.appendChild(bar(null));
      app.appendChild(el('section', { class: 'screen' }, [
        el('h1', { tabindex: '-1', text: t(youngPerson() ? 'grown_up_with_you' : 'for_the_grown_up') }),
        el('p', { text: text }),
        speakButton(function () { return text; }),
        el('div', { class: 'consent' }, [
          primary(t(youngPerson() ? 'yes_they_agree' : 'yes_i_agree'), function () { state.consent.consent = 'given'; go(1); }),
          youngPerson()
            ? el('button', { type: 'button', on: { click: function () { state.consent.consent = 'not_applicable'; go(1); } } }, [t('on_my_own')])
            : null,
          el('button', { type: 'button', on: { click: function () { decline('consent'); } } }, [t('no')])
        ]),
        nav(true, el('span'))
      ]));
      return app.querySelector('h1');
    }
    if (screen === 'assent' || screen === 'consent') {
      var child = screen === 'assent';
      var ask = t(child ? 'assent_ask' : 'consent_ask');
      app.appendChild(bar(null));
      app.appendChild(el('section', { class: 'screen' }, [
        el('h1', { tabindex: '-1', text: t(child ? 'ok_to_ask' : 'taking_part') }),
        el('p', { text: ask }),
        speakButton(function () { return ask; }),
        el('div', { class: 'consent' }, [
          primary(t(child ? 'yes_i_want_to' : 'yes_i_agree'), function () { state.consent[child ? 'assent' : 'consent'] = 'given'; go(1); }),
          el('button', { type: 'button', on: { click: function () { decline(child ? 'assent' : 'consent'); } } }, [t(child ? 'no_thank_you' : 'no')])
        ]),
        nav(true, el('span'))
      ]));
      return app.querySelector('h1');
    }
    if (screen === 'review') {
      app.appendChild(bar(null));
      app.appendChild(el('section', { class: 'screen' }, [
        el('h1', { tabindex: '-1', text: t('all_done') }),
        el('p', { text: t('last_question') }),
        state.problem ? el('p', { class: 'problem', role: 'alert', text: state.problem }) : null,
        speakButton(function () { return t('last_question_spoken'); }),
        nav(true, primary(t('send'), function () { trySend(); })),
        pauseButton()
      ]));
      return app.querySelector('h1');
    }
    if (typeof screen === 'string' && screen.indexOf('page:') === 0) return renderPage(Number(screen.slice(5)));
    // One question a screen (child mode).
    var q = screen;
    var n = asked.indexOf(q) + 1;
    var block = questionBlock(q, 'h1', null);
    app.appendChild(bar([n, asked.length]));
    app.appendChild(el('section', { class: 'screen' }, [
      block,
      speakButton(function () { return readAloud(q); }),
      nav(true, primary(t('next'), function () {
        var p = blocker(q);
        if (p) { block.showProblem(p); return; }
        if (PRACTITIONER) flush();
        go(1);
      })),
      pauseButton()
    ]));
    if (state.problem) block.showProblem(state.problem);
    announce(t('question_of', { n: n, total: asked.length }));
    return block.querySelector('.question');
  }

  // Adult mode: one page of questions (a section's title above its first);
  // skip logic shows and hides.
  function renderPage(index) {
    var all = pages();
    var questions = all[index] || [];
    var last = index >= all.length - 1;
    var blocks = {};
    var summary = el('div', { class: 'summary', role: 'alert', tabindex: '-1' });
    function refresh() {
      // An answer changed: the list of what to check is out of date.
      summary.textContent = '';
      var ids = walk().asked.map(function (q) { return q.id; });
      questions.forEach(function (q) { blocks[q.id].hidden = ids.indexOf(q.id) < 0; });
    }
    app.appendChild(bar(all.length > 1 ? [index + 1, all.length, 'Page'] : null));
    var page = el('section', { class: 'screen page' }, [el('h1', { tabindex: '-1', text: tx(form.title) }), summary]);
    var shown = null;
    questions.forEach(function (q) {
      var s = sectionOf(q);
      if (s && s !== shown) page.appendChild(el('h2', { class: 'section-title', text: tx(s.title) }));
      shown = s;
      blocks[q.id] = questionBlock(q, 'h2', refresh);
      page.appendChild(blocks[q.id]);
    });
    page.appendChild(nav(true, primary(t(last ? 'send' : 'next'), function () {
      summary.textContent = '';
      var here = walk().asked.filter(function (q) { return questions.indexOf(q) >= 0; });
      var problems = here.map(function (q) { return [q, blocker(q)]; }).filter(function (p) { return p[1]; });
      problems.forEach(function (p) { blocks[p[0].id].showProblem(p[1]); });
      if (problems.length) {
        summary.appendChild(el('p', { text: problems.length === 1 ? t('check_one') : t('check_many', { n: problems.length }) }));
        summary.appendChild(el('ul', {}, problems.map(function (p) {
          return el('li', {}, [el('a', { href: '#q-' + p[0].id, text: label(p[0]) })]);
        })));
        summary.focus();
        return;
      }
      if (last) trySend(); else go(1);
    })));
    var stop = pauseButton();
    if (stop) page.appendChild(stop);
    app.appendChild(page);
    refresh();
    if (state.problem) {
      summary.appendChild(el('p', { text: state.problem }));
    }
    return page.querySelector('h1');
  }

  // ----- sending -------------------------------------------------------------

  function payload() {
    return {
      key: state.key, form: form.id, version: form.version, language: state.lang,
      consent: state.consent, answers: walk().kept
    };
  }

  function trySend() {
    var bad = walk().asked.filter(function (q) { return blocker(q); });
    if (bad.length) {
      // Back to the first question that needs something.
      state.screen = Math.max(0, screenOf(bad[0]));
      state.problem = blocker(bad[0]);
      save();
      render(true);
      return;
    }
    state.stage = 'sending';
    state.problem = '';
    state.payload = PRACTITIONER ? { language: state.lang } : payload();
    save();
    render(true);
    announce(t('saving_announced'));
    if (PRACTITIONER) flush().then(attempt); else attempt();
  }

  function retryLater(why) {
    retries += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(retries, 5)));
    state.problem = t('retrying', {
      why: why, seconds: Math.round(delay / 1000), kept: t(PRACTITIONER ? 'kept_on_device' : 'kept_on_phone')
    });
    render(false);
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(attempt, delay);
  }

  function attempt() {
    window.clearTimeout(retryTimer);
    window.fetch(SUBMIT_URL, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(state.payload || payload())
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      var message = res.body && res.body.error && res.body.error.message;
      if (res.status === 200 && res.body && res.body.status === 'stored') {
        retries = 0;
        if (PRACTITIONER && res.body.next) DONE = res.body.next;
        try { window.localStorage.removeItem(storageKey); } catch (e) { /* nothing kept */ }
        state.stage = 'done';
        state.payload = null;
        render(true);
        announce(t('saved_announced'));
      } else if (res.status >= 500 || res.status === 429 || res.status === 408) {
        retryLater(t(PRACTITIONER ? 'device_busy' : 'hub_busy'));
      } else if (res.status === 401) {
        state.stage = 'filling';
        state.problem = t('code_again');
        save();
        render(true);
      } else {
        // Refused: say why, and go back to the answers.
        state.stage = 'filling';
        state.payload = null;
        state.problem = message || t('not_saved');
        state.screen = screens().length - 1;
        save();
        render(true);
      }
    }, function () {
      retryLater(t('no_connection'));
    });
  }

  window.addEventListener('online', function () { if (state && state.stage === 'sending') attempt(); });
  // Practitioner mode: words typed just before the page closes still go.
  window.addEventListener('pagehide', function () { if (PRACTITIONER && form && state) flush(); });

  // ----- start ---------------------------------------------------------------

  window.fetch(FORM_URL, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
    if (!r.ok) throw new Error(t(r.status === 401 ? 'enter_code_first' : 'not_loaded'));
    return r.json();
  }).then(function (f) {
    form = PRACTITIONER ? f.form : f;
    if (PRACTITIONER) {
      storageKey = 'hark.practitioner.' + FORM_URL;
      state = resumed(f);
    } else {
      storageKey = 'hark.draft.' + form.id + '@' + form.version;
      state = load();
    }
    document.title = tx(form.title);
    if (state.stage === 'done') state = fresh();
    render(false);
    if (state.stage === 'sending') attempt();
  }).catch(function (e) {
    app.textContent = '';
    app.appendChild(el('section', { class: 'screen' }, [
      el('h1', { text: t('sorry') }),
      el('p', { role: 'alert', text: e.message || t('not_loaded') }),
      el('a', { class: 'button', href: HOME, text: t('back') })
    ]));
  });
})();
