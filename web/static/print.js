// The report's "In báo cáo" button opens the browser's print dialog (the page has print CSS).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
