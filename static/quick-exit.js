// Quick exit: leave for a neutral site and replace this page in the history (Back won't return).
// Works as a plain link without JavaScript; with it, Esc pressed twice does the same.
(function () {
  "use strict";
  function leave(url) {
    document.body.style.display = "none";
    window.location.replace(url);
  }
  var link = document.querySelector("[data-quick-exit]");
  if (!link) return;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    leave(link.href);
  });
  var lastEsc = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEsc < 1500) leave(link.href);
    lastEsc = now;
  });
})();
