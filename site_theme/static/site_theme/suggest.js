// Autocomplete for search boxes: <input data-suggest-url="..."> gets a <datalist> of titles and terms
// from the suggestion endpoint as the user types (debounced; the browser renders the list accessibly).
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-suggest-url]");
  Array.prototype.forEach.call(inputs, function (input, i) {
    var url = input.getAttribute("data-suggest-url");
    var list = document.createElement("datalist");
    list.id = "search-suggestions-" + i;
    input.setAttribute("list", list.id);
    input.parentNode.insertBefore(list, input.nextSibling);
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      clearTimeout(timer);
      if (!q || q === last) return;
      timer = setTimeout(function () {
        last = q;
        var sep = url.indexOf("?") === -1 ? "?" : "&";
        fetch(url + sep + "q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) return;
            list.innerHTML = "";
            (data.suggestions || []).forEach(function (s) {
              var option = document.createElement("option");
              option.value = s;
              list.appendChild(option);
            });
          })
          .catch(function () { list.innerHTML = ""; });
      }, 150);
    });
  });
})();
