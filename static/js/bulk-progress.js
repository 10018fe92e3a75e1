// A background owner change's progress bar: poll the job's JSON until it has finished. The
// bar's width is set here from aria-valuenow, never by a style attribute (the
// Content-Security-Policy allows none).
(function () {
  "use strict";
  var bar = document.getElementById("bulk-progress");
  if (!bar) { return; }
  var fill = bar.querySelector(".progress-bar");
  var status = document.querySelector("[data-testid=bulk-status]");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  fill.style.width = bar.getAttribute("aria-valuenow") + "%";

  function show(progress) {
    bar.setAttribute("aria-valuenow", progress.percent);
    fill.style.width = progress.percent + "%";
    status.querySelector("[data-field=status_label]").textContent = progress.status_label;
    status.querySelector("[data-field=done]").textContent = numbers.format(progress.done);
    status.querySelector("[data-field=total]").textContent = numbers.format(progress.total);
  }

  function poll() {
    fetch(bar.dataset.url, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (progress === null) { return; }
        show(progress);
        if (!progress.finished) { window.setTimeout(poll, 500); }
      });
  }
  poll();
})();
