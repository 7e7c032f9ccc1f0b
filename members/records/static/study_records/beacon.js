/* Reading beacon of 学习记录 (members' pages served by the CMS only; see study_records_tags.study_beacon).
   Counts the seconds the page is visible and sends them every data-interval seconds, and when the page
   is hidden or left (navigator.sendBeacon). The first beacon of a visit says opened=1. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-study-beacon]");
  if (!script) return;
  var url = script.getAttribute("data-study-beacon");
  var page = script.getAttribute("data-page");
  var csrf = script.getAttribute("data-csrf");
  var interval = Math.max(10, parseInt(script.getAttribute("data-interval"), 10) || 30) * 1000;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var pending = 0;
  var opened = false;

  function collect() {
    if (visibleSince !== null) {
      var now = Date.now();
      pending += (now - visibleSince) / 1000;
      visibleSince = now;
    }
  }

  function send(final) {
    collect();
    var seconds = Math.floor(pending);
    if (seconds <= 0 && opened) return;
    pending -= seconds;
    var body = new URLSearchParams({ page: page, seconds: String(seconds), csrfmiddlewaretoken: csrf });
    if (!opened) body.set("opened", "1");
    opened = true;
    if (final && navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
    } else if (window.fetch) {
      fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).catch(function () {});
    }
  }

  send(false);
  setInterval(function () { if (document.visibilityState === "visible") send(false); }, interval);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { send(true); visibleSince = null; }
    else { visibleSince = Date.now(); }
  });
  window.addEventListener("pagehide", function () { send(true); });
})();
