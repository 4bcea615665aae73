/* Taking a timed quiz: autosave per answer, an offline queue, a countdown from the server's clock, the question
 * navigator and flags for review.
 *
 * The remaining time is always recomputed as deadline - (device time + offset), where the offset between the
 * server's clock and the device's is measured from the page and from every response. Nothing counts ticks, so a
 * sleeping laptop or a throttled background tab shows the right time as soon as it wakes. The server decides when
 * time is up: when this page's timer reaches zero it asks, and a server that gave more time answers with the new
 * deadline, which the page follows.
 *
 * The order of saves is the server's too: a save that is not newer than the answer stored for its question (sent
 * from a stale tab) comes back "current": false with the answer that stands, which the page then shows, saying it
 * was changed in another tab. Unsent answers wait in localStorage, shared by the attempt's tabs, for a reload.
 * Without this script the page is a plain form: the answers are sent when the student submits or flags.
 */
(function () {
  "use strict";

  var form = document.getElementById("quiz-form");
  if (!form || !window.fetch) {
    return;
  }
  var data = form.dataset;
  var saveUrl = data.saveUrl;
  var clockUrl = data.clockUrl;
  var flagUrl = data.flagUrl;
  var summaryUrl = data.summaryUrl;
  var resultUrl = data.resultUrl;
  var submitUrl = form.getAttribute("action");
  var deadline = Number(data.deadlineMs);
  var cutoff = Number(data.cutoffMs);
  var networkGrace = Number(data.networkGraceMs) || 10000;
  var onExpiry = data.onExpiry;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var storeKey = "lms-quiz-attempt-" + data.attempt;

  var timer = document.getElementById("quiz-timer");
  var remainingEl = document.getElementById("quiz-remaining");
  var untilEl = document.getElementById("quiz-until");
  var warningEl = document.getElementById("quiz-warning");
  var connectionEl = document.getElementById("quiz-connection");
  var announcer = document.getElementById("quiz-announcer");
  var fieldsets = form.querySelectorAll("fieldset[data-question]");

  var offset = initialOffset();
  var bestRoundTrip = Infinity;
  var pending = loadPending(); // question id -> {question, value, seq, given_at_ms}, this tab's and other tabs'
  var inflight = {}; // question id -> seq being sent
  var seqs = {};
  var lastGiven = {}; // question id -> the last answer given, as JSON
  var retryTimer = null;
  var syncTimer = null;
  var timeIsUp = false;
  var submitting = false;
  var finished = false;
  var shownWarning = null;
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

  function learnClock(body, sentAt, receivedAt, trustIt) {
    if (!body || typeof body.server_time_ms !== "number") {
      return;
    }
    var roundTrip = receivedAt - sentAt;
    // The best estimate comes from the quickest exchange; a later one wins anyway after the device clock moved.
    // `trustIt`: the server has just said time is not up, so its clock wins whatever the round trip.
    if (trustIt || roundTrip <= bestRoundTrip * 2 || roundTrip < 1000) {
      bestRoundTrip = trustIt ? roundTrip : Math.min(bestRoundTrip, roundTrip);
      offset = body.server_time_ms - (sentAt + roundTrip / 2);
    }
    if (typeof body.deadline_ms === "number" && body.deadline_ms !== deadline) {
      deadlineMoved(body.deadline_ms, body.submit_cutoff_ms || cutoff);
    }
    if (body.state && body.state !== "in_progress") {
      finish();
    }
  }

  function deadlineMoved(newDeadline, newCutoff) {
    var later = newDeadline > deadline;
    deadline = newDeadline;
    cutoff = newCutoff;
    if (untilEl) { untilEl.textContent = readerTime(deadline); }
    shownWarning = null;
    lastAnnouncedMinute = null;
    if (later && deadline > serverNow() && timeIsUp && !submitting) {
      unlock();
    }
    if (later) {
      announce("You have more time: your attempt now runs until " + readerTime(deadline) + ".");
    }
    tick();
    syncClock(); // at once: confirm the new deadline, and follow it more closely near the end
  }

  function syncClock() {
    var sentAt = Date.now();
    window.clearTimeout(syncTimer);
    return fetch(clockUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) { learnClock(body, sentAt, Date.now(), false); setConnection(true); })
      .catch(function () { setConnection(navigator.onLine); })
      .then(scheduleSync);
  }

  function scheduleSync() {
    // Every minute, every 15 s in the last five minutes, every 5 s in the last one.
    var left = deadline - serverNow();
    var every = left > 300000 ? 60000 : left > 60000 ? 15000 : 5000;
    window.clearTimeout(syncTimer);
    syncTimer = window.setTimeout(function () { if (!finished) { syncClock(); } }, every);
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

  function warningFor(left) {
    // Follows the remaining time, rounded up, so it never says more than the clock beside it.
    if (left > 300000) { return null; }
    if (left > 60000) { return Math.ceil(left / 60000) + " minutes left."; }
    if (left > 30000) { return "1 minute left. Your answers are saved as you go."; }
    return "Less than 30 seconds left. Your answers are saved as you go.";
  }

  // A deadline as the page shows it (lms/timezones.py): to the second, on the reader's clock, with the zone named
  // as the server named it (data-zone, data-zone-label on #quiz-until).
  function readerTime(ms) {
    var zone = (untilEl && untilEl.getAttribute("data-zone")) || "UTC";
    var label = (untilEl && untilEl.getAttribute("data-zone-label")) || "UTC";
    var text;
    try {
      text = new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
      }).format(new Date(ms));
    } catch (error) {
      var d = new Date(ms);
      text = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
      label = "UTC";
    }
    return text + " " + label;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function warn(text, urgent) {
    warningEl.textContent = text;
    warningEl.hidden = false;
    timer.classList.remove("is-warning", "is-urgent");
    timer.classList.add(urgent ? "is-urgent" : "is-warning");
  }

  function clearWarning() {
    warningEl.hidden = true;
    warningEl.textContent = "";
    timer.classList.remove("is-warning", "is-urgent");
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

  function setState(questionId, kind, text) {
    var el = document.getElementById("state-" + questionId);
    if (!el) {
      return;
    }
    el.classList.remove("is-saving", "is-saved", "is-error", "is-conflict");
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
    var text = warningFor(left);
    if (text !== shownWarning) {
      shownWarning = text;
      if (text === null) { clearWarning(); } else { warn(text, left <= 60000); }
    }
    var minute = Math.ceil(left / 60000);
    if (minute !== lastAnnouncedMinute) {
      var first = lastAnnouncedMinute === null;
      lastAnnouncedMinute = minute;
      // In the last five minutes the warning (an alert) says it; before, every five minutes.
      if (first || (minute > 5 && minute % 5 === 0)) {
        announce(spokenRemaining(left));
      }
    }
  }

  // -- the navigator and flags ---------------------------------------------------------------------------------

  function fieldsetFor(questionId) {
    return document.getElementById("question-" + questionId);
  }

  function isAnswered(value) {
    return value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && value.length === 0);
  }

  function refreshNavigator() {
    var answered = 0;
    var flagged = 0;
    Array.prototype.forEach.call(fieldsets, function (fieldset) {
      var id = fieldset.dataset.question;
      var link = document.getElementById("nav-" + id);
      var flag = document.getElementById("flag-" + id);
      var isDone = isAnswered(readValue(fieldset));
      var isFlagged = flag !== null && flag.getAttribute("aria-pressed") === "true";
      answered += isDone ? 1 : 0;
      flagged += isFlagged ? 1 : 0;
      if (!link) { return; }
      link.classList.toggle("is-answered", isDone);
      link.classList.toggle("is-flagged", isFlagged);
      var status = link.querySelector("[data-nav-status]");
      if (status) {
        status.textContent = (isDone ? "answered" : "not answered") + (isFlagged ? ", flagged for review" : "");
      }
    });
    var counts = document.getElementById("quiz-nav-counts");
    if (counts) {
      counts.textContent = answered + " of " + fieldsets.length + " answered" + (flagged ? ", " + flagged + " flagged" : "");
    }
    return fieldsets.length - answered;
  }

  function markCurrent(questionId) {
    var links = document.querySelectorAll("[data-nav]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].dataset.nav === questionId) {
        links[i].setAttribute("aria-current", "location");
      } else {
        links[i].removeAttribute("aria-current");
      }
    }
  }

  function toggleFlag(button) {
    var questionId = button.dataset.flag;
    var wanted = button.getAttribute("aria-pressed") !== "true";
    var sentAt = Date.now();
    button.disabled = true;
    postJson(flagUrl, { question: questionId, flagged: wanted }).then(function (reply) {
      button.disabled = false;
      if (reply.status === 200 && reply.body && reply.body.ok) {
        button.setAttribute("aria-pressed", reply.body.flagged ? "true" : "false");
        refreshNavigator();
        announce("Question " + fieldsetFor(questionId).dataset.number + (reply.body.flagged ? " flagged for review." : ": flag removed."));
        return;
      }
      learnClock(reply.body, sentAt, Date.now(), false);
      setState(questionId, "error", "flag not changed: " + ((reply.body && reply.body.message) || "try again"));
    }).catch(function () {
      button.disabled = false;
      setState(questionId, "error", "flag not changed: no answer from the server");
    });
  }

  // -- answers -------------------------------------------------------------------------------------------------

  function readStore() {
    try {
      return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function writeStore(map) {
    try {
      if (Object.keys(map).length) {
        window.localStorage.setItem(storeKey, JSON.stringify(map));
      } else {
        window.localStorage.removeItem(storeKey);
      }
    } catch (e) { /* storage full or disabled: the answers are still in memory and on their way */ }
  }

  function loadPending() {
    return readStore();
  }

  function keep(entry) {
    // Shared with the attempt's other tabs: an entry replaces only an older one for its question.
    var map = readStore();
    var old = map[entry.question];
    if (!old || old.seq <= entry.seq) {
      map[entry.question] = entry;
      writeStore(map);
    }
  }

  function settle(questionId, seq) {
    // The server has an answer at least this new: nothing up to it needs sending, from any tab.
    var map = readStore();
    var old = map[questionId];
    if (old && old.seq <= seq) {
      delete map[questionId];
      writeStore(map);
    }
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
    keep(pending[questionId]);
    refreshNavigator();
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

  function postJson(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(
        function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: null }; }
      );
    });
  }

  function dropPending(questionId, seq) {
    if (pending[questionId] && pending[questionId].seq <= seq) {
      delete pending[questionId];
    }
    settle(questionId, seq);
  }

  function showStanding(entry, answer) {
    // Changed in another tab: that answer stands. Show it here, with what happened, beside the question.
    var questionId = entry.question;
    var fieldset = fieldsetFor(questionId);
    seqs[questionId] = Math.max(seqs[questionId] || 0, answer.seq);
    dropPending(questionId, answer.seq);
    if (fieldset) {
      writeValue(fieldset, answer.value);
      lastGiven[questionId] = JSON.stringify(readValue(fieldset));
    }
    refreshNavigator();
    setState(questionId, "conflict", "changed in another tab: this is the answer saved there, and the one that counts");
    announce("Question " + (fieldset ? fieldset.dataset.number : "") + " was changed in another tab; it now shows the answer saved there.");
  }

  function send(entry) {
    var questionId = entry.question;
    inflight[questionId] = entry.seq;
    setState(questionId, "saving", "saving...");
    var sentAt = Date.now();
    postJson(saveUrl, entry).then(function (reply) {
      delete inflight[questionId];
      setConnection(true);
      learnClock(reply.body, sentAt, Date.now(), false);
      var current = pending[questionId];
      if (reply.status === 200 && reply.body && reply.body.ok) {
        var answer = reply.body.answer || { value: entry.value, seq: entry.seq };
        seqs[questionId] = Math.max(seqs[questionId] || 0, answer.seq);
        var sameAsStanding = answer.seq === entry.seq && JSON.stringify(answer.value) === JSON.stringify(entry.value);
        if (current && current.seq > entry.seq) {
          send(current); // a newer answer was given while this one travelled
        } else if (reply.body.current !== false || sameAsStanding) {
          dropPending(questionId, entry.seq); // stored, or a retry of a save already stored
          setState(questionId, "saved", "saved " + readerTime(reply.body.saved_at_ms));
        } else {
          showStanding(entry, answer);
        }
        return;
      }
      if (reply.body && reply.status >= 400 && reply.status < 500 && reply.status !== 400) {
        // A definite refusal (time up, a question not in this attempt): retrying cannot help.
        if (current && current.seq === entry.seq) {
          dropPending(questionId, entry.seq);
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

  function afterSaves(then) {
    // Send what waits, then go on once it is acknowledged (or after a few seconds, whatever happened).
    flush();
    var waitUntil = Date.now() + Math.max(2000, networkGrace - 2000);
    (function waitForSaves() {
      if (!nothingPending() && Date.now() < waitUntil) {
        window.setTimeout(waitForSaves, 150);
        return;
      }
      then(nothingPending());
    })();
  }

  // -- submitting ----------------------------------------------------------------------------------------------

  function lock() {
    for (var i = 0; i < fieldsets.length; i++) { fieldsets[i].disabled = true; }
    form.classList.add("is-locked");
  }

  function unlock() {
    timeIsUp = false;
    for (var i = 0; i < fieldsets.length; i++) { fieldsets[i].disabled = false; }
    form.classList.remove("is-locked");
    shownWarning = null;
    clearWarning();
  }

  function finish() {
    if (finished) {
      return;
    }
    finished = true;
    writeStore({});
    window.location.assign(resultUrl);
  }

  function timeUp() {
    timeIsUp = true;
    remainingEl.textContent = "0:00";
    lock();
    flush();
    if (onExpiry === "grace") {
      warn("Time is up. Your answers can no longer change: submit your attempt now. Submitting records the answers saved before the deadline.", true);
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
    afterSaves(function () { postSubmit(reason); });
  }

  function postSubmit(reason) {
    var sentAt = Date.now();
    postJson(submitUrl, { reason: reason }).then(function (reply) {
      if (reply.status === 409 && reply.body && reply.body.state === "in_progress") {
        timeNotUp(reply.body, sentAt);
        return;
      }
      if (reply.status === 200 || reply.status === 409) {
        finish();
        return;
      }
      submitFailed((reply.body && reply.body.message) || "The server could not take the submission.");
    }).catch(function () {
      submitFailed("Could not reach the server. Your answers are kept in this browser; reconnect and it will submit.");
    });
  }

  function timeNotUp(body, sentAt) {
    // The server's deadline has not passed (time was added, or this device's clock ran ahead): keep going.
    submitting = false;
    var button = document.getElementById("quiz-submit");
    if (button) { button.disabled = false; }
    learnClock(body, sentAt, Date.now(), true);
    unlock();
    announce("Time is not up yet: your attempt runs until " + readerTime(deadline) + ".");
    tick();
    syncClock();
  }

  function submitFailed(message) {
    submitting = false;
    var button = document.getElementById("quiz-submit");
    if (button) { button.disabled = false; }
    warn(message, true);
    announce(message);
    if (timeIsUp && onExpiry !== "grace") {
      window.setTimeout(function () { flushThenSubmit("time_up"); }, 3000);
    }
  }

  function submitOrReview() {
    // With questions unanswered, the summary page asks first (it works without this script too); once time is
    // up nothing can change, so there is nothing to ask.
    if (refreshNavigator() === 0 || timeIsUp) {
      flushThenSubmit("student");
      return;
    }
    afterSaves(function (allSaved) {
      if (allSaved) {
        window.location.assign(summaryUrl);
      } else {
        warn("Some answers are not saved yet, so the summary would not show them. Check your connection and try again.", true);
      }
    });
  }

  // -- wiring --------------------------------------------------------------------------------------------------

  Array.prototype.forEach.call(fieldsets, function (fieldset) {
    var questionId = fieldset.dataset.question;
    var serverSeq = Number(fieldset.dataset.seq);
    var waiting = pending[questionId];
    if (waiting && waiting.seq > serverSeq) {
      writeValue(fieldset, waiting.value); // given before a reload or crash (in any tab), not yet acknowledged
      setState(questionId, "error", "not saved yet: sending...");
    } else {
      delete pending[questionId];
      settle(questionId, serverSeq);
    }
    seqs[questionId] = Math.max(serverSeq, waiting ? waiting.seq : -1);
    lastGiven[questionId] = JSON.stringify(readValue(fieldset));
    var state = document.getElementById("state-" + questionId);
    if (state && state.dataset.savedAtMs && !pending[questionId]) {
      setState(questionId, "saved", "saved " + readerTime(Number(state.dataset.savedAtMs)));
    }
    fieldset.addEventListener("focusin", function () { markCurrent(questionId); });
  });
  refreshNavigator();

  var typingTimers = {};
  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest ? event.target.closest("fieldset[data-question]") : null;
    if (fieldset) {
      window.clearTimeout(typingTimers[fieldset.dataset.question]);
      record(fieldset);
    }
  });
  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest ? event.target.closest("fieldset[data-question]") : null;
    if (fieldset && fieldset.dataset.type === "short") {
      var id = fieldset.dataset.question;
      window.clearTimeout(typingTimers[id]);
      typingTimers[id] = window.setTimeout(function () { record(fieldset); }, 600);
    }
  });
  function recordTyping() {
    // Text still being typed (its save waits for a pause) is recorded now.
    Array.prototype.forEach.call(fieldsets, function (fieldset) {
      var id = fieldset.dataset.question;
      if (typingTimers[id]) {
        window.clearTimeout(typingTimers[id]);
        typingTimers[id] = null;
        if (fieldset.dataset.type === "short") { record(fieldset); }
      }
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter;
    if (button && button.dataset && button.dataset.flag) {
      toggleFlag(button);
      return;
    }
    recordTyping();
    submitOrReview();
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a") : null;
    if (link && link.dataset.nav) {
      markCurrent(link.dataset.nav);
    } else if (link && link.hasAttribute("data-summary-link") && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault(); // the summary shows what the server has: send what waits first
      recordTyping();
      afterSaves(function () { window.location.assign(link.href); });
    }
  });
  window.addEventListener("online", function () { setConnection(true); syncClock(); flush(); });
  window.addEventListener("offline", function () { setConnection(false); flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { syncClock(); flush(); tick(); }
  });
  window.setInterval(tick, 250);
  scheduleSync();
  tick();
  flush();
})();
