// The import page's drop zone: files dropped on it become the file input's files, and their names show.
(function () {
  "use strict";
  function names(input, out) {
    out.textContent = Array.from(input.files).map(function (file) { return file.name; }).join(", ");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      var input = zone.querySelector("[data-dropzone-input]");
      var out = zone.querySelector("[data-dropzone-files]");
      input.addEventListener("change", function () { names(input, out); });
      ["dragenter", "dragover"].forEach(function (type) {
        zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dropzone--over"); });
      });
      ["dragleave", "drop"].forEach(function (type) {
        zone.addEventListener(type, function () { zone.classList.remove("dropzone--over"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files.length) {
          input.files = event.dataTransfer.files;
          names(input, out);
        }
      });
    });
    // After an upload, clear the form for the next one and drop the "no imports yet" line.
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var form = event.detail.elt;
      if (form.classList && form.classList.contains("import-form") && event.detail.successful) {
        form.reset();
        form.querySelectorAll("[data-dropzone-files]").forEach(function (out) { out.textContent = ""; });
        var empty = document.querySelector("[data-no-imports]");
        if (empty) { empty.remove(); }
      }
    });
  });
})();
