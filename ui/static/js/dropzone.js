// Upload forms: a file dragged from the desktop and dropped on a drop zone ([data-drop-zone], ui/_drop_zone.html)
// fills the zone's own <input type=file>, which stays as it is for the keyboard and for pages without this
// script; the form is then submitted as if the file had been chosen.  The chosen file's name is shown and
// announced (aria-live).  The hint "or drag and drop a file here" is shown only once this script runs.
(function () {
  "use strict";

  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input) { return; }
    var hint = zone.querySelector("[data-drop-hint]");
    var shown = zone.querySelector("[data-drop-name]");
    if (hint) { hint.hidden = false; }

    function showName() {
      if (!shown) { return; }
      var file = input.files && input.files[0];
      shown.textContent = file ? (shown.getAttribute("data-label") || "") + " " + file.name : "";
    }

    function over(event) {
      if (!carriesFiles(event)) { return; }
      event.preventDefault();  // without it the browser opens the file instead of dropping it here
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("drop-zone-over");
    }

    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) { zone.classList.remove("drop-zone-over"); }
    });
    zone.addEventListener("drop", function (event) {
      zone.classList.remove("drop-zone-over");
      if (!carriesFiles(event) || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      // The input takes one file: the first of those dropped.
      var chosen = new DataTransfer();
      chosen.items.add(event.dataTransfer.files[0]);
      input.files = chosen.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", showName);
    showName();
  }

  document.querySelectorAll("[data-drop-zone]").forEach(setUp);
})();
