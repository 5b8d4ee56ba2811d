/* The layout: ☰ folds the sidebar to its icons on wide screens (remembered in localStorage) or slides it in over
   the page on narrow ones; a menu category opens and closes on click; a record's empty fields on a phone. */
(function () {
  "use strict";
  var root = document.documentElement;
  var narrow = window.matchMedia("(max-width: 991px)");

  function remember(collapsed) {
    try { localStorage.setItem("app.sidebar", collapsed ? "collapsed" : "expanded"); } catch (e) { /* private mode */ }
  }

  function toggleSidebar() {
    if (narrow.matches) {
      root.classList.toggle("sidebar-open");
    } else {
      remember(root.classList.toggle("sidebar-collapsed"));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("sidebar-toggle");
    if (toggle) { toggle.addEventListener("click", toggleSidebar); }
    var backdrop = document.getElementById("app-backdrop");
    if (backdrop) { backdrop.addEventListener("click", function () { root.classList.remove("sidebar-open"); }); }
    document.querySelectorAll(".app-menu-toggle").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var item = link.parentElement;
        var open = item.classList.toggle("open");
        link.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
    // a record's page on a phone: its empty fields behind one button; the choice holds for the next records
    var empty = document.getElementById("empty-fields-toggle");
    if (empty) {
      var showEmpty = function (shown) {
        empty.parentElement.classList.toggle("show-empty", shown);
        empty.setAttribute("aria-pressed", shown ? "true" : "false");
        empty.textContent = empty.getAttribute(shown ? "data-hide" : "data-show");
      };
      var stored = null;
      try { stored = localStorage.getItem("app.emptyFields"); } catch (e) { /* private mode */ }
      showEmpty(stored === "shown");
      empty.addEventListener("click", function () {
        var shown = !empty.parentElement.classList.contains("show-empty");
        showEmpty(shown);
        try { localStorage.setItem("app.emptyFields", shown ? "shown" : "hidden"); } catch (e) { /* private mode */ }
      });
    }
  });
}());
