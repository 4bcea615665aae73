/* Taking a timed quiz: autosave per answer, an offline queue, and a countdown from the server's clock.
 *
 * The remaining time is always recomputed as deadline - (device time + offset), where the offset between the
 * server's clock and the device's is measured from the page and from every response. Nothing counts ticks, so a
 * sleeping laptop or a throttled background tab shows the right time as soon as it wakes.
 * Without this script the page is a plain form: the answers are sent when the student submits.
 */
(function () {
  "use strict";

  var form = document.getElementById("quiz-form");
  if (!form || !window.fetch) {
    return;
  }
  var data = form.dataset;
  var attemptId = data.attempt;
  var saveUrl = data.saveUrl;
  var clockUrl = data.clockUrl;
  var resultUrl = data.resultUrl;
  var submitUrl = form.getAttribute("action");
  var deadline = Number(data.deadlineMs);
  var cutoff = Number(data.cutoffMs);
  var networkGrace = Number(data.networkGraceMs) || 10000;
  var onExpiry = data.onExpiry;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var storeKey = "lms-quiz-attempt-" + attemptId;

  var timer = document.getElementById("quiz-timer");
  var remainingEl = document.getElementById("quiz-remaining");
  var warningEl = document.getElementById("quiz-warning");
  var connectionEl = document.getElementById("quiz-connection");
  var announcer = document.getElementById("quiz-announcer");

  var offset = initialOffset();
  var bestRoundTrip = Infinity;
  var pending = loadPending(); // question id -> {question, value, seq, given_at_ms}
  var inflight = {}; // question id -> seq being sent
  var seqs = {};
  var lastGiven = {}; // question id -> the last answer given, as JSON
  var retryTimer = null;
  var timeIsUp = false;
  var submitting = false;
  var finished = false;
  var warned5 = false;
  var warned1 = false;
  var lastAnnouncedMinute = null;

  // -- clock ---------------------------------------------------------------------------------------------------

  function initialOffset() {
    var serverNow = Number(data.serverNowMs);
    var received = Date.now();
    try {
      var nav = performance.getEntriesByType("navigation")[0];
      if (nav && nav.responseStart > 0) {
        received = performance.timeOrigin + nav.responseStart;
      }
    } catch (e) { /* older browsers: the moment the script runs is close enough */ }
    return serverNow - received;
  }

  function serverNow() {
    return Date.now() + offset;
  }

  function learnClock(body, sentAt, receivedAt) {
    if (!body || typeof body.server_time_ms !== "number") {
      return;
    }
    var roundTrip = receivedAt - sentAt;
    // The best estimate comes from the quickest exchange; a later one wins anyway after the device clock moved.
    if (roundTrip <= bestRoundTrip * 2 || roundTrip < 1000) {
      bestRoundTrip = Math.min(bestRoundTrip, roundTrip);
      offset = body.server_time_ms - (sentAt + roundTrip / 2);
    }
    if (typeof body.deadline_ms === "number" && body.deadline_ms !== deadline) {
      deadline = body.deadline_ms; // staff added time
      cutoff = body.submit_cutoff_ms || cutoff;
      if (deadline > serverNow() && timeIsUp && !submitting) {
        unlock();
      }
    }
    if (body.state && body.state !== "in_progress") {
      finish();
    }
  }

  function syncClock() {
    var sentAt = Date.now();
    return fetch(clockUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) { learnClock(body, sentAt, Date.now()); setConnection(true); })
      .catch(function () { setConnection(navigator.onLine); });
  }

  // -- display -------------------------------------------------------------------------------------------------

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function formatRemaining(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  function spokenRemaining(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    if (minutes === 0) {
      return seconds + " second" + (seconds === 1 ? "" : "s") + " left";
    }
    return minutes + " minute" + (minutes === 1 ? "" : "s") + (seconds && minutes < 2 ? " " + seconds + " seconds" : "") + " left";
  }

  function localTime(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function warn(text, urgent) {
    warningEl.textContent = text;
    warningEl.hidden = false;
    timer.classList.add(urgent ? "is-urgent" : "is-warning");
  }

  function setConnection(online) {
    if (online) {
      connectionEl.hidden = true;
      connectionEl.classList.remove("is-offline");
      return;
    }
    connectionEl.textContent = "You are offline. Your answers are kept in this browser and sent when the connection returns.";
    connectionEl.classList.add("is-offline");
    connectionEl.hidden = false;
  }

  function stateEl(questionId) {
    return document.getElementById("state-" + questionId);
  }

  function setState(questionId, kind, text) {
    var el = stateEl(questionId);
    if (!el) {
      return;
    }
    el.classList.remove("is-saving", "is-saved", "is-error");
    el.classList.add("is-" + kind);
    el.textContent = text;
  }

  function tick() {
    if (finished) {
      return;
    }
    var left = deadline - serverNow();
    remainingEl.textContent = formatRemaining(left);
    if (left <= 0) {
      if (!timeIsUp) {
        timeUp();
      } else if (onExpiry === "grace" && !submitting && serverNow() >= cutoff - networkGrace) {
        flushThenSubmit("time_up");
      }
      return;
    }
    if (left <= 60000 && !warned1) {
      warned1 = true;
      warned5 = true;
      warn("1 minute left. Your answers are saved as you go.", true);
    } else if (left <= 300000 && !warned5) {
      warned5 = true;
      warn("5 minutes left.", false);
    }
    var minute = Math.ceil(left / 60000);
    if (minute !== lastAnnouncedMinute) {
      var first = lastAnnouncedMinute === null;
      lastAnnouncedMinute = minute;
      if (first || minute <= 5 || minute % 5 === 0) {
        announce(spokenRemaining(left));
      }
    }
  }

  // -- answers -------------------------------------------------------------------------------------------------

  function loadPending() {
    try {
      return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function persist() {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(storeKey, JSON.stringify(pending));
      } else {
        window.localStorage.removeItem(storeKey);
      }
    } catch (e) { /* storage full or disabled: the answers are still in memory and on their way */ }
  }

  function fieldsetOf(element) {
    return element.closest ? element.closest("fieldset[data-question]") : null;
  }

  function readValue(fieldset) {
    var type = fieldset.dataset.type;
    var inputs = fieldset.querySelectorAll("input");
    var i;
    if (type === "multiple") {
      var values = [];
      for (i = 0; i < inputs.length; i++) {
        if (inputs[i].checked) { values.push(inputs[i].value); }
      }
      return values;
    }
    if (type === "short") {
      return inputs[0].value;
    }
    for (i = 0; i < inputs.length; i++) {
      if (inputs[i].checked) {
        return type === "true_false" ? inputs[i].value === "true" : inputs[i].value;
      }
    }
    return null;
  }

  function writeValue(fieldset, value) {
    var type = fieldset.dataset.type;
    var inputs = fieldset.querySelectorAll("input");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (type === "short") {
        input.value = value || "";
      } else if (type === "multiple") {
        input.checked = (value || []).indexOf(input.value) !== -1;
      } else if (type === "true_false") {
        input.checked = value !== null && input.value === String(value);
      } else {
        input.checked = input.value === value;
      }
    }
  }

  function record(fieldset) {
    if (timeIsUp || finished) {
      return;
    }
    var questionId = fieldset.dataset.question;
    var value = readValue(fieldset);
    var key = JSON.stringify(value);
    if (lastGiven[questionId] === key) {
      return; // the same answer again (a text field losing focus): nothing new to save
    }
    lastGiven[questionId] = key;
    seqs[questionId] = (seqs[questionId] || 0) + 1;
    pending[questionId] = {
      question: questionId,
      value: value,
      seq: seqs[questionId],
      given_at_ms: Math.round(serverNow())
    };
    persist();
    flush();
  }

  function scheduleRetry() {
    if (retryTimer === null) {
      retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, 3000);
    }
  }

  function flush() {
    var ids = Object.keys(pending);
    if (!ids.length) {
      return;
    }
    if (!navigator.onLine) {
      setConnection(false);
      ids.forEach(function (id) { setState(id, "error", "not saved: offline"); });
      return;
    }
    ids.forEach(function (id) {
      if (inflight[id] === undefined) {
        send(pending[id]);
      }
    });
  }

  function send(entry) {
    var questionId = entry.question;
    inflight[questionId] = entry.seq;
    setState(questionId, "saving", "saving...");
    var sentAt = Date.now();
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(entry)
    }).then(function (response) {
      return response.json().then(
        function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: null }; }
      );
    }).then(function (reply) {
      delete inflight[questionId];
      setConnection(true);
      learnClock(reply.body, sentAt, Date.now());
      var current = pending[questionId];
      if (reply.status === 200 && reply.body && reply.body.ok) {
        if (current && current.seq <= entry.seq) {
          delete pending[questionId];
          persist();
          setState(questionId, "saved", "saved " + localTime(reply.body.saved_at_ms));
        } else if (current) {
          send(current); // a newer answer was given while this one travelled
        }
        return;
      }
      if (reply.body && reply.status >= 400 && reply.status < 500 && reply.status !== 400) {
        // A definite refusal (time up, a question not in this attempt): retrying cannot help.
        if (current && current.seq === entry.seq) {
          delete pending[questionId];
          persist();
        }
        setState(questionId, "error", "not saved: " + reply.body.message);
        return;
      }
      var why = reply.body && reply.body.message ? reply.body.message : "the server did not answer; retrying";
      if (reply.status === 200 || reply.status === 400) {
        why = (reply.body && reply.body.message) || "you may have been signed out: reload the page";
      }
      setState(questionId, "error", "not saved: " + why);
      scheduleRetry();
    }).catch(function () {
      delete inflight[questionId];
      setConnection(navigator.onLine);
      setState(questionId, "error", navigator.onLine ? "not saved: no answer from the server; retrying" : "not saved: offline");
      scheduleRetry();
    });
  }

  function nothingPending() {
    return Object.keys(pending).length === 0 && Object.keys(inflight).length === 0;
  }

  // -- submitting ----------------------------------------------------------------------------------------------

  function lock() {
    var sets = form.querySelectorAll("fieldset[data-question]");
    for (var i = 0; i < sets.length; i++) { sets[i].disabled = true; }
    form.classList.add("is-locked");
  }

  function unlock() {
    timeIsUp = false;
    var sets = form.querySelectorAll("fieldset[data-question]");
    for (var i = 0; i < sets.length; i++) { sets[i].disabled = false; }
    form.classList.remove("is-locked");
    warningEl.hidden = true;
  }

  function finish() {
    if (finished) {
      return;
    }
    finished = true;
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing to clean */ }
    window.location.assign(resultUrl);
  }

  function timeUp() {
    timeIsUp = true;
    remainingEl.textContent = "0:00";
    lock();
    flush();
    if (onExpiry === "grace") {
      warn("Time is up. Your answers can no longer change: submit your attempt now.", true);
      announce("Time is up. Submit your attempt now.");
      return;
    }
    warn("Time is up. Sending your answers...", true);
    announce("Time is up. Your answers are being submitted.");
    flushThenSubmit("time_up");
  }

  function flushThenSubmit(reason) {
    if (submitting || finished) {
      return;
    }
    submitting = true;
    var button = document.getElementById("quiz-submit");
    if (button) { button.disabled = true; }
    flush();
    var waitUntil = Date.now() + Math.max(2000, networkGrace - 2000);
    (function waitForSaves() {
      if (!nothingPending() && Date.now() < waitUntil) {
        window.setTimeout(waitForSaves, 150);
        return;
      }
      postSubmit(reason);
    })();
  }

  function postSubmit(reason) {
    fetch(submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ reason: reason })
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (reply) {
      if (reply.status === 200 || reply.status === 409) {
        finish();
        return;
      }
      submitFailed((reply.body && reply.body.message) || "The server could not take the submission.");
    }).catch(function () {
      submitFailed("Could not reach the server. Your answers are kept in this browser; reconnect and it will submit.");
    });
  }

  function submitFailed(message) {
    submitting = false;
    var button = document.getElementById("quiz-submit");
    if (button) { button.disabled = false; }
    warn(message, true);
    if (timeIsUp && onExpiry !== "grace") {
      window.setTimeout(function () { flushThenSubmit("time_up"); }, 3000);
    }
  }

  // -- wiring --------------------------------------------------------------------------------------------------

  var fieldsets = form.querySelectorAll("fieldset[data-question]");
  Array.prototype.forEach.call(fieldsets, function (fieldset) {
    var questionId = fieldset.dataset.question;
    var serverSeq = Number(fieldset.dataset.seq);
    var waiting = pending[questionId];
    if (waiting && waiting.seq > serverSeq) {
      writeValue(fieldset, waiting.value); // given before a reload or crash, not yet acknowledged
      setState(questionId, "error", "not saved yet: sending...");
    } else if (waiting) {
      delete pending[questionId];
    }
    seqs[questionId] = Math.max(serverSeq, waiting ? waiting.seq : -1);
    lastGiven[questionId] = JSON.stringify(readValue(fieldset));
    var state = stateEl(questionId);
    if (state && state.dataset.savedAtMs && !pending[questionId]) {
      setState(questionId, "saved", "saved " + localTime(Number(state.dataset.savedAtMs)));
    }
  });
  persist();

  var typingTimers = {};
  form.addEventListener("change", function (event) {
    var fieldset = fieldsetOf(event.target);
    if (fieldset) {
      window.clearTimeout(typingTimers[fieldset.dataset.question]);
      record(fieldset);
    }
  });
  form.addEventListener("input", function (event) {
    var fieldset = fieldsetOf(event.target);
    if (fieldset && fieldset.dataset.type === "short") {
      var id = fieldset.dataset.question;
      window.clearTimeout(typingTimers[id]);
      typingTimers[id] = window.setTimeout(function () { record(fieldset); }, 600);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    Array.prototype.forEach.call(fieldsets, function (fieldset) {
      var id = fieldset.dataset.question;
      if (typingTimers[id]) {
        window.clearTimeout(typingTimers[id]);
        typingTimers[id] = null;
        if (fieldset.dataset.type === "short") { record(fieldset); }
      }
    });
    flushThenSubmit("student");
  });

  window.addEventListener("online", function () { setConnection(true); syncClock(); flush(); });
  window.addEventListener("offline", function () { setConnection(false); flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { syncClock(); flush(); tick(); }
  });
  window.setInterval(tick, 250);
  window.setInterval(function () { if (!finished) { syncClock(); } }, 60000);
  tick();
  flush();
})();
