// Uploads with a progress bar: a form with data-upload sends itself in the background when a file is
// attached, fills the <progress> named by data-upload, then opens the page the server answered with.
// Without a file, or without script, the form posts as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      var bar = document.getElementById(form.getAttribute("data-upload"));
      var submitter = event.submitter;
      var action = (submitter && submitter.formAction) || form.action;
      if (!bar || !file || !file.files.length || action !== form.action) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) { bar.value = Math.round(progress.loaded / progress.total * 100); }
      });
      request.addEventListener("load", function () {
        if (request.responseURL && request.responseURL !== form.action) {
          window.location.assign(request.responseURL);
          return;
        }
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () {
        bar.hidden = true;
        window.alert("Không gửi được tệp: mất kết nối tới máy chủ. Hãy thử lại.");
      });
      request.send(new FormData(form));
    });
  });
})();
