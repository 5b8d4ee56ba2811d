/* Behaviour of the generated register screens: tree pickers, reference pickers, child rows, confirms.
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

  /* ---------------------------------------------------------- tree picker (forms, list filters) */
  /* Opens at the actor's jurisdiction (data-root: the path down to it), browses down, searches by typing
     Chinese, pinyin or its initials, and shows the whole path of the choice. */
  function TreePicker(root) {
    var self = this;
    this.root = $(root);
    this.input = this.root.find("input[type=hidden]").first();
    this.path = this.root.find(".tree-picker-path");
    this.panel = this.root.find(".tree-picker-panel");
    this.search = this.root.find(".tree-picker-search");
    this.crumbs = this.root.find(".tree-picker-crumbs");
    this.list = this.root.find(".tree-picker-list");
    this.leafOnly = String(this.root.data("leaf-only")) === "1";
    // levels / min_level / max_level: the levels an item may be chosen at (1 = the top)
    this.levels = this.root.data("levels") || null;
    var start = this.root.data("root") || [];
    if (typeof start === "string") { try { start = JSON.parse(start); } catch (e) { start = []; } }
    this.start = start;
    this.trail = start.slice();
    this.path.on("click keydown", function (e) {
      if (e.type === "keydown" && e.key !== "Enter" && e.key !== "ArrowDown" && e.key !== " ") { return; }
      e.preventDefault();
      self.toggle(true);
    });
    this.root.find(".tree-picker-clear").on("click", function () { self.choose("", ""); });
    var timer = null;
    this.search.on("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { self.find(self.search.val()); }, 250);
    });
    this.search.on("keydown", function (e) { if (e.key === "Escape") { self.toggle(false); self.path.focus(); } });
    $(document).on("mousedown", function (e) {
      if (!self.panel.prop("hidden") && !$.contains(self.root[0], e.target)) { self.toggle(false); }
    });
  }

  TreePicker.prototype.toggle = function (open) {
    this.panel.prop("hidden", !open);
    if (open) {
      this.search.val("");
      this.browse(this.trail);
      this.search.focus();
    }
  };

  TreePicker.prototype.browse = function (trail) {
    var self = this;
    this.trail = trail;
    var parent = trail.length ? trail[trail.length - 1].code : null;
    this.crumbs.empty().prop("hidden", !trail.length);
    if (!this.start.length && trail.length) {
      $("<li>").append($("<a href='#'><i class='fa fa-home'></i></a>").on("click", function (e) { e.preventDefault(); self.browse([]); }))
        .appendTo(this.crumbs);
    }
    $.each(trail, function (i, node) {
      var li = $("<li>");
      // the jurisdiction's own ancestors are shown, not opened: the picker stays inside the jurisdiction
      if (i >= self.start.length - 1 && i < trail.length - 1) {
        $("<a href='#'>").text(node.label).on("click", function (e) { e.preventDefault(); self.browse(trail.slice(0, i + 1)); }).appendTo(li);
      } else { li.text(node.label); }
      li.appendTo(self.crumbs);
    });
    if (parent && !this.leafOnly && this.allowed(trail[trail.length - 1])) {
      $("<li>").append($("<a href='#' class='tree-picker-level'>").text((FI().chooseLevel || "Choose") + " " + trail[trail.length - 1].label)
        .on("click", function (e) { e.preventDefault(); self.choose(parent, self.label(trail)); })).appendTo(this.crumbs);
    }
    $.getJSON(this.root.data("children-url"), parent ? {parent: parent} : {}).done(function (data) {
      self.show($.map(data.items || [], function (item) {
        return {code: item.code, label: item.label, leaf: item.leaf, depth: item.depth,
                trail: trail.concat([{code: item.code, label: item.label, depth: item.depth}])};
      }));
    });
  };

  TreePicker.prototype.find = function (text) {
    var self = this;
    text = $.trim(text);
    if (!text) { this.browse(this.trail); return; }
    $.getJSON(this.root.data("search-url"), {q: text}).done(function (data) {
      if ($.trim(self.search.val()) !== text) { return; }
      self.crumbs.empty().prop("hidden", true);
      self.show($.map(data.items || [], function (item) {
        return {code: item.code, label: item.label, leaf: item.leaf, depth: item.depth, path: item.label};
      }));
    });
  };

  TreePicker.prototype.show = function (items) {
    var self = this;
    this.list.empty();
    if (!items.length) { $("<li class='tree-picker-empty'>").text(FI().nothing || "-").appendTo(this.list); }
    $.each(items, function (_, item) {
      var li = $("<li>").attr("data-code", item.code);
      $("<a class='tree-picker-choose' tabindex='0'>").text(item.label).on("click keydown", function (e) {
        if (e.type === "keydown" && e.key !== "Enter") { return; }
        e.preventDefault();
        if ((self.leafOnly && !item.leaf) || !self.allowed(item)) {
          if (self.openable(item)) { self.open(item); }
          return;
        }
        self.choose(item.code, item.path || self.label(item.trail));
      }).appendTo(li);
      if (!self.allowed(item) || (self.leafOnly && !item.leaf)) { li.addClass("tree-picker-passing"); }
      if (self.openable(item)) {
        $("<button type='button' class='btn btn-link btn-xs tree-picker-open'>").text((FI().drill || "") + " ›")
          .on("click", function () { self.open(item); }).appendTo(li);
      }
      li.appendTo(self.list);
    });
  };

  TreePicker.prototype.allowed = function (item) {
    if (!this.levels || !item || item.depth === undefined) { return true; }
    return this.levels.indexOf(item.depth) >= 0;
  };

  TreePicker.prototype.openable = function (item) {
    if (item.leaf) { return false; }
    return !this.levels || item.depth === undefined || item.depth < Math.max.apply(null, this.levels);
  };

  TreePicker.prototype.open = function (item) {
    this.search.val("");
    if (item.trail) { this.browse(item.trail); return; }
    // a search result: its levels below the jurisdiction become one step of the trail
    var trail = this.start.slice();
    var extra = item.path.split(" / ").slice(trail.length);
    if (extra.length) { trail.push({code: item.code, label: extra.join(" / ")}); }
    this.browse(trail);
  };

  TreePicker.prototype.label = function (trail) {
    return $.map(trail, function (n) { return n.label; }).join(" / ");
  };

  TreePicker.prototype.choose = function (code, label) {
    this.input.val(code).trigger("change");
    this.path.val(label).attr("title", label);
    this.toggle(false);
    this.path.focus();
  };

  // the tree picker's texts: the layout's APP_I18N (list filters and forms alike)
  function FI() { return I18N; }

  /* ---------------------------------------------------------- reference picker */
  function initReference(el) {
    var $el = $(el);
    if ($el.data("select2")) { return; }
    $el.select2({
      width: "100%",
      allowClear: String($el.data("allow-clear")) === "1",
      placeholder: $el.data("placeholder") || "",
      language: select2Language(),
      templateResult: function (item) {
        if (!item.id || !item.detail) { return item.text; }
        return $("<span>").text(item.text).append($("<span class='reference-detail'>").text(item.detail));
      },
      ajax: {
        url: $el.data("url"),
        dataType: "json",
        delay: 250,
        data: function (params) {
          var args = {q: params.term || ""};
          // match: only rows that agree with this form's current values (a plan's checklists of its enterprise)
          var match = $el.data("match"), $form = $el.closest("form");
          if (match) {
            $.each(match, function (theirs, input) {
              var value = $form.find("[name='" + input + "']").val();
              if (value) { args["m." + theirs] = value; }
            });
          }
          return args;
        },
        processResults: function (data) { return {results: data.results || []}; }
      }
    });
  }

  /* ---------------------------------------------------------- child rows */
  function initChildTable(el) {
    var $table = $(el);
    var addRow = function () {
      var next = parseInt($table.attr("data-next"), 10) || 0;
      var html = $table.find("template").html().replace(/__index__/g, String(next));
      var row = $(html);
      $table.find("tbody").append(row);
      $table.attr("data-next", next + 1);
      initWithin(row);
      return {row: row, name: $table.data("prefix") + "-" + next + "-"};
    };
    /* items done / total: rows whose counted field (data-progress, e.g. the result) is filled in */
    var progress = $table.data("progress");
    var count = function () {
      if (!progress) { return; }
      var rows = $table.find("tbody tr.child-row");
      var done = rows.filter(function () {
        var input = $(this).find("[name$='-" + progress + "']");
        return input.length && input.val() !== null && input.val() !== "";
      }).length;
      $table.find(".child-done").text(done);
      $table.find(".child-total").text(rows.length);
    };
    $table.on("click", ".child-add", function () { addRow(); count(); });
    $table.on("click", ".child-remove", function () { $(this).closest("tr").remove(); count(); });
    $table.on("change", "select, input", count);
    count();
    /* copy_from: choosing the referenced row (the checklist) fills the rows in its order right away */
    var source = $table.data("copy-from");
    if (source) {
      $(document.getElementById(source)).on("change", function () {
        var id = $(this).val();
        if (!id) { return; }
        var filled = $table.find("tbody tr.child-row").filter(function () {
          return $(this).find("input:not([type=hidden]):not([type=file]), select, textarea").filter(function () {
            return $(this).val();
          }).length > 0;
        });
        if (filled.length && !window.confirm($table.data("copy-confirm"))) { return; }
        var url = String($table.data("copy-url")).replace(/\/0$/, "/" + encodeURIComponent(id));
        $.getJSON(url).done(function (data) {
          $table.find("tbody").empty();
          $table.attr("data-next", 0);  // the rows are numbered from 0 again, in the record's order
          $.each(data.rows || [], function (_, values) {
            var added = addRow();
            $.each(values, function (name, value) {
              added.row.find("[name='" + added.name + name + "']").val(value).trigger("change");
            });
          });
          count();
        });
      });
    }
  }

  function initWithin(scope) {
    $(scope).find(".tree-picker").each(function () { if (!$(this).data("picker")) { $(this).data("picker", new TreePicker(this)); } });
    $(scope).find(".reference-select").each(function () { initReference(this); });
    $(scope).find("select.enum-filter[multiple]").each(function () {
      // nothing chosen means every value: say so, as the single-choice filters' 全部 does
      if (!$(this).data("select2")) {
        $(this).select2({width: "100%", language: select2Language(), placeholder: $(this).data("placeholder") || ""});
      }
    });
    if (window.SafetyDates) { window.SafetyDates.init(scope); }  // a child row added later gets its calendars
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

  // a field required before a step (required_for): its note shows while its conditions hold on the form's values
  function requiredForHolds(form, when) {
    return when.every(function (c) {
      var $input = $(form).find("[name='" + c.field + "']");
      if (!$input.length) { return true; }  // not on this form: the server judges it with the stored value
      var value = $input.is(":checkbox") ? $input.filter(":checked").map(function () { return this.value; }).get()
        : $input.val();
      var list = $.isArray(value) ? value : (value === null || value === "" ? [] : [value]);
      if (c.is_set !== undefined && c.is_set === !list.length) { return false; }
      if (c.equals !== undefined && String(list[0]) !== String(c.equals)) { return false; }
      if (c["in"] !== undefined && c["in"].map(String).indexOf(String(list[0])) < 0) { return false; }
      if (c.not_in !== undefined && list.length && c.not_in.map(String).indexOf(String(list[0])) >= 0) { return false; }
      if (c.includes !== undefined && list.map(String).indexOf(String(c.includes)) < 0) { return false; }
      return true;
    });
  }

  function showRequiredFor(form) {
    $(form).find(".required-for").each(function () {
      var on = requiredForHolds(form, $(this).data("when") || []);
      $(this).toggle(on).closest(".form-group").toggleClass("required-for-step", on);
    });
  }

  $(function () {
    initWithin(document);
    $("form.register-form").each(function () {
      var form = this;
      if (!$(form).find(".required-for").length) { return; }
      showRequiredFor(form);
      $(form).on("change", "select, input", function () { showRequiredFor(form); });
    });
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

  window.SafetyUI = {TreePicker: TreePicker, initWithin: initWithin};
})(jQuery);
