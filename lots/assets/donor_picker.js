// Donor picker of the harvest form: as a code is typed or scanned, ask the server which donors match
// (GET /lots/harvest/donors?q=) and offer them in the field's list; say next to the field whether the
// typed donor may be harvested and why not. Without JavaScript the field is a plain text field that
// the server checks. A scanner's Enter moves on to the next field instead of submitting the form.
(function () {
  const input = document.querySelector('input[data-picker="donor"]');
  if (!input) return;
  const list = document.getElementById("donor-options");
  const hint = document.getElementById("donor-hint");
  const url = input.form.dataset.donorSearch;
  let timer = null;
  let asked = "";

  // The sentences come from the server, in the reader's language (item.hint, data.none).
  function show(items, none) {
    list.replaceChildren();
    for (const item of items) {
      if (!item.usable) continue; // ineligible or look-back donors are not offered
      const option = document.createElement("option");
      option.value = item.code;
      option.label = item.code + " · " + item.note;
      list.appendChild(option);
    }
    const typed = input.value.replace(/\s+/g, "").toUpperCase();
    const exact = items.find((item) => item.code === typed);
    hint.textContent = exact ? exact.hint : typed && !items.length ? none || "" : "";
    hint.className = "form-text" + (exact && !exact.usable ? " text-danger" : "");
  }

  function ask() {
    const q = input.value.trim();
    if (!q || q === asked) return;
    asked = q;
    fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : { items: [] }))
      .then((data) => { if (asked === q) show(data.items || [], data.none); })
      .catch(() => {});
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 150); });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    ask();
    const fields = Array.from(input.form.elements).filter((el) => !el.disabled && el.type !== "hidden");
    const next = fields[fields.indexOf(input) + 1];
    if (next) next.focus();
  });
})();
