/* Shuyuan online exhibition: image zoom and the current unit. No dependencies, a static file (the CSP
   allows no inline script).
   - Every exhibit picture is a link to its full-size rendition (a[data-zoom]): without this script the
     link opens the picture. With it, the picture opens in a lightbox on the page: Esc or the close button
     closes it, ← → (or the buttons) go to the previous / next picture, focus returns to the link.
   - The unit list marks the unit being read (aria-current="step") as the reader scrolls. */
(function (doc, win) {
  "use strict";
  var lang = (doc.documentElement.getAttribute("lang") || "zh-hans").toLowerCase();
  var T = lang.indexOf("en") === 0
    ? { close: "Close", prev: "Previous picture", next: "Next picture", label: "Enlarged picture", of: " / " }
    : lang === "zh-hant"
      ? { close: "關閉", prev: "上一張", next: "下一張", label: "查看大圖", of: " / " }
      : { close: "关闭", prev: "上一张", next: "下一张", label: "查看大图", of: " / " };

  function el(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function lightbox(links) {
    var box = el("div", "lightbox");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", T.label);
    box.hidden = true;
    var figure = el("figure", "lightbox-figure");
    var img = el("img", "lightbox-image");
    img.alt = "";
    var caption = el("figcaption", "lightbox-caption");
    figure.appendChild(img);
    figure.appendChild(caption);
    var close = el("button", "lightbox-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", T.close);
    var prev = el("button", "lightbox-prev", "‹");
    prev.type = "button";
    prev.setAttribute("aria-label", T.prev);
    var next = el("button", "lightbox-next", "›");
    next.type = "button";
    next.setAttribute("aria-label", T.next);
    box.appendChild(figure);
    box.appendChild(prev);
    box.appendChild(next);
    box.appendChild(close);
    doc.body.appendChild(box);

    var current = -1;
    var opener = null;

    function show(i) {
      current = (i + links.length) % links.length;
      var link = links[current];
      var thumb = link.querySelector("img");
      img.src = link.getAttribute("href");
      img.alt = thumb ? thumb.getAttribute("alt") || "" : "";
      var fig = link.closest("figure");
      var cap = fig && fig.querySelector("figcaption");
      caption.textContent = (links.length > 1 ? (current + 1) + T.of + links.length + "　" : "") +
        (cap ? Array.prototype.map.call(cap.children.length ? cap.children : [cap], function (part) {
          return part.textContent.trim();
        }).join("　") : img.alt);
      prev.hidden = next.hidden = links.length < 2;
    }
    function open(i, from) {
      opener = from;
      show(i);
      box.hidden = false;
      doc.documentElement.classList.add("lightbox-open");
      close.focus();
    }
    function shut() {
      box.hidden = true;
      img.removeAttribute("src");
      doc.documentElement.classList.remove("lightbox-open");
      if (opener) { opener.focus(); }
    }

    links.forEach(function (link, i) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
        event.preventDefault();
        open(i, link);
      });
    });
    close.addEventListener("click", shut);
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    box.addEventListener("click", function (event) { if (event.target === box) { shut(); } });
    doc.addEventListener("keydown", function (event) {
      if (box.hidden) { return; }
      if (event.key === "Escape" || event.key === "Esc") { event.preventDefault(); shut(); }
      else if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
      else if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
      else if (event.key === "Tab") {
        // keep focus inside the dialog
        var stops = [prev, next, close].filter(function (b) { return !b.hidden; });
        var at = stops.indexOf(doc.activeElement);
        event.preventDefault();
        stops[(at + (event.shiftKey ? stops.length - 1 : 1)) % stops.length].focus();
      }
    });
  }

  function currentUnit() {
    var units = doc.querySelectorAll("[data-unit]");
    var links = doc.querySelectorAll("[data-unit-link]");
    if (!units.length || !links.length || !("IntersectionObserver" in win)) { return; }
    var observer = new win.IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        for (var i = 0; i < links.length; i++) {
          if (links[i].getAttribute("href") === "#" + entry.target.id) { links[i].setAttribute("aria-current", "step"); }
          else { links[i].removeAttribute("aria-current"); }
        }
      });
    }, { rootMargin: "0px 0px -60% 0px" });
    for (var i = 0; i < units.length; i++) { observer.observe(units[i]); }
  }

  function start() {
    var links = Array.prototype.slice.call(doc.querySelectorAll("a[data-zoom]"));
    if (links.length) { lightbox(links); }
    currentUnit();
  }
  if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", start); } else { start(); }
})(document, window);
