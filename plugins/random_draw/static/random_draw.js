/* The draw form: the region quota table shows only when 按地区配额 is chosen, with the rows given and one blank row
   (添加地区 shows the next); typing a count or a ratio chooses that way of drawing. Without this script every
   row shows and the form works the same. */
(function () {
  "use strict";
  var form = document.getElementById("draw-form");
  if (!form) { return; }
  var table = document.getElementById("quota-table");
  var add = document.getElementById("quota-add");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];

  function mode() {
    var checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "count";
  }
  function filled(row) {
    return row.querySelector("select").value !== "" || row.querySelector("input").value !== "";
  }
  function hiddenRows() { return rows.filter(function (row) { return row.hidden; }); }

  function showQuotas() {
    var on = mode() === "quota";
    table.hidden = !on;
    add.hidden = !on || hiddenRows().length === 0;
  }

  // the rows given and the first blank one; the others wait for 添加地区
  var blankShown = false;
  rows.forEach(function (row) {
    if (filled(row)) { return; }
    row.hidden = blankShown;
    blankShown = true;
  });
  add.addEventListener("click", function () {
    var next = hiddenRows()[0];
    if (next) {
      next.hidden = false;
      next.querySelector("select").focus();
    }
    showQuotas();
  });
  Array.prototype.forEach.call(form.querySelectorAll("input[name=mode]"), function (radio) {
    radio.addEventListener("change", showQuotas);
  });
  Array.prototype.forEach.call(form.querySelectorAll("[data-mode]"), function (box) {
    box.addEventListener("focus", function () {
      form.querySelector("input[name=mode][value=" + box.getAttribute("data-mode") + "]").checked = true;
      showQuotas();
    });
  });
  showQuotas();
})();
