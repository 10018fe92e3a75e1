// Search as you type on the contact list: after a short pause, fetch only the results and
// swap them in; the form still works without JavaScript (Enter submits it).
(function () {
  "use strict";
  var form = document.getElementById("contact-filters");
  var results = document.getElementById("contact-results");
  if (!form || !results) { return; }
  var timer = null;
  var latest = 0;

  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    var shown = "?" + params.toString();
    params.set("partial", "1");
    var ticket = ++latest;
    fetch(form.dataset.resultsUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== latest) { return; }  // an older answer arrived late
        results.innerHTML = html;
        window.history.replaceState(null, "", shown);
      });
  }

  form.addEventListener("input", function (event) {
    if (event.target.name !== "q") { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
  form.addEventListener("change", function (event) {
    if (event.target.name !== "q") { refresh(); }
  });
})();
