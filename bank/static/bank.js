/* The idle warning before the sign-out for inactivity, and the refill of a form kept across a sign-in
   (bank.keptforms). Plain JavaScript, served from the app (the CSP allows no inline script). */
(function () {
  "use strict";
  var body = document.body;

  function csrfToken() {
    // The page's token, as every form of the page carries it (the sign-out form in the top bar).
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function idleWarning() {
    var idle = parseInt(body.dataset.idleSeconds || "0", 10);
    if (!idle) return;
    var lead = parseInt(body.dataset.warningSeconds || "120", 10);
    var box = document.querySelector("[data-testid=idle-warning]");
    var left = box.querySelector("[data-idle-left]");
    var started = Date.now();
    var warnAt = Math.max(idle - lead, 0);

    function tick() {
      var elapsed = (Date.now() - started) / 1000;
      var remaining = Math.max(0, Math.round(idle - elapsed));
      if (elapsed < warnAt) {
        box.classList.add("d-none");
        return;
      }
      box.classList.remove("d-none");
      if (remaining > 0) {
        var m = Math.floor(remaining / 60), s = remaining % 60;
        left.textContent = m ? m + " min " + s + " s" : s + " s";
      } else {
        box.querySelector("[data-idle-text]").textContent =
          "You have been signed out for inactivity. What you send now is kept: sign in again to check it and submit.";
        box.querySelector("[data-stay-signed-in]").classList.add("d-none");
      }
    }

    box.querySelector("[data-stay-signed-in]").addEventListener("click", function () {
      fetch(body.dataset.keepAlive, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).then(function (r) {
        if (r.ok && r.headers.get("Content-Type").indexOf("json") >= 0) {
          started = Date.now();
          tick();
        } else {
          window.location.reload();
        }
      });
    });
    setInterval(tick, 1000);
    tick();
  }

  function samePath(form, action) {
    var target = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    return target.pathname === action;
  }

  function refill() {
    var data = document.getElementById("kept-form");
    if (!data) return;
    var kept = JSON.parse(data.textContent);
    var forms = Array.prototype.filter.call(document.forms, function (f) {
      return (f.method || "").toLowerCase() === "post" && samePath(f, kept.action);
    });
    if (!forms.length) return;
    var form = forms[0], used = {};
    kept.fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      var els = Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
      if (!els.length) return;
      var first = els[0];
      if (first.type === "checkbox" || first.type === "radio") {
        els.forEach(function (el) { if (el.value === value) el.checked = true; });
      } else if (first.tagName === "SELECT" && first.multiple) {
        Array.prototype.forEach.call(first.options, function (o) { if (o.value === value) o.selected = true; });
      } else {
        var i = used[name] || 0;
        if (els[i]) els[i].value = value;
        used[name] = i + 1;
      }
    });
    form.setAttribute("data-kept-form-restored", "");
  }

  idleWarning();
  refill();
})();
