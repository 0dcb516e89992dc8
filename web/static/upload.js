// Uploads with a progress bar: a form with data-upload sends itself in the background when a file is
// attached, fills the <progress> named by data-upload, then shows the page the server answered with.
// Without a file, or without script, the form posts as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      var bar = document.getElementById(form.getAttribute("data-upload"));
      // Only the form's own submit: a button with its own formaction (the preview) posts as usual.
      var submitter = event.submitter;
      var own = !submitter || !submitter.hasAttribute("formaction");
      if (!bar || !file || !file.files.length || !own) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) { bar.value = Math.round(progress.loaded / progress.total * 100); }
      });
      request.addEventListener("load", function () {
        // Show the page the server answered with (after its redirect, which already used the one-time
        // message), under that page's address.
        var address = request.responseURL;
        document.open();
        document.write(request.responseText);
        document.close();
        if (address && address !== window.location.href) { window.history.replaceState(null, "", address); }
      });
      request.addEventListener("error", function () {
        bar.hidden = true;
        window.alert("Không gửi được tệp: mất kết nối tới máy chủ. Hãy thử lại.");
      });
      request.send(new FormData(form));
    });
  });
})();
