/*
 * Starts the Wagtail admin widgets that Wagtail itself starts with inline <script> elements, which our
 * Content-Security-Policy blocks (script-src 'self' + nonce, no 'unsafe-inline').
 *
 * The template overrides in site_theme/templates/wagtailadmin/ (date and time pickers, inline panels)
 * and cms/admin_csp.py (chooser widgets) render, instead of an inline script, an inert marker:
 *
 *   <template data-shuyuan-init="initDateChooser" data-shuyuan-id="id_date" data-shuyuan-options="{…}">
 *
 * This file (loaded on every admin page) makes the same call Wagtail's inline script made, once per
 * marker: for the page as parsed, and for markup added later (the scheduling dialog, a new inline panel
 * form, chooser modals), which an observer watches for. Only the functions and classes listed below can
 * be called: a marker is data, never code.
 */
(function () {
  "use strict";

  // name -> how it is invoked: "new" (a class) or "call" (a function)
  var ALLOWED = {
    initDateChooser: "call",
    initTimeChooser: "call",
    initDateTimeChooser: "call",
    createTaskChooser: "call",
    InlinePanel: "new",
    MultipleChooserPanel: "new",
    PageChooser: "new",
    ImageChooser: "new",
    DocumentChooser: "new",
    SnippetChooser: "new",
    TaskChooser: "new",
    Chooser: "new",
  };
  var SELECTOR = "template[data-shuyuan-init]";

  function start(marker) {
    if (marker.hasAttribute("data-shuyuan-started")) return;
    marker.setAttribute("data-shuyuan-started", "");
    var name = marker.getAttribute("data-shuyuan-init");
    var how = Object.prototype.hasOwnProperty.call(ALLOWED, name) ? ALLOWED[name] : null;
    var target = how ? window[name] : null;
    if (typeof target !== "function") {
      console.error("shuyuan csp-init: cannot start " + name);
      return;
    }
    var args = [];
    if (marker.hasAttribute("data-shuyuan-id")) args.push(marker.getAttribute("data-shuyuan-id"));
    if (marker.hasAttribute("data-shuyuan-options")) args.push(JSON.parse(marker.getAttribute("data-shuyuan-options")));
    if (how === "new") {
      new (Function.prototype.bind.apply(target, [null].concat(args)))();
    } else {
      target.apply(window, args);
    }
  }

  function startWithin(root) {
    if (root.nodeType !== 1) return;
    if (root.matches(SELECTOR)) start(root);
    root.querySelectorAll(SELECTOR).forEach(start);
  }

  function boot() {
    startWithin(document.documentElement);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        mutation.addedNodes.forEach(startWithin);
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
