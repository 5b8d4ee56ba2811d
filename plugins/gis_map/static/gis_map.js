/* The resource map's pages (plugins/gis_map): Leaflet and leaflet.markercluster, both served by the app.
   Layers are compact JSON rows [id, lat, lng, legend index]; popups and searches are asked for on demand. */
(function () {
  "use strict";
  var CHINA = [[18.0, 73.5], [53.6, 135.1]];

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function baseMap(el, config) {
    var map = L.map(el, {maxZoom: config.tiles_max_zoom || 18, minZoom: 3, preferCanvas: true});
    if (config.tiles) {
      L.tileLayer(config.tiles, {maxZoom: config.tiles_max_zoom || 18}).addTo(map);
    }
    map.fitBounds(CHINA);
    return map;
  }
  function showBoundary(map, url) {
    return getJSON(url).then(function (found) {
      if (!found.boundary) { return null; }
      var outline = L.geoJSON(found.boundary, {interactive: false,
        style: {color: "#455a64", weight: 2, fillColor: "#90a4ae", fillOpacity: 0.06}}).addTo(map);
      map.fitBounds(outline.getBounds());
      map.getContainer().setAttribute("data-boundary", found.region || "");
      return outline;
    });
  }
  function pointIcon(colour, icon) {
    return L.divIcon({className: "", iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10],
      html: '<div class="gis-point" style="width:22px;height:22px;background:' + colour + '"><i class="fa ' +
            icon + '"></i></div>'});
  }

  function resourceMap(el) {
    var config = JSON.parse(el.getAttribute("data-config"));
    var map = baseMap(el, config);
    var groups = {}, everything = L.latLngBounds([]);
    var results = L.layerGroup().addTo(map);
    var centreMarker = null;
    var hasBoundary = showBoundary(map, config.boundary);

    function popupFor(layer, marker, id) {
      marker.bindPopup(esc(config.text.loading)).openPopup();
      getJSON(layer.popup.replace(/\/0\.json$/, "/" + id + ".json")).then(function (row) {
        var html = '<div class="gis-popup"><strong>' + esc(row.title) + "</strong><dl>";
        row.fields.forEach(function (f) { html += "<dt>" + esc(f.label) + "</dt><dd>" + esc(f.value) + "</dd>"; });
        html += '</dl><a href="' + esc(row.url) + '">' + esc(config.text.open) + " »</a>" +
          ' · <a class="gis-near-link" href="' + esc(row.near) + '">' + esc(config.text.near) + " »</a></div>";
        marker.setPopupContent(html);
      });
    }
    var loads = config.layers.map(function (layer) {
      return getJSON(layer.data).then(function (data) {
        var icons = data.legend.map(function (entry) { return pointIcon(entry.colour, data.icon); });
        var fallback = pointIcon(data.colour, data.icon);
        // one click listener on the group, not one per point (100,000 closures and listeners)
        var markers = data.rows.map(function (row) {
          return L.marker([row[1], row[2]], {icon: icons[row[3]] || fallback, rowId: row[0]});
        });
        var badge = document.querySelector('.gis-count[data-layer="' + layer.name + '"]');
        if (badge) { badge.textContent = data.rows.length; }
        return new Promise(function (clustered) {
          // on the map before the points: off the map, markercluster looks each new point up in a list (O(n²))
          var group = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
            chunkProgress: function (done, total) { if (done === total) { clustered(); } }});
          groups[layer.name] = group;
          group.on("click", function (e) { popupFor(layer, e.layer, e.layer.options.rowId); });
          map.addLayer(group);
          if (!markers.length) { clustered(); return; }
          group.addLayers(markers);
        }).then(function () {
          if (markers.length) { everything.extend(groups[layer.name].getBounds()); }
        });
      });
    });
    Promise.all([hasBoundary.catch(function () { return null; })].concat(loads)).then(function (done) {
      if (!done[0] && everything.isValid()) { map.fitBounds(everything.pad(0.05)); }
      el.setAttribute("data-ready", "1");
    }, function () { el.setAttribute("data-ready", "error"); });

    var boxes = document.querySelectorAll(".gis-layer-toggle");
    var shown = document.getElementById("gis-layers-shown"), panel = document.getElementById("gis-layers-panel");
    function countShown() {
      var on = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
      shown.textContent = shown.getAttribute("data-text").replace("{shown}", on).replace("{total}", boxes.length);
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        countShown();
        var group = groups[box.value];
        if (!group) { return; }
        if (box.checked) { map.addLayer(group); } else { map.removeLayer(group); }
      });
    });
    countShown();
    document.getElementById("gis-layers-fold").addEventListener("click", function () {
      var open = panel.classList.toggle("is-open");
      this.setAttribute("aria-expanded", open ? "true" : "false");
    });

    var form = document.getElementById("gis-search");
    var radius = document.getElementById("gis-radius"), custom = document.getElementById("gis-radius-custom");
    var lat = document.getElementById("gis-lat"), lng = document.getElementById("gis-lng");
    function setCentre(latlng, label) {
      lat.value = latlng.lat.toFixed(6);
      lng.value = latlng.lng.toFixed(6);
      if (centreMarker) { map.removeLayer(centreMarker); }
      centreMarker = L.circleMarker(latlng, {radius: 7, color: "#d32f2f", weight: 3, fillOpacity: 0.9})
        .bindTooltip(label || config.text.centre).addTo(map);
      document.getElementById("gis-centre-text").textContent =
        config.text.centre + ": " + (label ? label + " " : "") + lat.value + ", " + lng.value;
    }
    function radiusKm() {
      if (radius.value === "custom") { return custom.value; }
      return radius.value;
    }
    function query() {
      var params = new URLSearchParams();
      var q = document.getElementById("gis-q").value.trim();
      if (q) { params.set("q", q); }
      if (lat.value && radiusKm()) {
        params.set("lat", lat.value); params.set("lng", lng.value); params.set("radius", radiusKm());
      }
      document.querySelectorAll(".gis-layer-toggle:checked").forEach(function (box) { params.append("layer", box.value); });
      return params.toString();
    }
    function search() {
      var asked = query();
      document.getElementById("gis-export").setAttribute("href", config.export + "?" + asked);
      getJSON(config.search + "?" + asked).then(function (found) {
        results.clearLayers();
        var body = document.querySelector("#gis-results tbody");
        body.innerHTML = "";
        if (found.centre && found.radius) {
          L.circle(found.centre, {radius: found.radius * 1000, color: "#d32f2f", weight: 1, fillOpacity: 0.05})
            .addTo(results);
        }
        if (!found.rows.length) {
          body.innerHTML = '<tr><td colspan="4" class="text-muted">' + esc(config.text.no_results) + "</td></tr>";
        }
        var bounds = L.latLngBounds([]);
        found.rows.forEach(function (row) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-layer", row.layer);
          tr.setAttribute("data-id", row.id);
          tr.innerHTML = "<td>" + esc(row.layer_label) + '</td><td><a href="' + esc(row.url) + '">' + esc(row.title) +
            "</a></td><td>" + (row.distance_km == null ? "" : row.distance_km.toFixed(2)) + "</td><td>" +
            (row.lat == null ? "" : '<button type="button" class="btn btn-xs btn-default gis-centre" title="' +
              esc(config.text.centre) + '">⊕</button>') + "</td>";
          body.appendChild(tr);
          if (row.lat != null) {
            var latlng = L.latLng(row.lat, row.lng);
            bounds.extend(latlng);
            L.circleMarker(latlng, {radius: 9, color: "#ff6f00", weight: 3, fill: false})
              .bindTooltip(row.title).addTo(results);
            var button = tr.querySelector(".gis-centre");
            button.addEventListener("click", function () { setCentre(latlng, row.title); map.setView(latlng, 13); });
            tr.addEventListener("mouseenter", function () { tr.classList.add("gis-active"); });
            tr.addEventListener("mouseleave", function () { tr.classList.remove("gis-active"); });
          }
        });
        if (found.centre && found.radius) {
          map.fitBounds(L.latLng(found.centre).toBounds(found.radius * 2000));
        } else if (bounds.isValid()) {
          map.fitBounds(bounds.pad(0.2), {maxZoom: 15});
        }
        el.setAttribute("data-searched", String(Date.now()));
      });
    }
    map.on("click", function (event) {
      setCentre(event.latlng);
      if (radiusKm()) { search(); }
    });
    radius.addEventListener("change", function () {
      custom.style.display = radius.value === "custom" ? "" : "none";
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
    document.getElementById("gis-export").addEventListener("click", function () {
      this.setAttribute("href", config.export + "?" + query());
    });
    window.gisMap = {map: map, groups: groups, setCentre: setCentre, search: search};
  }

  function positionMap(el) {
    var config = JSON.parse(el.getAttribute("data-config"));
    var map = baseMap(el, config);
    var forms = Array.prototype.slice.call(document.querySelectorAll(".gis-position-form"));
    var active = forms[0], marker = null;
    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
    }
    forms.forEach(function (form) {
      form.addEventListener("focusin", function () { active = form; });
      var la = parseFloat(form.getAttribute("data-lat")), ln = parseFloat(form.getAttribute("data-lng"));
      if (!isNaN(la) && !isNaN(ln)) {
        L.circleMarker([la, ln], {radius: 6, color: "#1565c0"}).addTo(map);
      }
    });
    showBoundary(map, config.boundary).catch(function () { return null; }).then(function () {
      el.setAttribute("data-ready", "1");
    });
    map.on("click", function (event) {
      place(event.latlng);
      active.querySelector(".gis-lat").value = event.latlng.lat.toFixed(6);
      active.querySelector(".gis-lng").value = event.latlng.lng.toFixed(6);
    });
  }

  function geolocate() {
    var button = document.getElementById("gis-geolocate");
    if (!button) { return; }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("gis-locate-lat").value = position.coords.latitude.toFixed(6);
        document.getElementById("gis-locate-lng").value = position.coords.longitude.toFixed(6);
      }, function () {}, {enableHighAccuracy: true, timeout: 10000});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("gis-map");
    if (el && window.L) { resourceMap(el); }
    var position = document.getElementById("gis-position-map");
    if (position && window.L) { positionMap(position); }
    geolocate();
  });
}());
