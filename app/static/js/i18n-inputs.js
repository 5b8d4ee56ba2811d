/* File inputs in the app's language, not the browser's.
 *
 * A browser labels <input type="file"> itself ("Choose Files", "No file chosen") in its own language, whatever
 * language the user chose in the app. Each file input is kept (forms, `required` and keyboard focus work as
 * before) but made invisible, and a button and a file-name line in the app's language are shown beside it.
 * The texts come from the catalogue through the data-* attributes of this script's tag
 * (app/templates/i18n/inputs.html). Inputs added later (a child table's new row) are handled too.
 */
(function () {
  "use strict";
  if (window.__i18nInputs) { return; }  // included twice: once is enough
  window.__i18nInputs = true;
  var script = document.currentScript;
  var text = (script && script.dataset) || {};
  var counter = 0;

  function hide(input) {
    var s = input.style;
    s.position = "absolute"; s.width = "1px"; s.height = "1px"; s.opacity = "0"; s.overflow = "hidden";
    s.clip = "rect(0 0 0 0)"; s.margin = "0"; s.padding = "0"; s.border = "0";
  }

  function describe(input, name) {
    var files = input.files || [];
    if (!files.length) {
      name.textContent = text.none || "";
    } else if (files.length === 1) {
      name.textContent = files[0].name;
    } else {
      name.textContent = (text.many || "{n}").replace("{n}", files.length);
    }
    name.title = Array.prototype.map.call(files, function (f) { return f.name; }).join("\n");
  }

  function enhance(input) {
    if (input.dataset.i18nInput || input.dataset.i18nSkip !== undefined) { return; }
    input.dataset.i18nInput = "1";
    if (!input.id) { counter += 1; input.id = "i18n-file-" + counter; }
    var wrap = document.createElement("span");
    wrap.className = "i18n-file";
    wrap.style.position = "relative";
    wrap.style.display = "inline-block";
    var button = document.createElement("label");
    button.className = "btn btn-default btn-sm i18n-file-button";
    button.htmlFor = input.id;
    button.style.marginBottom = "0";
    button.innerHTML = '<i class="fa fa-folder-open-o"></i> ';
    button.appendChild(document.createTextNode(input.multiple ? (text.chooseMany || "") : (text.choose || "")));
    var name = document.createElement("span");
    name.className = "i18n-file-name text-muted";
    name.style.marginLeft = "0.5em";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
    wrap.appendChild(name);
    hide(input);
    describe(input, name);
    input.addEventListener("change", function () { describe(input, name); });
    input.addEventListener("focus", function () { button.classList.add("focus"); });
    input.addEventListener("blur", function () { button.classList.remove("focus"); });
    if (input.form) {
      input.form.addEventListener("reset", function () { setTimeout(function () { describe(input, name); }, 0); });
    }
  }

  function scan(root) {
    if (root.matches && root.matches('input[type="file"]')) { enhance(root); return; }
    if (root.querySelectorAll) {
      Array.prototype.forEach.call(root.querySelectorAll('input[type="file"]'), enhance);
    }
  }

  function start() {
    scan(document);
    if (window.MutationObserver) {
      new MutationObserver(function (changes) {
        changes.forEach(function (change) { Array.prototype.forEach.call(change.addedNodes, scan); });
      }).observe(document.body, {childList: true, subtree: true});
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
