// The embedded UI's small enhancements; every page also works without them.
(function () {
  "use strict";
  var body = document.body;
  var token = body.getAttribute("data-launch-token") || "";
  var csrf = body.getAttribute("data-csrf") || "";

  function getJSON(url) {
    return fetch(url, { headers: { "X-Launch-Token": token, "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); });
  }

  // A Bootstrap progress bar's width follows its aria-valuenow (the CSP forbids style attributes in the HTML;
  // setting the width from script is allowed).
  function setProgress(bar, percent) {
    bar.setAttribute("aria-valuenow", percent);
    var fill = bar.querySelector(".progress-bar");
    if (fill) { fill.style.width = percent + "%"; fill.textContent = percent + "%"; }
  }

  // Tables with .table-stack become one block per row on narrow screens (ui.css): each cell is labelled with
  // its column's header, unless the template gave it a data-label of its own.
  function labelCells(root) {
    root.querySelectorAll("table.table-stack").forEach(function (table) {
      var heads = [];
      table.querySelectorAll("thead th").forEach(function (th) {
        var text = th.getAttribute("data-label");
        if (text === null) { text = th.textContent.trim(); }
        for (var i = 0; i < th.colSpan; i++) { heads.push(text); }
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && heads[col]) { cell.setAttribute("data-label", heads[col]); }
          col += cell.colSpan;
        });
      });
    });
    root.querySelectorAll('[role="progressbar"][aria-valuenow]').forEach(function (bar) {
      setProgress(bar, bar.getAttribute("aria-valuenow"));
    });
  }
  labelCells(document);
  // htmx requests carry the launch token (when the browser keeps no cookie) and the CSRF token, like our fetches.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) { event.detail.headers["X-Launch-Token"] = token; }
    event.detail.headers["X-CSRF-Token"] = csrf;
  });
  document.body.addEventListener("htmx:load", function (event) { labelCells(event.target); });

  // The upload form: the group fields only for a kind of file that goes into one group.
  var groupFields = document.getElementById("group-fields");
  if (groupFields) {
    var uploadKinds = document.querySelectorAll('input[name="kind"]');
    var showGroup = function () {
      var checked = document.querySelector('input[name="kind"]:checked');
      groupFields.hidden = !checked || checked.getAttribute("data-into-group") !== "1";
    };
    uploadKinds.forEach(function (k) { k.addEventListener("change", showGroup); });
    showGroup();
  }

  // Select all members on the page.
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="user_ids"]').forEach(function (box) { box.checked = all.checked; });
    });
  }

  // Show only the parameters of the chosen batch action.
  var action = document.getElementById("action");
  function showParams() {
    document.querySelectorAll(".params [data-for]").forEach(function (label) {
      label.hidden = label.getAttribute("data-for") !== action.value;
    });
  }
  if (action) { action.addEventListener("change", showParams); showParams(); }

  // Pickers (ui/templates/ui/_picker.html): htmx fetches the suggestions as the person types; here the keyboard
  // (arrow keys, Enter, Escape), the choice itself (the id into the hidden field, or a chip for several) and the
  // announcements. Without this, the typed name is sent and resolved on the server.
  function initPicker(box) {
    if (box.getAttribute("data-ready")) { return; }
    box.setAttribute("data-ready", "1");
    var input = box.querySelector('[role="combobox"]'), list = box.querySelector('[role="listbox"]');
    var hidden = box.querySelector("input[data-picked]"), status = box.querySelector("[data-picker-status]");
    var chosen = box.querySelector(".picker-chosen"), active = -1;
    function say(key, values) {
      var text = box.getAttribute(key) || "";
      Object.keys(values).forEach(function (k) { text = text.replace("{" + k + "}", values[k]); });
      return text;
    }
    function options() { return list.querySelectorAll('[role="option"]'); }
    function open(show) {
      list.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) { highlight(-1); }
    }
    function highlight(n) {
      var all = options();
      active = all.length ? Math.max(-1, Math.min(n, all.length - 1)) : -1;
      Array.prototype.forEach.call(all, function (o, i) { o.setAttribute("aria-selected", i === active ? "true" : "false"); });
      if (active >= 0) {
        list.setAttribute("data-active", all[active].getAttribute("data-value"));
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else { input.removeAttribute("aria-activedescendant"); }
    }
    function addChip(id, name) {
      if (chosen.querySelector('input[value="' + id + '"]')) { return; }
      var li = document.createElement("li"), badge = document.createElement("span");
      var field = document.createElement("input"), remove = document.createElement("button");
      badge.className = "badge text-bg-light border d-inline-flex align-items-center gap-1";
      badge.textContent = name;
      field.type = "hidden"; field.name = box.getAttribute("data-name"); field.value = id;
      remove.type = "button"; remove.className = "btn-close btn-sm";
      remove.setAttribute("aria-label", say("data-remove", { name: name }));
      remove.addEventListener("click", function () { li.remove(); input.focus(); });
      badge.appendChild(remove); li.appendChild(badge); li.appendChild(field); chosen.appendChild(li);
    }
    function pick(option) {
      var id = option.getAttribute("data-value"), name = option.getAttribute("data-name");
      if (chosen) { addChip(id, name); input.value = ""; } else { hidden.value = id; input.value = name; }
      open(false);
      status.textContent = say("data-chosen", { name: name });
    }
    input.addEventListener("input", function () { if (hidden) { hidden.value = ""; } });
    input.addEventListener("keydown", function (event) {
      var count = options().length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) { return; }
        event.preventDefault();
        if (list.hidden) { open(true); }
        highlight(event.key === "ArrowDown" ? (active + 1) % count : (active <= 0 ? count : active) - 1);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        pick(options()[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        open(false);
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { open(false); }, 150); });
    list.addEventListener("mousedown", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) { event.preventDefault(); pick(option); }
    });
    box.addEventListener("htmx:afterSwap", function () {
      var count = options().length, was = active >= 0 ? list.getAttribute("data-active") : null;
      var again = -1;  // the option chosen with the arrows stays chosen when the same one comes back
      Array.prototype.forEach.call(options(), function (o, i) { if (o.getAttribute("data-value") === was) { again = i; } });
      highlight(again);
      open(count > 0 && document.activeElement === input);
      status.textContent = count === 0 ? say("data-none", {}) : count === 1 ? say("data-one", {}) : say("data-many", { n: count });
    });
  }
  document.querySelectorAll("[data-picker]").forEach(initPicker);
  document.body.addEventListener("htmx:load", function (event) {
    if (event.target.querySelectorAll) { event.target.querySelectorAll("[data-picker]").forEach(initPicker); }
  });

  // An automatic notification's language card (ui/templates/ui/_notification_language.html), swapped in by htmx
  // after Preview: focus moves to the first field refused, else to the preview, where the button's answer is.
  document.body.addEventListener("htmx:load", function (event) {
    var card = event.target;
    if (!card.classList || !card.classList.contains("notification-language")) { return; }
    var target = card.querySelector('[aria-invalid="true"]') || card.querySelector(".notification-preview");
    if (target) { target.focus(); }
  });

  // The rule editor: hidden for a manual group; in text mode, a live count and sample as the rule is typed
  // (the builder's rows update through htmx instead). The sentences come translated from data attributes.
  var editor = document.getElementById("rule-editor");
  if (editor) {
    var timer;
    var kinds = document.querySelectorAll('input[name="kind"]');
    function toggle() {
      var checked = document.querySelector('input[name="kind"]:checked');
      editor.hidden = checked !== null && checked.value !== "automatic";
    }
    kinds.forEach(function (k) { k.addEventListener("change", toggle); });
    toggle();
    function counted(n) {
      var text = editor.getAttribute(n === 1 ? "data-one" : "data-many") || "{n}";
      return text.replace("{n}", n);
    }
    document.addEventListener("input", function (event) {
      var rule = event.target;
      if (!rule || rule.id !== "rule") { return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        var out = document.getElementById("rule-preview"), sample = document.getElementById("rule-sample");
        getJSON(editor.getAttribute("data-preview-url") + "?rule=" + encodeURIComponent(rule.value)).then(function (data) {
          sample.textContent = "";
          if (data.error) {
            out.className = "form-text text-danger";
            out.textContent = data.error;
            if (data.position !== null && data.position !== undefined) {  // 0-based, as the rule parser counts
              var end = rule.value.slice(data.position).search(/\s|$/);
              rule.setSelectionRange(data.position, data.position + Math.max(end, 1));
            }
          } else if (data.count !== null) {
            out.className = "form-text";
            out.textContent = counted(data.count);
            data.sample.forEach(function (u) {
              var li = document.createElement("li");
              li.textContent = (u.name ? u.name + " " : "") + (u.email ? "<" + u.email + ">" : "");
              sample.appendChild(li);
            });
          } else { out.textContent = ""; }
        });
      }, 300);
    });
  }

})();
