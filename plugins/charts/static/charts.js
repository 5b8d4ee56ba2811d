/* Draws every .chart-canvas of the page with ECharts from its data-chart JSON (computed by the server, within the
   user's scope); a click on a bar, point or slice opens the register's list filtered to that slice. */
(function () {
  "use strict";

  /* A category's label wraps within its slot (a chart as wide as the page's column holds "Under supervision" and
     "Awaiting confirmation" side by side only on two lines); rotated labels (more than six) keep one line. */
  function labelWidth(width, count) {
    return Math.max(36, Math.floor((width - 48) / Math.max(count, 1)) - 8);
  }

  function option(data, width) {
    var labels = data.slices.map(function (s) { return s.label; });
    var fmt = data.percent ? "{c}%" : "{c}";
    var tooltip = { trigger: data.kind === "pie" ? "item" : "axis" };
    if (data.kind === "pie") {
      return {
        tooltip: tooltip, legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: ["30%", "65%"], name: data.measure,
                   label: { formatter: "{b}: " + fmt },
                   data: data.slices.map(function (s) { return { name: s.label, value: s.value, url: s.url }; }) }]
      };
    }
    var horizontal = data.kind === "bar" && labels.length > 8;
    var rotate = !horizontal && labels.length > 6;
    var category = { type: "category", data: labels,
                     axisLabel: { interval: 0, rotate: rotate ? 30 : 0, hideOverlap: false,
                                  width: horizontal || rotate ? undefined : labelWidth(width, labels.length),
                                  overflow: horizontal || rotate ? "none" : "break" } };
    // counts (and any whole values) step by whole numbers: no axis of 0.2 hazards
    var whole = data.slices.every(function (s) {
      return s.value % 1 === 0 && Object.keys(s.stacks).every(function (k) { return s.stacks[k] % 1 === 0; });
    });
    var value = { type: "value", minInterval: whole ? 1 : undefined,
                  axisLabel: { formatter: data.percent ? "{value}%" : "{value}" } };
    var series;
    if (data.stacks.length) {
      series = data.stacks.map(function (stack) {
        return { type: data.kind === "line" ? "line" : "bar", name: stack.label,
                 stack: data.kind === "stacked_bar" ? "all" : undefined,
                 data: data.slices.map(function (s) { return { value: s.stacks[stack.key] || 0, url: s.url }; }) };
      });
    } else {
      series = [{ type: data.kind === "line" ? "line" : "bar", name: data.measure,
                  label: { show: labels.length <= 15, position: horizontal ? "right" : "top", formatter: fmt },
                  data: data.slices.map(function (s) { return { value: s.value, url: s.url }; }) }];
    }
    if (horizontal) {
      category.inverse = true;
    }
    return {
      tooltip: tooltip, legend: data.stacks.length ? { type: "scroll", top: 0 } : undefined,
      // room above the tallest bar for its value label (16 px cut the top of the "5" in half)
      grid: { left: 8, right: 32, top: data.stacks.length ? 32 : (horizontal ? 16 : 24), bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category, yAxis: horizontal ? category : value, series: series
    };
  }

  function draw(el) {
    var data = JSON.parse(el.getAttribute("data-chart"));
    var chart = echarts.init(el, null, { locale: el.getAttribute("data-locale") || "ZH" });
    // marked once drawn (animation included), so that a script or a test clicks the bars where they end up
    chart.on("finished", function () { el.setAttribute("data-drawn", "1"); });
    chart.setOption(option(data, el.clientWidth));
    chart.on("click", function (params) {
      var url = params.data && params.data.url;
      if (url) { window.location.href = url; }
    });
    el.style.cursor = "pointer";
    window.addEventListener("resize", function () {
      chart.resize();
      chart.setOption(option(data, el.clientWidth));
    });
  }

  function drawAll() {
    if (typeof echarts === "undefined") { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".chart-canvas[data-chart]"), function (el) {
      if (!echarts.getInstanceByDom(el)) { draw(el); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
