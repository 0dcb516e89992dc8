// Voice previews without leaving the page: a button with data-preview="ID" posts its form in the
// background and shows the answer (reading and player) in the element ID, with a spinner and the seconds
// spent meanwhile. data-auto starts it when the page opens (the emergency confirmation). Without script
// the button posts the form and the page comes back with the preview.
(function () {
  "use strict";

  function progress(target) {
    var line = document.createElement("p");
    line.className = "progress";
    var spinner = document.createElement("span");
    spinner.className = "spinner";
    spinner.setAttribute("aria-hidden", "true");
    var label = document.createElement("span");
    label.textContent = "Đang tạo giọng đọc…";
    line.appendChild(spinner);
    line.appendChild(label);
    target.replaceChildren(line);
    return label;
  }

  function run(button) {
    var target = document.getElementById(button.getAttribute("data-preview"));
    if (!button.form || !target) { return; }
    var label = progress(target);
    var started = Date.now();
    var timer = window.setInterval(function () {
      label.textContent = "Đang tạo giọng đọc… " + Math.round((Date.now() - started) / 1000) + " giây";
    }, 500);
    button.disabled = true;
    target.setAttribute("aria-busy", "true");
    // A button without its own formaction reports the page's URL as formAction: use the form's action then.
    var url = button.hasAttribute("formaction") ? button.formAction : button.form.action;
    window.fetch(url, {
      method: "POST",
      body: new FormData(button.form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (answer) {
      return answer.text();
    }).then(function (html) {
      target.innerHTML = html;
    }).catch(function () {
      var failed = document.createElement("p");
      failed.className = "flash flash-error";
      failed.setAttribute("role", "alert");
      failed.textContent = "Không tạo được giọng đọc: mất kết nối tới máy chủ. Hãy thử lại.";
      target.replaceChildren(failed);
    }).finally(function () {
      window.clearInterval(timer);
      button.disabled = false;
      target.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-preview]");
    if (!button) { return; }
    event.preventDefault();
    run(button);
  });
  document.querySelectorAll("button[data-preview][data-auto]").forEach(run);
})();
