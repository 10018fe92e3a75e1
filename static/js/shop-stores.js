// The store pages (shops): follow sync jobs' progress and copy the webhook address.
// A job's bar is a <progress> element: its value is an attribute, so no style attribute is
// needed (the Content-Security-Policy allows none). Each [data-job-progress] polls its JSON
// until the job has finished; the job's own page then reloads to show the outcome.
(function () {
  "use strict";
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function show(box, progress) {
    var bar = box.querySelector("progress");
    if (progress.percent === null) {
      bar.removeAttribute("value");  // indeterminate: the store did not say how many in all
    } else {
      bar.value = progress.percent;
      bar.textContent = progress.percent;
    }
    var fields = {status_label: progress.status_label,
                  orders_seen: numbers.format(progress.orders_seen),
                  total: progress.total === null ? "" : numbers.format(progress.total)};
    Object.keys(fields).forEach(function (name) {
      var field = box.querySelector("[data-field=" + name + "]");
      if (field) { field.textContent = fields[name]; }
    });
  }

  function follow(box) {
    function poll() {
      fetch(box.dataset.url, {credentials: "same-origin", cache: "no-store"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (progress) {
          if (progress === null) { window.setTimeout(poll, 5000); return; }
          show(box, progress);
          if (!progress.finished) {
            window.setTimeout(poll, 2000);
          } else if (box.dataset.reloadWhenDone) {
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    poll();
  }

  document.querySelectorAll("[data-job-progress]").forEach(function (box) {
    if (!box.dataset.finished) { follow(box); }
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value);
      } else {  // plain http (development): select it for Ctrl+C
        field.select();
      }
    });
  });
}());
