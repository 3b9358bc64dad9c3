/* The idle warning before the sign-out for inactivity, the refill of a form kept across a sign-in
   (bank.keptforms), the menu button at phone width and tables scrolling inside their box. Plain
   JavaScript, served from the app (the CSP allows no inline script). */
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
        // The sentence comes from the page, in the reader's language.
        box.querySelector("[data-idle-text]").textContent = box.dataset.signedOutText;
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

  function menuButton() {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) return;
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", function () {
      var open = menu.classList.toggle("show");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function scrollingTables() {
    // A wide table scrolls inside its own box instead of making the whole page twice the screen's width;
    // the box takes the keyboard focus only when it actually scrolls, so it can be scrolled with the arrows.
    var boxes = [];
    Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
      if (table.parentElement.classList.contains("table-scroll")) return;
      var box = document.createElement("div");
      box.className = "table-scroll";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
      boxes.push(box);
    });
    function focusable() {
      boxes.forEach(function (box) {
        if (box.scrollWidth > box.clientWidth + 1) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("role", "region");
          var named = box.querySelector("caption") || document.querySelector("main h1");
          box.setAttribute("aria-label", named ? named.textContent.trim() : document.title);
        } else {
          box.removeAttribute("tabindex");
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
        }
      });
    }
    focusable();
    window.addEventListener("resize", focusable);
  }

  idleWarning();
  refill();
  menuButton();
  scrollingTables();
})();
