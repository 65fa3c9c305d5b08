// Draws the dashboard's charts from the JSON each page embeds (#page-data),
// with the plotly.js bundle served by the app itself: nothing leaves the host.
(function () {
  "use strict";
  var COLORS = { ok: "#2e7d32", warn: "#ef8f00", critical: "#c62828", insufficient_data: "#9e9e9e" };
  var CONFIG = { displaylogo: false, responsive: true };
  var data = JSON.parse(document.getElementById("page-data").textContent || "{}");

  function plot(el, traces, layout, config) {
    var base = { margin: { l: 60, r: 20, t: 20, b: 40 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
    return Plotly.newPlot(el, traces, Object.assign(base, layout || {}), Object.assign({}, CONFIG, config || {}));
  }

  // Names go into plotly's hover templates and titles, which read a little HTML.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function transpose(rows) {
    return rows.length ? rows[0].map(function (_, j) { return rows.map(function (r) { return r[j]; }); }) : [];
  }

  function withQuery(path, params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) { if (params[k] != null) { q.set(k, params[k]); } });
    var s = q.toString();
    return s ? path + "?" + s : path;
  }

  function overview() {
    (data.monitors || []).forEach(function (m, i) {
      var el = document.querySelector('.spark[data-index="' + i + '"]');
      if (!el || !m.sparkline.length) { return; }
      plot(el, [{
        x: m.sparkline.map(function (p) { return p.window_start; }),
        y: m.sparkline.map(function (p) { return p.value; }),
        type: "scatter", mode: "lines", line: { width: 1.5, color: "#17324d" },
        hovertemplate: "window %{x|%Y-%m-%d %H:%M}<br>worst KL %{y:.4f}<extra></extra>"
      }], {
        margin: { l: 0, r: 0, t: 2, b: 2 }, showlegend: false,
        xaxis: { visible: false }, yaxis: { visible: false, rangemode: "tozero" }
      }, { displayModeBar: false }).then(function () { el.dataset.rendered = "1"; });
    });
  }

  // On the metric alerts are decided by, colours follow the thresholds: pale
  // below warn, amber from warn, red from critical (saturated at twice it).
  function colors(mon, metric) {
    var onThresholds = metric === mon.threshold_metric ||
      (metric === "kl" && mon.threshold_metric.indexOf("kl") === 0);
    if (!onThresholds || !(mon.critical > 0) || !(mon.warn >= 0)) {
      return { colorscale: "YlOrRd", reversescale: true };
    }
    var top = 2 * mon.critical;
    return {
      zmax: top, colorscale: [
        [0, "#f4f9f4"], [mon.warn / top, "#fff3c4"], [mon.critical / top, "#f57c00"], [1, "#8e0000"]
      ]
    };
  }

  function monitor() {
    var grid = data.heatmap, links = data.links;
    var heat = document.getElementById("heatmap");
    var note = document.getElementById("heatmap-note");
    if (grid.bucket_seconds) {
      note.textContent = "Each column is " + Math.round(grid.bucket_seconds / 3600) +
        " h of windows (the largest value and worst severity in it); click a column to zoom in.";
    } else {
      note.textContent = "Each column is one window; click a cell to open its run.";
    }
    if (!grid.names.length) {
      heat.textContent = "No scores in this range.";
    } else {
      plot(heat, [Object.assign({
        type: "heatmap", z: grid.values, x: grid.starts, y: grid.names,
        zmin: 0, hoverongaps: false, colorbar: { title: { text: data.metric } },
        customdata: grid.severities,
        hovertemplate: "%{y}<br>window %{x|%Y-%m-%d %H:%M}<br>" + data.metric + " %{z:.4f}<br>%{customdata}<extra></extra>"
      }, colors(data.monitor, data.metric))], { height: Math.max(260, 40 + 26 * grid.names.length), margin: { l: 140, r: 20, t: 10, b: 40 } })
        .then(function () {
          heat.dataset.rendered = "1";
          heat.on("plotly_click", function (ev) {
            // plotly reports x reformatted ('2024-05-19', not the grid's ISO text):
            // the cell is found by its indices, never by comparing labels.
            var p = ev.points[0], n = p.pointNumber || [], i = n[0], j = n[1];
            if (i == null || j == null || !grid.run_ids[i]) { return; }
            var id = grid.run_ids[i][j];
            if (id != null) {
              window.location.href = links.run.replace("__ID__", String(id));
            } else if (grid.bucket_seconds) {
              var end = new Date(grid.ends[j]);
              var start = new Date(end.getTime() - grid.bucket_seconds * 1000 * 2);
              window.location.href = withQuery(links.monitor, {
                start: start.toISOString(), end: end.toISOString(), metric: data.metric, feature: p.y
              });
            }
          });
        });
    }
    series();
    bySegment();
    var pick = document.getElementById("feature-pick");
    if (pick) {
      pick.addEventListener("change", function () {
        window.location.href = withQuery(links.monitor, {
          start: links.here.start, end: links.here.end, metric: data.metric, feature: pick.value
        });
      });
    }
  }

  function series() {
    var s = data.series, mon = data.monitor, links = data.links;
    var main = document.getElementById("series"), other = document.getElementById("series-other");
    if (!s || !s.names.length) { main.textContent = "No scores for this feature in this range."; return; }
    var headline = s.names.indexOf("kl") >= 0 ? "kl" : s.names[0];
    var i = s.names.indexOf(headline);
    var traces = [{
      x: s.starts, y: s.values[i], name: headline === "kl" ? "KL (bias-corrected)" : headline,
      type: "scatter", mode: "lines+markers", line: { color: "#17324d" },
      marker: { size: 7, color: s.severities[i].map(function (v) { return COLORS[v] || "#17324d"; }) },
      customdata: s.run_ids[i], hovertemplate: "window %{x|%Y-%m-%d %H:%M}<br>%{y:.4f}<extra></extra>"
    }];
    var limits = s.thresholds[headline] || s.thresholds[mon.threshold_metric] || [mon.warn, mon.critical];
    var shapes = [];
    [["warn", limits[0]], ["critical", limits[1]]].forEach(function (pair) {
      if (pair[1] == null || isNaN(pair[1])) { return; }
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: pair[1], y1: pair[1],
        line: { color: COLORS[pair[0]], dash: "dash", width: 1.5 } });
      traces.push({ x: [s.starts[0], s.starts[s.starts.length - 1]], y: [pair[1], pair[1]], mode: "lines",
        name: pair[0] + " " + pair[1], line: { color: COLORS[pair[0]], dash: "dash", width: 1.5 },
        hoverinfo: "skip" });
    });
    if (s.alerts.length) {
      traces.push({
        x: s.alerts.map(function (a) { return a.window_start; }),
        y: s.alerts.map(function (a) {
          var j = s.ends.indexOf(a.window_end); return j >= 0 ? s.values[i][j] : null;
        }),
        text: s.alerts.map(function (a) { return a.severity + " alert: " + (a.message || ""); }),
        customdata: s.alerts.map(function (a) { return a.run_id; }),
        name: "alert opened", mode: "markers", hovertemplate: "%{text}<extra></extra>",
        marker: { symbol: "triangle-up", size: 13, color: s.alerts.map(function (a) { return COLORS[a.severity]; }),
          line: { color: "#000", width: 1 } }
      });
    }
    // Both charts share one x range and fixed margins, so their windows line up.
    var xaxis = { type: "date", range: [s.starts[0], s.starts[s.starts.length - 1]] };
    var margin = { l: 70, r: 20, t: 20, b: 40 };
    plot(main, traces, { height: 340, legend: { orientation: "h", y: -0.2 }, margin: margin, xaxis: xaxis,
      yaxis: { title: { text: headline }, rangemode: "tozero", automargin: false } }).then(function () {
      main.dataset.rendered = "1";
      main.on("plotly_click", function (ev) {
        var id = ev.points[0].customdata;
        if (id != null) { window.location.href = links.run.replace("__ID__", String(id)); }
      });
    });
    var rest = s.names.map(function (n, k) { return k; }).filter(function (k) { return k !== i; });
    if (!rest.length) { other.style.display = "none"; return; }
    plot(other, rest.map(function (k) {
      return { x: s.starts, y: s.values[k], name: s.names[k], type: "scatter", mode: "lines",
        hovertemplate: "window %{x|%Y-%m-%d %H:%M}<br>%{y:.4f}<extra>" + s.names[k] + "</extra>" };
    }), { height: 240, legend: { orientation: "h", y: -0.3 }, margin: margin, xaxis: xaxis,
      yaxis: { rangemode: "tozero", automargin: false } })
      .then(function () { other.dataset.rendered = "1"; });
  }

  // The chosen feature's KL in each segment over time; a click opens that run in that segment.
  function bySegment() {
    var b = data.by_segment, links = data.links, el = document.getElementById("series-segments");
    if (!b || !el || !b.names.length) { return; }
    plot(el, b.names.map(function (name, k) {
      return {
        x: b.starts, y: b.values[k], name: name ? esc(name) : "whole population", type: "scatter",
        mode: "lines+markers", customdata: b.run_ids[k],
        line: name ? { width: 1.5 } : { width: 3, color: "#17324d" },
        hovertemplate: "window %{x|%Y-%m-%d %H:%M}<br>%{y:.4f}<extra>" + (name ? esc(name) : "whole population") + "</extra>"
      };
    }), { height: 260, legend: { orientation: "h", y: -0.3 }, margin: { l: 70, r: 20, t: 20, b: 40 },
      xaxis: { type: "date" }, yaxis: { rangemode: "tozero" } }).then(function () {
      el.dataset.rendered = "1";
      el.on("plotly_click", function (ev) {
        var p = ev.points[0], id = p.customdata, name = b.names[p.curveNumber];
        if (id != null) {
          window.location.href = withQuery(links.run.replace("__ID__", String(id)), { segment: name || null });
        }
      });
    });
  }

  // A pair's cells: x's bins across, y's bins up, each coloured by its share of the joint's KL.
  function pairChart(el, f) {
    var p = f.pair, names = f.feature.split(" \u00d7 ");
    function pct(v) { return (100 * v).toFixed(1) + "%"; }
    var text = p.y_labels.map(function (_, j) {
      return p.x_labels.map(function (_, i) {
        return "live " + pct(p.live_shares[i][j]) + " · reference " + pct(p.reference_shares[i][j]);
      });
    });
    plot(el, [{
      type: "heatmap", x: p.x_labels.map(String), y: p.y_labels.map(String), z: transpose(p.contributions),
      // Diverging at 0: red where live has more than its share (what drives the KL), blue less.
      text: text, zmid: 0, colorscale: [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]],
      hoverongaps: false,
      colorbar: { title: { text: "KL contribution" } },
      hovertemplate: esc(names[0] || "x") + " %{x}<br>" + esc(names[1] || "y") +
        " %{y}<br>KL contribution %{z:.4f}<br>%{text}<extra></extra>"
    }], {
      height: Math.max(380, 140 + 24 * p.y_labels.length), margin: { l: 90, r: 20, t: 20, b: 70 },
      xaxis: { type: "category", title: { text: esc(names[0] || "") }, automargin: true },
      yaxis: { type: "category", title: { text: esc(names[1] || "") }, automargin: true,
        autorange: "reversed" }
    }).then(function () { el.dataset.rendered = "1"; });
  }

  function run() {
    var pick = document.getElementById("segment-pick");
    if (pick) { pick.addEventListener("change", function () { pick.form.submit(); }); }
    (data.run.features || []).forEach(function (f, i) {
      var el = document.querySelector('.chart[data-index="' + i + '"]');
      if (!el) { return; }
      if (!f.labels.length) { el.textContent = "No histogram stored for this feature."; return; }
      if (f.pair) { pairChart(el, f); return; }
      function shares(counts) {
        var total = counts.reduce(function (a, b) { return a + b; }, 0) || 1;
        return counts.map(function (c) { return c / total; });
      }
      var labels = f.labels.map(String);
      plot(el, [
        { x: labels, y: shares(f.reference_counts), name: "reference", type: "bar", marker: { color: "#90a4ae" } },
        { x: labels, y: shares(f.counts), name: "live window", type: "bar", marker: { color: "#17324d" } },
        { x: labels, y: f.contributions, name: "share of KL", type: "scatter", mode: "markers",
          yaxis: "y2", marker: { color: "#c62828", size: 8, symbol: "diamond" } }
      ], {
        barmode: "group", height: 320, legend: { orientation: "h", y: -0.25 },
        margin: { l: 60, r: 20, t: 20, b: 40 },
        xaxis: { type: "category", automargin: true },
        yaxis: { title: { text: "share of rows" }, tickformat: ".0%", automargin: true },
        // automargin keeps the right title clear of its ticks and inside the chart;
        // no zero line there, so nothing reads like a threshold.
        yaxis2: { title: { text: "KL contribution", standoff: 8 }, overlaying: "y", side: "right",
          showgrid: false, zeroline: false, automargin: true, rangemode: "tozero" }
      }).then(function () { el.dataset.rendered = "1"; });
    });
  }

  var page = document.body.dataset.page;
  if (page === "overview") { overview(); }
  else if (page === "monitor") { monitor(); }
  else if (page === "run") { run(); }
}());
