/* Behaviour of the generated register screens: tree cascaders, reference pickers, child rows, confirms.
   Plain jQuery + select2 as shipped with Flask-AppBuilder; nothing is loaded from the internet. */
(function ($) {
  "use strict";
  var I18N = window.APP_I18N || {};

  function select2Language() {
    return {
      searching: function () { return I18N.searching || "Searching…"; },
      noResults: function () { return I18N.noResults || "No results found"; },
      errorLoading: function () { return I18N.errorLoading || "The results could not be loaded."; },
      inputTooShort: function () { return I18N.typeMore || "Type more"; },
      loadingMore: function () { return I18N.loadingMore || "Loading more results…"; }
    };
  }

  /* ---------------------------------------------------------- tree cascader */
  function Cascader(root) {
    this.root = $(root);
    this.url = this.root.data("url");
    this.leafOnly = String(this.root.data("leaf-only")) === "1";
    this.placeholder = this.root.data("placeholder") || "";
    this.input = this.root.find("input[type=hidden]").first();
    this.holder = this.root.find(".tree-cascader-selects");
    var path = this.root.data("path") || [];
    if (typeof path === "string") { try { path = JSON.parse(path); } catch (e) { path = []; } }
    this.start(path);
  }

  Cascader.prototype.fetch = function (parent) {
    return $.getJSON(this.url, parent ? {parent: parent} : {});
  };

  Cascader.prototype.addLevel = function (parent, items, selected) {
    var self = this;
    var level = this.holder.children("select").length;
    var select = $('<select class="form-control input-sm tree-level"></select>')
      .attr("data-level", level).attr("aria-label", this.placeholder);
    select.append($("<option>").val("").text(this.placeholder));
    $.each(items, function (_, item) {
      $("<option>").val(item.code).text(item.label).attr("data-leaf", item.leaf ? "1" : "0")
        .prop("selected", item.code === selected).appendTo(select);
    });
    select.data("parent", parent || "");
    select.on("change", function () { self.changed($(this)); });
    this.holder.append(select);
    return select;
  };

  Cascader.prototype.changed = function (select) {
    var self = this;
    select.nextAll("select").remove();
    var code = select.val();
    var value = code || select.data("parent") || "";
    this.input.val(value).trigger("change");
    var leaf = select.find("option:selected").attr("data-leaf") === "1";
    if (code && !leaf) {
      this.fetch(code).done(function (data) {
        if (data.items && data.items.length) { self.addLevel(code, data.items, null); }
      });
    }
  };

  Cascader.prototype.start = function (path) {
    var self = this;
    var codes = $.map(path, function (p) { return p.code; });
    var step = function (parent, index) {
      self.fetch(parent).done(function (data) {
        if (!data.items || !data.items.length) { return; }
        var selected = codes[index] || null;
        self.addLevel(parent, data.items, selected);
        if (selected) {
          var item = $.grep(data.items, function (i) { return i.code === selected; })[0];
          if (item && !item.leaf) { step(selected, index + 1); }
        }
      });
    };
    step(null, 0);
  };

  /* ---------------------------------------------------------- reference picker */
  function initReference(el) {
    var $el = $(el);
    if ($el.data("select2")) { return; }
    $el.select2({
      width: "100%",
      allowClear: String($el.data("allow-clear")) === "1",
      placeholder: $el.data("placeholder") || "",
      language: select2Language(),
      ajax: {
        url: $el.data("url"),
        dataType: "json",
        delay: 250,
        data: function (params) { return {q: params.term || ""}; },
        processResults: function (data) { return {results: data.results || []}; }
      }
    });
  }

  /* ---------------------------------------------------------- child rows */
  function initChildTable(el) {
    var $table = $(el);
    $table.on("click", ".child-add", function () {
      var next = parseInt($table.attr("data-next"), 10) || 0;
      var html = $table.find("template").html().replace(/__index__/g, String(next));
      var row = $(html);
      $table.find("tbody").append(row);
      $table.attr("data-next", next + 1);
      initWithin(row);
    });
    $table.on("click", ".child-remove", function () { $(this).closest("tr").remove(); });
  }

  function initWithin(scope) {
    $(scope).find(".tree-cascader").each(function () { if (!$(this).data("cascader")) { $(this).data("cascader", new Cascader(this)); } });
    $(scope).find(".reference-select").each(function () { initReference(this); });
    $(scope).find("select.enum-filter[multiple]").each(function () {
      if (!$(this).data("select2")) { $(this).select2({width: "100%", language: select2Language()}); }
    });
  }

  /* ---------------------------------------------------------- job progress (imports, exports) */
  function followJob(el) {
    var $job = $(el);
    var status = $job.find("#job-status").data("status");
    if (status === "done" || status === "failed") { return; }
    var poll = function () {
      $.getJSON($job.data("status-url")).done(function (job) {
        var width = job.total ? Math.round(100 * job.done / job.total) : 5;
        $job.find(".progress-bar").css("width", Math.max(5, Math.min(width, 100)) + "%");
        $job.find("#job-count").text(job.done + (job.total ? " / " + job.total : ""));
        if (job.status === "done" || job.status === "failed") { window.location.reload(); }
        else { window.setTimeout(poll, 1000); }
      }).fail(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 800);
  }

  $(function () {
    initWithin(document);
    $(".register-job").each(function () { followJob(this); });
    $(document).on("change", "#select-all", function () { $(".row-select").prop("checked", this.checked); });
    $(document).on("click", "#export-selected", function (e) {
      e.preventDefault();
      var ids = $(".row-select:checked").map(function () { return "ids=" + this.value; }).get();
      if (!ids.length) { window.alert(I18N.tickFirst || "Tick the rows first."); return; }
      window.location = $(this).data("base") + "&" + ids.join("&");
    });
    $(".child-table").each(function () { initChildTable(this); });
    $(document).on("submit", "form.delete-form", function (e) {
      if (!window.confirm($(this).data("confirm"))) { e.preventDefault(); }
    });
  });

  window.SafetyUI = {Cascader: Cascader, initWithin: initWithin};
})(jQuery);
