/* The add and edit forms (date pickers: dates.js): the error summary's links, tabs that show a field in
   error, the warning before an idle session ends, and the form's values kept across a sign-in.
   Drafts: on submit the values go to sessionStorage with a mark of the session; when the form opens again in
   another session (the user signed in again after the idle timeout), they are put back and the user is told.
   Nothing is saved until the user presses Save. */
(function ($) {
  "use strict";
  var I18N = window.FORM_I18N || {};
  var DRAFT_PREFIX = "form-draft:";
  var DRAFT_MAX_AGE = 3600 * 1000;  // a draft older than an hour is stale, not a save cut short

  /* ---------------------------------------------------------- errors */
  function showField(id) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var pane = $(el).closest(".tab-pane");
    if (pane.length && !pane.hasClass("active")) {
      $(".form-tabs a[href='#" + pane.attr("id") + "']").tab("show");
    }
    // the box a person types in: a picker's visible box rather than its hidden value
    var group = $(el).closest(".form-group")[0] || el;
    var boxes = group.querySelectorAll(".tree-picker-path, .select2-selection, input, select, textarea");
    var target = el;
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].type !== "hidden" && boxes[i].offsetParent !== null) { target = boxes[i]; break; }
    }
    target.focus();
  }

  function initErrors(form) {
    var summary = $("#form-error-summary");
    form.find(".form-error-link").on("click", function (e) {
      e.preventDefault();
      showField(this.getAttribute("data-target"));
    });
    if (summary.length) { summary.trigger("focus"); }
  }

  /* ---------------------------------------------------------- session timeout */
  function initSession(form) {
    var idle = parseInt(form.data("idle-seconds"), 10);
    if (!idle) { return; }
    var warnAt = Math.max(idle - (parseInt(form.data("warn-seconds"), 10) || 120), 0) * 1000;
    var warning = $("#form-session-warning");
    var timer = null;
    var arm = function () {
      window.clearTimeout(timer);
      warning.prop("hidden", true);
      timer = window.setTimeout(function () { warning.prop("hidden", false); }, warnAt);
    };
    $("#form-session-stay").on("click", function () {
      $.get(form.data("ping-url")).always(arm);
    });
    arm();
  }

  /* ---------------------------------------------------------- drafts */
  function draftKey() { return DRAFT_PREFIX + window.location.pathname; }

  function readValues(form) {
    var values = [];
    form.find("input, select, textarea").each(function () {
      var el = this;
      if (!el.name || el.name === "csrf_token" || el.type === "file" || el.type === "submit") { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      if (el.tagName === "SELECT") {
        $(el).find("option:selected").each(function () {
          values.push({name: el.name, value: this.value, text: $(this).text()});
        });
        return;
      }
      var entry = {name: el.name, value: el.value};
      var picker = $(el).closest(".tree-picker");
      if (picker.length && el.type === "hidden") { entry.text = picker.find(".tree-picker-path").val(); }
      values.push(entry);
    });
    return values;
  }

  function writeValues(form, values) {
    var byName = {};
    $.each(values, function (_, v) { (byName[v.name] = byName[v.name] || []).push(v); });
    $.each(byName, function (name, entries) {
      var fields = form.find("[name='" + name.replace(/'/g, "\\'") + "']");
      if (!fields.length) { return; }
      var first = fields.first()[0];
      if (first.type === "checkbox" || first.type === "radio") {
        var wanted = $.map(entries, function (e) { return e.value; });
        fields.each(function () { this.checked = $.inArray(this.value, wanted) >= 0; });
      } else if (first.tagName === "SELECT") {
        var select = $(first);
        $.each(entries, function (_, e) {
          if (e.value !== "" && !select.find("option").filter(function () { return this.value === e.value; }).length) {
            $("<option>").val(e.value).text(e.text || e.value).appendTo(select);
          }
        });
        select.val(first.multiple ? $.map(entries, function (e) { return e.value; }) : entries[0].value).trigger("change");
      } else {
        var el = $(first);
        if (first._flatpickr) { first._flatpickr.setDate(entries[0].value, false); }
        el.val(entries[0].value);
        var picker = el.closest(".tree-picker");
        if (picker.length) { picker.find(".tree-picker-path").val(entries[0].text || ""); }
      }
    });
  }

  function initDrafts(form) {
    var epoch = form.attr("data-session-epoch") || "";  // attr: .data() would read "1e5…" as a number
    if (!epoch || !window.sessionStorage) { return; }
    var key = draftKey();
    var stored = null;
    try { stored = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { stored = null; }
    window.sessionStorage.removeItem(key);
    // the same session: the save was answered (errors or success); another session: the user signed in again
    if (stored && stored.epoch !== epoch && Date.now() - stored.at < DRAFT_MAX_AGE) {
      writeValues(form, stored.values);
      $("#form-restored").prop("hidden", false).insertBefore(form);
    }
    form.on("submit", function () {
      try {
        window.sessionStorage.setItem(key, JSON.stringify({epoch: epoch, at: Date.now(), values: readValues(form)}));
      } catch (e) { /* storage full or refused: the form is sent all the same */ }
    });
  }

  $(function () {
    var form = $("form.register-form").first();
    if (!form.length) { return; }
    initDrafts(form);
    initErrors(form);
    initSession(form);
  });
})(jQuery);
