// A home reached through the language switcher from a page with no translation in this language
// (a link ending in #untranslated) says so: the note is in the page, hidden; this shows it at the top of
// the main content. A static file, as the pages' Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  function show() {
    var note = document.querySelector("[data-lang-note]");
    if (!note || window.location.hash !== "#untranslated") return;
    var main = document.getElementById("main");
    if (main && note.parentNode !== main) main.insertBefore(note, main.firstChild);
    note.hidden = false;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
  window.addEventListener("hashchange", show);
})();
