// Public search page: asks the search API and shows highlighted results, facets and sorting.
// No external libraries; state lives in the page URL so results can be linked and reloaded.
(function () {
  "use strict";
  var form = document.getElementById("public-search");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var sortSelect = form.querySelector("select[name=sort]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var pages = document.getElementById("search-pages");
  var facetsBox = document.getElementById("search-facets");
  var api = form.getAttribute("data-api");
  var clickApi = api.replace(/\/?$/, "/") + "click/";
  var logId = null; // the query log entry of page 1: clicks on later pages count for it too
  var locale = form.getAttribute("data-locale");
  // facet field in the API response -> filter parameter of the API
  var FACETS = { kind: "kind", material_type: "type", topics: "topic", column: "column", year: "year" };
  var FILTERS = ["kind", "type", "topic", "column", "year"];
  var T = {
    "zh-hans": { browse: "按类别浏览", searching: "正在搜索…", none: "没有找到相关内容。", found: "共找到 {n} 条结果", error: "搜索服务暂时不可用，请稍后再试。", prev: "上一页", next: "下一页", clear: "清除筛选",
      facet: { kind: "内容类别", material_type: "资料类型", topics: "专题", column: "栏目", year: "年份" } },
    "zh-hant": { browse: "按類別瀏覽", searching: "正在搜索…", none: "沒有找到相關內容。", found: "共找到 {n} 條結果", error: "搜索服務暫時不可用，請稍後再試。", prev: "上一頁", next: "下一頁", clear: "清除篩選",
      facet: { kind: "內容類別", material_type: "資料類型", topics: "專題", column: "欄目", year: "年份" } },
    en: { browse: "Browse by kind", searching: "Searching…", none: "Nothing found.", found: "{n} results", error: "Search is unavailable, please try again later.", prev: "Previous", next: "Next", clear: "Clear filters",
      facet: { kind: "Kind", material_type: "Material type", topics: "Topic", column: "Column", year: "Year" } }
  }[locale] || { facet: {} };
  // The kinds of content and their labels come from the page models, in the page's language:
  // [[code, label], ...] in display order (search.documents.kinds()).
  var KINDS = JSON.parse(form.getAttribute("data-kinds") || "[]");
  var kindLabels = {};
  KINDS.forEach(function (kind) { kindLabels[kind[0]] = kind[1]; });

  function state() {
    var url = new URLSearchParams(window.location.search);
    var s = { q: (url.get("q") || "").trim(), page: parseInt(url.get("page") || "1", 10) || 1, sort: url.get("sort") || "relevance", filters: {} };
    FILTERS.forEach(function (name) { if (url.get(name)) s.filters[name] = url.get(name); });
    return s;
  }

  function save(s) {
    var url = new URL(window.location.href);
    url.search = "";
    url.searchParams.set("q", s.q);
    if (s.page > 1) url.searchParams.set("page", s.page);
    if (s.sort !== "relevance") url.searchParams.set("sort", s.sort);
    Object.keys(s.filters).forEach(function (k) { url.searchParams.set(k, s.filters[k]); });
    history.replaceState(null, "", url);
  }

  function go(s) {
    save(s);
    if (s.q || Object.keys(s.filters).length) { run(s); return; }
    list.innerHTML = ""; pages.innerHTML = ""; status.textContent = "";
    offerBrowsing();
  }

  // Without words, browsing: every public item of a kind, newest first (the API lists what a
  // filter allows when q is empty), then narrowed by the facets of that answer.
  function offerBrowsing() {
    if (!facetsBox) return;
    facetsBox.innerHTML = "";
    var h = document.createElement("h2");
    h.textContent = T.browse || "";
    var ul = document.createElement("ul");
    KINDS.forEach(function (kind) {
      var li = document.createElement("li");
      li.appendChild(button(kind[1], function () { go({ q: "", page: 1, sort: "date", filters: { kind: kind[0] } }); }));
      ul.appendChild(li);
    });
    facetsBox.appendChild(h);
    facetsBox.appendChild(ul);
  }

  function run(s) {
    var params = new URLSearchParams({ q: s.q, locale: locale, page: String(s.page), sort: s.sort });
    Object.keys(s.filters).forEach(function (k) { params.set(k, s.filters[k]); });
    status.textContent = T.searching;
    fetch(api + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { if (s.page === 1 || data.log_id) logId = data.log_id; show(s, data); })
      .catch(function () { status.textContent = T.error; list.innerHTML = ""; pages.innerHTML = ""; if (facetsBox) facetsBox.innerHTML = ""; });
  }

  function button(label, onClick, pressed) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (pressed !== undefined) b.setAttribute("aria-pressed", pressed ? "true" : "false");
    b.addEventListener("click", onClick);
    return b;
  }

  function showFacets(s, facets) {
    if (!facetsBox) return;
    facetsBox.innerHTML = "";
    Object.keys(FACETS).forEach(function (field) {
      var values = (facets || {})[field] || [];
      if (!values.length) return;
      var param = FACETS[field];
      var h = document.createElement("h2");
      h.textContent = T.facet[field] || field;
      var ul = document.createElement("ul");
      values.forEach(function (v) {
        var li = document.createElement("li");
        var active = s.filters[param] === String(v.value);
        var label = (field === "kind" && kindLabels[v.value]) || String(v.value);
        li.appendChild(button(label + " (" + v.count + ")", function () {
          var next = { q: s.q, page: 1, sort: s.sort, filters: Object.assign({}, s.filters) };
          if (active) delete next.filters[param]; else next.filters[param] = String(v.value);
          go(next);
        }, active));
        ul.appendChild(li);
      });
      facetsBox.appendChild(h);
      facetsBox.appendChild(ul);
    });
    if (Object.keys(s.filters).length) {
      facetsBox.appendChild(button(T.clear, function () { go({ q: s.q, page: 1, sort: s.sort, filters: {} }); }));
    }
  }

  // Click-through for the editors' search report: a beacon to the CMS, which outlives the page
  // the reader is leaving; nothing is sent when the search was not logged (page 1 of a query only).
  function report(doc, position) {
    if (!logId || !navigator.sendBeacon) return;
    navigator.sendBeacon(clickApi, new URLSearchParams({ log: String(logId), doc: doc, pos: String(position) }));
  }

  function show(s, data) {
    list.innerHTML = "";
    pages.innerHTML = "";
    status.textContent = data.total ? T.found.replace("{n}", data.total) : T.none;
    data.results.forEach(function (hit, i) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = hit.url;
      var position = (data.page - 1) * data.page_size + i + 1;
      a.addEventListener("click", function () { report(hit.id, position); });
      a.addEventListener("auxclick", function (e) { if (e.button === 1) report(hit.id, position); });
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
    showFacets(s, data.facets);
    var nav = [];
    if (data.page > 1) nav.push([T.prev, data.page - 1]);
    if (data.page < data.num_pages) nav.push([T.next, data.page + 1]);
    nav.forEach(function (item) {
      pages.appendChild(button(item[0], function () { go({ q: s.q, page: item[1], sort: s.sort, filters: s.filters }); }));
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (q) go({ q: q, page: 1, sort: sortSelect ? sortSelect.value : "relevance", filters: {} });
    else if (Object.keys(state().filters).length) go(Object.assign(state(), { page: 1 }));
  });
  if (sortSelect) {
    sortSelect.addEventListener("change", function () {
      var s = state();
      if (s.q || Object.keys(s.filters).length) { s.sort = sortSelect.value; s.page = 1; go(s); }
    });
  }
  var initial = state();
  if (initial.q || Object.keys(initial.filters).length) {
    input.value = initial.q;
    if (sortSelect) sortSelect.value = initial.sort;
    run(initial);
  } else {
    offerBrowsing();
  }
})();
