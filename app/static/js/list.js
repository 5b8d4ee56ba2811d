/* Register lists: the filter panel folds (remembered per register in this browser), the table box fills the
   window so its header stays in view, 列设置 moves columns, the selection bar counts ticked rows and enables the
   actions that need a selection. Plain jQuery, like register.js. */
(function ($) {
  "use strict";

  function store(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* storage refused (private mode): the panel simply starts folded */ }
    return null;
  }

  /* ---------------------------------------------------------- filter panel */
  function initFilterPanel(panel) {
    var $panel = $(panel);
    // on a phone the filters wait behind 筛选 (the quick search stays)
    $panel.find("#phone-filter-toggle").on("click", function () {
      var open = !$panel.hasClass("phone-open");
      $panel.toggleClass("phone-open", open);
      $(this).attr("aria-expanded", open ? "true" : "false");
    });
    var $toggle = $panel.find("#filter-toggle");
    if (!$toggle.length) { return; }
    var key = "safety.filters." + $panel.data("register");
    var show = function (open) {
      $panel.toggleClass("is-folded", !open);
      $toggle.attr("aria-expanded", open ? "true" : "false")
        .text(open ? $toggle.data("open-text") : $toggle.data("closed-text"));
      fitListBox();
    };
    // the server opens the panel when a folded filter is set; otherwise the user's last choice applies
    if ($panel.hasClass("is-folded") && store(key) === "open") { show(true); }
    $toggle.on("click", function () {
      var open = $panel.hasClass("is-folded");
      store(key, open ? "open" : "closed");
      show(open);
    });
  }

  /* ---------------------------------------------------------- table box */
  function fitListBox() {
    var box = document.getElementById("list-box");
    if (!box) { return; }
    var footer = $(".list-footer").outerHeight(true) || 0;
    var room = window.innerHeight - $(box).offset().top - footer - 8;
    box.style.maxHeight = Math.max(240, Math.floor(room)) + "px";
  }

  /* ---------------------------------------------------------- 列设置 */
  function initColumnMenu(form) {
    var $form = $(form);
    var order = function () {
      $form.find("input[name=order]").val($form.find(".column-choice").map(function () {
        return $(this).data("column");
      }).get().join(","));
    };
    $form.on("click", function (e) { e.stopPropagation(); });  // keep the dropdown open while choosing
    $form.on("click", ".column-up", function () {
      var $li = $(this).closest(".column-choice");
      $li.prev().before($li);
      order();
    });
    $form.on("click", ".column-down", function () {
      var $li = $(this).closest(".column-choice");
      $li.next().after($li);
      order();
    });
  }

  /* ---------------------------------------------------------- a count the page did not wait for */
  function fetchCount(span) {
    var $span = $(span);
    $.ajax({ url: $span.data("count-url"), dataType: "json" })
      .done(function (data) {
        $span.text(data.text);
        if (data.pager) { $(".list-footer").replaceWith(data.pager); fitListBox(); }  // now with its last page
      })
      .fail(function () { $span.text($span.data("failed-text")); })
      .always(function () { $span.removeClass("is-counting"); });
  }

  /* ---------------------------------------------------------- selection */
  function updateSelection() {
    var count = $(".row-select:checked").length;
    $("#selection-count").text(count);
    $("#selection-bar").prop("hidden", count === 0);
    $(".needs-selection").toggleClass("disabled", count === 0);
    var all = $(".row-select").length;
    $("#select-all").prop("checked", all > 0 && count === all);
  }

  $(function () {
    $("#filter-form").each(function () { initFilterPanel(this); });
    $("#column-menu").each(function () { initColumnMenu(this); });
    $("#list-total[data-count-url]").each(function () { fetchCount(this); });
    $(document).on("change", ".row-select, #select-all", updateSelection);
    $(document).on("click", "#clear-selection", function () {
      $(".row-select, #select-all").prop("checked", false);
      updateSelection();
    });
    updateSelection();
    fitListBox();
    $(window).on("resize", fitListBox);
  });
})(jQuery);
