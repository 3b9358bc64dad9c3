// Serology panel (donors): flags a sample date outside the window as soon as it is typed. The bounds are
// rendered into the page (#window data-first/data-last); the server checks again on submit.
(function () {
  var w = document.getElementById("window");
  if (!w || !w.dataset.first) return;
  var first = w.dataset.first, last = w.dataset.last;
  document.querySelectorAll("input[data-sample]").forEach(function (input) {
    var warn = input.parentNode.querySelector("[data-window-warning]");
    function check() { var v = input.value; warn.hidden = !v || (v >= first && v <= last); }
    input.addEventListener("input", check);
    input.addEventListener("change", check);
    check();
  });
})();
