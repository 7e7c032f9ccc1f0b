/* Shuyuan site theme: runs in <head>, before the page is drawn (a static file: the site's CSP allows no
   inline script).
   - 大字版 (适老化): the reader's choice, kept in localStorage, is applied before the first paint; the
     header's button (aria-pressed) switches it. No server is involved.
   - 哀悼日置灰: the page was published with class "mourning" while mourning was active, and carries its
     start and end (data-mourning-from / -until): they are applied here too, so the greyscale starts and
     ends on time in the reader's browser even before the next publish. */
(function (doc, win) {
  "use strict";
  var root = doc.documentElement;
  var KEY = "shuyuan-care";
  var MAX_DELAY = 2147483647; // setTimeout's limit (about 24.8 days)

  root.classList.add("js");

  function stored() {
    try { return win.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function store(on) {
    try { if (on) { win.localStorage.setItem(KEY, "1"); } else { win.localStorage.removeItem(KEY); } } catch (e) { /* private mode */ }
  }
  function setCare(on) {
    root.classList.toggle("care", on);
    var buttons = doc.querySelectorAll("[data-care-toggle]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-pressed", on ? "true" : "false"); }
  }
  setCare(stored());

  function mourning() {
    if (!root.hasAttribute("data-mourning")) { return; }
    var now = Date.now();
    var from = Date.parse(root.getAttribute("data-mourning-from") || "");
    var until = Date.parse(root.getAttribute("data-mourning-until") || "");
    var started = isNaN(from) || from <= now;
    var ended = !isNaN(until) && until <= now;
    root.classList.toggle("mourning", started && !ended);
    var next = !started ? from : (!ended && !isNaN(until) ? until : NaN);
    if (!isNaN(next) && next - now < MAX_DELAY) { win.setTimeout(mourning, Math.max(0, next - now) + 50); }
  }
  mourning();

  doc.addEventListener("DOMContentLoaded", function () {
    setCare(root.classList.contains("care"));
    doc.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-care-toggle]");
      if (!button) { return; }
      var on = !root.classList.contains("care");
      store(on);
      setCare(on);
    });
  });
  // another tab switched the mode
  win.addEventListener("storage", function (event) { if (event.key === KEY) { setCare(event.newValue === "1"); } });
})(document, window);
