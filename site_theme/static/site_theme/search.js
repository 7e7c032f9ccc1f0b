// Public search page: asks the search API and shows highlighted results. No external libraries.
(function () {
  "use strict";
  var form = document.getElementById("public-search");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var pages = document.getElementById("search-pages");
  var api = form.getAttribute("data-api");
  var locale = form.getAttribute("data-locale");
  var T = {
    "zh-hans": { searching: "正在搜索…", none: "没有找到相关内容。", found: "共找到 {n} 条结果", error: "搜索服务暂时不可用，请稍后再试。", prev: "上一页", next: "下一页" },
    "zh-hant": { searching: "正在搜索…", none: "沒有找到相關內容。", found: "共找到 {n} 條結果", error: "搜索服務暫時不可用，請稍後再試。", prev: "上一頁", next: "下一頁" },
    en: { searching: "Searching…", none: "Nothing found.", found: "{n} results", error: "Search is unavailable, please try again later.", prev: "Previous", next: "Next" }
  }[locale] || {};

  function run(q, page) {
    var params = new URLSearchParams({ q: q, locale: locale, page: String(page || 1) });
    status.textContent = T.searching;
    fetch(api + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { show(q, data); })
      .catch(function () { status.textContent = T.error; list.innerHTML = ""; pages.innerHTML = ""; });
  }

  function show(q, data) {
    list.innerHTML = "";
    pages.innerHTML = "";
    status.textContent = data.total ? T.found.replace("{n}", data.total) : T.none;
    data.results.forEach(function (hit) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = hit.url;
      a.innerHTML = hit.title_html; // the API escapes the text and adds only <mark>
      var h = document.createElement("h3");
      h.appendChild(a);
      var p = document.createElement("p");
      p.innerHTML = hit.snippet_html;
      li.appendChild(h);
      li.appendChild(p);
      if (hit.date) { var m = document.createElement("p"); m.className = "meta"; m.textContent = hit.date; li.appendChild(m); }
      list.appendChild(li);
    });
    var nav = [];
    if (data.page > 1) nav.push([T.prev, data.page - 1]);
    if (data.page < data.num_pages) nav.push([T.next, data.page + 1]);
    nav.forEach(function (item) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = item[0];
      b.addEventListener("click", function () { go(q, item[1]); });
      pages.appendChild(b);
    });
  }

  function go(q, page) {
    var url = new URL(window.location.href);
    url.searchParams.set("q", q);
    if (page > 1) url.searchParams.set("page", page); else url.searchParams.delete("page");
    history.replaceState(null, "", url);
    run(q, page);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (q) go(q, 1);
  });
  var initial = new URLSearchParams(window.location.search);
  if (initial.get("q")) { input.value = initial.get("q"); run(initial.get("q"), parseInt(initial.get("page") || "1", 10)); }
})();
