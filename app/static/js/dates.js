/* Date pickers in the app's language (flatpickr, served by the app), wherever a page has <input class="date-picker">:
   forms, a form's child rows (also those added later: register.js calls SafetyDates.init on the new row) and the
   list filter panel. data-kind="datetime" adds the time. The value sent is ISO (2024-05-01, 2024-05-01T08:30). */
(function ($) {
  "use strict";
  var pickers = [];

  function flatpickrLocale(app) {
    var l10n = (window.flatpickr && window.flatpickr.l10ns) || {};
    if (app === "zh_Hant") { return l10n.zh_tw || "default"; }
    if (app && app.indexOf("zh") === 0) { return l10n.zh || "default"; }
    return "default";
  }

  function init(scope) {
    if (!window.flatpickr) { return; }
    $(scope || document).find("input.date-picker").each(function () {
      if (this._flatpickr || $(this).closest("template").length) { return; }
      var time = $(this).data("kind") === "datetime";
      var app = $(this).closest("[data-locale]").data("locale") || window.APP_LOCALE;
      pickers.push(window.flatpickr(this, {
        locale: flatpickrLocale(app), allowInput: true, disableMobile: true, enableTime: time, time_24hr: true,
        dateFormat: time ? "Y-m-d\\TH:i" : "Y-m-d", altInput: time, altFormat: "Y-m-d H:i"
      }));
    });
  }

  $(function () {
    init(document);
    // moving on with the keyboard closes the calendar (it would cover the next fields)
    $(document).on("focusin", function (e) {
      $.each(pickers, function (_, fp) {
        if (fp.isOpen && e.target !== fp.input && e.target !== fp.altInput && !fp.calendarContainer.contains(e.target)) {
          fp.close();
        }
      });
    });
  });

  window.SafetyDates = {init: init};
})(jQuery);
