// The console's behaviour beyond htmx: reply counter, drafts, canned replies, keyboard.
// No inline scripts anywhere (the Content-Security-Policy forbids them): everything is here.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT" || target.isContentEditable);
  }
  function newId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  // -- reply box: counter (UTF-16 code units, as LINE counts), draft, Ctrl+Enter -------------
  function setUpReply() {
    var form = $("#reply-form");
    if (!form) { return; }
    var text = $("#reply-text", form);
    var counter = $("#reply-counter", form);
    var send = $("#send", form);
    var idField = $("#client-message-id", form);
    var key = "desk-draft:" + form.dataset.session;
    var limit = parseInt(counter.dataset.limit, 10);
    var template = counter.textContent.replace(/^0/, "");

    function update() {
      var count = text.value.length; // JavaScript strings are UTF-16: LINE's own count
      var over = count > limit;
      counter.textContent = count + template + (over ? " " + counter.dataset.over : "");
      counter.classList.toggle("over", over);
      send.disabled = over;
    }
    function save() {
      if (text.value) { localStorage.setItem(key, text.value); } else { localStorage.removeItem(key); }
    }
    var draft = localStorage.getItem(key);
    if (draft) { text.value = draft; }
    idField.value = newId();
    update();
    // The typing signal: the user sees LINE's loading animation (the server sends it at most
    // once every 20 s; the browser asks no more often than that either).
    var lastTyping = 0;
    function signalTyping() {
      var now = Date.now();
      if (now - lastTyping < 20000 || !text.value) { return; }
      lastTyping = now;
      fetch("/console/sessions/" + encodeURIComponent(form.dataset.session) + "/typing", {
        method: "POST", credentials: "same-origin", headers: { "HX-Request": "true" }
      }).catch(function () { lastTyping = 0; });
    }
    text.addEventListener("input", function () { update(); save(); signalTyping(); });
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!send.disabled) { form.requestSubmit(); }
      }
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt === form && event.detail.successful) {
        text.value = "";
        localStorage.removeItem(key);
        idField.value = newId();
        update();
      }
    });

    var canned = $("#canned");
    var insert = $("#canned-insert");
    if (canned && insert) {
      insert.addEventListener("click", function () {
        var option = canned.options[canned.selectedIndex];
        if (!option || !option.dataset.text) { canned.focus(); return; }
        var start = text.selectionStart, end = text.selectionEnd;
        text.value = text.value.slice(0, start) + option.dataset.text + text.value.slice(end);
        var caret = start + option.dataset.text.length;
        text.focus();
        text.setSelectionRange(caret, caret);
        update();
        save();
      });
    }
  }

  // -- transcript: keep the newest message in view -------------------------------------------
  function scrollTranscript() {
    var list = $(".transcript");
    if (list) { list.scrollTop = list.scrollHeight; }
  }

  // -- htmx: show refusals (4xx) where the form says, keep focus across polling --------------
  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var status = event.detail.xhr.status;
    if (status === 409 && elt && elt.closest("[data-swap-errors]")) {
      // A panel that answers a conflict with its own current state (the user note).
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else if (status >= 400 && status < 500 && elt) {
      var owner = elt.closest("[data-error-target]");
      var target = owner && $(owner.dataset.errorTarget);
      if (target) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
        event.detail.target = target;
        event.detail.swapOverride = "innerHTML";
      }
    }
    var active = document.activeElement;
    focusedId = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (focusedId && !document.activeElement.id) {
      var again = document.getElementById(focusedId);
      if (again) { again.focus(); }
    }
    if (event.detail.target && event.detail.target.id === "transcript") { scrollTranscript(); }
    if (document.body.dataset.page === "conversation") { scrollTranscript(); }
    markSelected();
  });
  // A poll that brings only new lines appends them out of band (_transcript_more.html).
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "transcript-lines") { scrollTranscript(); }
  });

  // -- alerts: counts in the tab title, an optional sound and browser notification ----------
  // Every page polls /console/counts. A rise in waiting consultations, or in crisis/要注意
  // cases, since the last poll (kept per tab in sessionStorage, so moving between pages does
  // not alert again) plays the sound and shows a notification, each if the consultant chose it.
  var SOUND = "desk-alert-sound", NOTIFY = "desk-alert-notify";
  var baseTitle = document.title;
  var audio = null;
  function wakeAudio() {
    // Browsers let a page play sound only after a gesture on it: prepare on the first one.
    if (localStorage.getItem(SOUND) !== "on") { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    if (!audio) { audio = new Context(); }
    if (audio.state === "suspended") { audio.resume(); }
  }
  function beep(times) {
    if (!audio || audio.state !== "running") { return; }
    for (var i = 0; i < times; i++) {
      var tone = audio.createOscillator(), gain = audio.createGain();
      var start = audio.currentTime + i * 0.35;
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.3);
    }
  }
  function notify(text) {
    if (localStorage.getItem(NOTIFY) !== "on" || !window.Notification || Notification.permission !== "granted") { return; }
    new Notification(baseTitle, { body: text, tag: "desk-alert" });
  }
  function onCounts(element) {
    var waiting = parseInt(element.dataset.waiting, 10) || 0;
    var marked = parseInt(element.dataset.marked, 10) || 0;
    document.title = element.dataset.title + baseTitle;
    var last = JSON.parse(sessionStorage.getItem("desk-counts") || "null");
    sessionStorage.setItem("desk-counts", JSON.stringify({ waiting: waiting, marked: marked }));
    if (!last) { return; }
    if (marked > last.marked) {
      document.body.dataset.alerted = "marked";
      if (localStorage.getItem(SOUND) === "on") { beep(3); }
      notify(element.dataset.markedText);
    } else if (waiting > last.waiting) {
      document.body.dataset.alerted = "new";
      if (localStorage.getItem(SOUND) === "on") { beep(1); }
      notify(element.dataset.newText);
    }
  }
  function setUpAlertSettings() {
    var sound = $("#alert-sound"), notifying = $("#alert-notify"), denied = $("#alert-notify-denied");
    if (!sound || !notifying) { return; }
    sound.checked = localStorage.getItem(SOUND) === "on";
    notifying.checked = localStorage.getItem(NOTIFY) === "on" && window.Notification && Notification.permission === "granted";
    sound.addEventListener("change", function () {
      localStorage.setItem(SOUND, sound.checked ? "on" : "off");
      wakeAudio();
      if (sound.checked) { beep(1); } // what it will sound like
    });
    notifying.addEventListener("change", function () {
      denied.hidden = true;
      if (!notifying.checked) { localStorage.setItem(NOTIFY, "off"); return; }
      if (!window.Notification) { notifying.checked = false; denied.hidden = false; return; }
      Notification.requestPermission().then(function (permission) {
        var granted = permission === "granted";
        notifying.checked = granted;
        denied.hidden = granted;
        localStorage.setItem(NOTIFY, granted ? "on" : "off");
      });
    });
  }
  var countsSeen = null;
  document.addEventListener("htmx:afterSettle", function () {
    var counts = $("#desk-counts");
    // Each poll swaps in a new element: handle each one once, whichever swap settled.
    if (counts && counts !== countsSeen && counts.dataset.title !== undefined) {
      countsSeen = counts;
      onCounts(counts);
    }
  });
  document.addEventListener("click", wakeAudio, true);
  document.addEventListener("keydown", wakeAudio, true);

  // -- keyboard shortcuts ---------------------------------------------------------------------
  var selected = -1;
  function rows() { return $all("table.queue tbody tr"); }
  function markSelected() {
    rows().forEach(function (row, index) { row.classList.toggle("selected", index === selected); });
  }
  function select(step) {
    var all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(all.length - 1, selected + step));
    markSelected();
    var link = $("a[id^='open-']", all[selected]);
    if (link) { link.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var dialog = $("#shortcuts");
    var key = event.key;
    if (key === "?") { event.preventDefault(); if (dialog.open) { dialog.close(); } else { dialog.showModal(); } return; }
    if (key === "j") { event.preventDefault(); select(1); return; }
    if (key === "k") { event.preventDefault(); select(-1); return; }
    if (key === "c") {
      var row = rows()[selected];
      var claim = row ? $("[data-claim]", row) : $("#claim-this");
      if (claim) { event.preventDefault(); claim.click(); }
      return;
    }
    if (key === "r" && $("#reply-text")) { event.preventDefault(); $("#reply-text").focus(); return; }
    if (key === "e" && $("#outcome")) { event.preventDefault(); $("#outcome").focus(); return; }
    if (key === "/" && $("#canned")) { event.preventDefault(); $("#canned").focus(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpReply();
    setUpAlertSettings();
    scrollTranscript();
    var printing = $("#print-export");
    if (printing) { printing.addEventListener("click", function () { window.print(); }); }
    var open = $("#shortcuts-open");
    if (open) { open.addEventListener("click", function () { $("#shortcuts").showModal(); }); }
  });
})();
