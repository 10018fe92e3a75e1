// The contact list's bulk bar: tick rows or the whole page, see how many are ticked, and show
// only the fields of the chosen action. Without JavaScript every field shows and the form
// still posts; the server decides what the selection is either way.
(function () {
  "use strict";
  var results = document.getElementById("contact-results");
  if (!results) { return; }

  function rows() { return results.querySelectorAll("[data-bulk-row]"); }

  function update() {
    var ticked = 0;
    rows().forEach(function (box) { if (box.checked) { ticked += 1; } });
    var count = results.querySelector("[data-bulk-count]");
    if (count) { count.textContent = ticked; }
    var page = results.querySelector("[data-bulk-page]");
    if (page) {
      page.checked = ticked > 0 && ticked === rows().length;
      page.indeterminate = ticked > 0 && ticked < rows().length;
    }
  }

  function showFields() {
    var action = results.querySelector("#bulk-action");
    if (!action) { return; }
    results.querySelectorAll("[data-bulk-for]").forEach(function (part) {
      // A class, not the hidden attribute: Bootstrap's d-inline-flex would override that.
      part.classList.toggle("d-none", part.dataset.bulkFor.split(" ").indexOf(action.value) < 0);
    });
  }

  results.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-bulk-page]")) {
      rows().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-bulk-page], [data-bulk-row]")) {
      var page = results.querySelector("#bulk-scope-page");
      if (page) { page.checked = true; }
      update();
    }
    if (target.id === "bulk-action") { showFields(); }
  });
  // Search as you type swaps the results (and with them the bar) in: set the new bar up.
  new MutationObserver(function () { showFields(); update(); })
    .observe(results, {childList: true});
  showFields();
  update();
})();
