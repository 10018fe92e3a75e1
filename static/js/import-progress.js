// Import progress: poll the job's JSON status and move the bar; reload the page when the job
// reaches a new stage, so the server renders the counts and the report link. Without
// JavaScript the page refreshes itself (meta refresh in <noscript>). The bar's width is set
// here from aria-valuenow, never by a style attribute (the Content-Security-Policy allows none).
(function () {
  "use strict";
  var bar = document.getElementById("import-progress");
  if (!bar) { return; }
  var inner = bar.querySelector(".progress-bar");
  inner.style.width = bar.getAttribute("aria-valuenow") + "%";
  if (!bar.dataset.reloadWhenDone) { return; }
  var rows = document.getElementById("import-rows");
  var status = document.getElementById("import-status");
  var drawn = bar.dataset.status;  // the status the server drew the page with
  // "%42" in Turkish, "42%" in English: the page's language decides where the sign goes.
  var share = new Intl.NumberFormat(document.documentElement.lang || undefined,
                                    {style: "percent", maximumFractionDigits: 0});

  function show(state) {
    bar.setAttribute("aria-valuenow", state.percent);
    inner.style.width = state.percent + "%";
    inner.textContent = share.format(state.percent / 100);
    if (rows) { rows.textContent = state.rows_read; }
    if (status) { status.textContent = state.status_label; }
  }

  function poll() {
    fetch(bar.dataset.statusUrl, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state === null) { window.setTimeout(poll, 3000); return; }
        show(state);
        var waiting = ["uploaded", "previewing", "queued", "running"];
        if (state.status !== drawn && waiting.indexOf(state.status) === -1) {
          window.location.reload();
        } else if (waiting.indexOf(state.status) !== -1) {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
}());
