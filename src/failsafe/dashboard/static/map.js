// The map of a subject's movements (issue 14), drawn offline as SVG by this file alone: country
// shapes from Natural Earth's 1:110m admin-0 boundaries (public domain; the TopoJSON of the npm
// package world-atlas 2.0.2, ISC, shipped as countries-110m.json), an equirectangular projection
// (x = lon + 180, y = 90 - lat, in degrees), and the view fitted to the sightings.
// Invariants: one `path.arc` per booking (origin → transits → destination), one `g.point` per
// placed crossing, numbered in the order they happened; a sighting without coordinates is listed
// beside the map, never guessed onto it. Nothing is fetched but the one static file.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
let worldPromise = null;

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// TopoJSON: quantized, delta-encoded arcs shared by the polygons; a negative index ~i is arc i
// reversed. Decoded once into one SVG path string per country.
function decodeWorld(topo) {
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  const arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
  const ring = (indexes) => {
    const out = [];
    for (const i of indexes) {
      const arc = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
      out.push(...(out.length ? arc.slice(1) : arc));
    }
    return out;
  };
  const ringPath = (points) => {
    // Unwrap longitudes so that a ring crossing the antimeridian (Russia, Fiji) stays one shape
    // (its far part falls outside the map and is clipped) instead of a stripe across the world.
    let prev = null;
    const parts = points.map(([lon, lat]) => {
      let x = lon;
      if (prev !== null) {
        while (x - prev > 180) x -= 360;
        while (prev - x > 180) x += 360;
      }
      prev = x;
      return `${(x + 180).toFixed(2)},${(90 - lat).toFixed(2)}`;
    });
    return `M${parts.join("L")}Z`;
  };
  const shapes = [];
  for (const geo of topo.objects.countries.geometries) {
    const polygons = geo.type === "Polygon" ? [geo.arcs] : geo.type === "MultiPolygon" ? geo.arcs : [];
    const d = polygons.map((rings) => rings.map((r) => ringPath(ring(r))).join("")).join("");
    if (d) shapes.push({ id: geo.id, name: (geo.properties || {}).name || "", d });
  }
  return shapes;
}

function loadWorld() {
  if (!worldPromise) {
    worldPromise = fetch("/dashboard/countries-110m.json", { cache: "force-cache" })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      })
      .then(decodeWorld)
      .catch((err) => {
        worldPromise = null; // try again with the next alert
        throw err;
      });
  }
  return worldPromise;
}

function project(stop) {
  return [stop.lon + 180, 90 - stop.lat];
}

// A gentle curve between two places, bulging to the left of the direction of travel, so that a
// return flight does not hide the outward one.
function curve([x1, y1], [x2, y2]) {
  const mx = (x1 + x2) / 2;
  const my = (y1 + y2) / 2;
  const dx = x2 - x1;
  const dy = y2 - y1;
  const k = 0.18;
  return `Q${(mx + dy * k).toFixed(2)},${(my - dx * k).toFixed(2)} ${x2.toFixed(2)},${y2.toFixed(2)}`;
}

function fitView(coords) {
  if (!coords.length) return [0, 0, 360, 180];
  let [minX, minY] = coords[0];
  let [maxX, maxY] = coords[0];
  for (const [x, y] of coords) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  // At least 24° across, some room around, and the map's 2:1 shape.
  let w = Math.max(24, (maxX - minX) * 1.3);
  let h = Math.max(12, (maxY - minY) * 1.3);
  if (w < 2 * h) w = 2 * h;
  else h = w / 2;
  w = Math.min(w, 360);
  h = Math.min(h, 180);
  const x = Math.min(Math.max((minX + maxX) / 2 - w / 2, 0), 360 - w);
  const y = Math.min(Math.max((minY + maxY) / 2 - h / 2, 0), 180 - h);
  return [x, y, w, h];
}

// points: the timeline's points (each with `stops`); returns the <svg>.
async function drawMovements(points, currentAlertId) {
  const placed = (s) => s && typeof s.lat === "number" && typeof s.lon === "number";
  const svg = svgEl("svg", { class: "map", id: "map", role: "img",
    "aria-label": "Map of the subject's movements" });
  let world = [];
  try {
    world = await loadWorld();
  } catch {
    svg.setAttribute("data-world", "unavailable");
  }
  const coords = [];
  for (const p of points) for (const s of p.stops || []) if (placed(s)) coords.push(project(s));
  const [vx, vy, vw, vh] = fitView(coords);
  svg.setAttribute("viewBox", `${vx} ${vy} ${vw} ${vh}`);
  const unit = vw / 120; // marker size relative to the view: the same on screen at any zoom
  // An arrowhead at each booking's destination: the direction of travel is not colour alone.
  svg.append(svgEl("defs", {}, svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9,
    refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
  svgEl("path", { d: "M0,0L10,5L0,10Z", class: "arrowhead" }))));
  svg.append(svgEl("rect", { class: "sea", x: 0, y: 0, width: 360, height: 180 }));
  svg.append(svgEl("g", { class: "land" },
    ...world.map((c) => svgEl("path", { d: c.d }, svgEl("title", {}, c.name)))));
  const arcs = svgEl("g", { class: "arcs" });
  const marks = svgEl("g", { class: "marks" });
  points.forEach((p, i) => {
    const n = i + 1;
    const when = new Date(p.occurred_at).toLocaleString();
    const current = p.alert_id === currentAlertId ? " current" : "";
    const stops = (p.stops || []).filter(placed);
    if (p.kind === "travel_booking") {
      if (stops.length >= 2) {
        const xy = stops.map(project);
        const d = `M${xy[0][0].toFixed(2)},${xy[0][1].toFixed(2)}`
          + xy.slice(1).map((to, j) => curve(xy[j], to)).join("");
        arcs.append(svgEl("path", { class: `arc${current}`, d, "data-alert-id": p.alert_id,
          "stroke-width": (unit / 3).toFixed(3), "marker-end": "url(#arrow)" },
          svgEl("title", {}, `${n}. ${when}: ${stops.map((s) => s.label).join(" → ")}`)));
        for (const [j, [x, y]] of xy.entries()) {
          marks.append(svgEl("circle", { class: `airport ${stops[j].role}`, cx: x, cy: y,
            r: (unit * 0.6).toFixed(3) }, svgEl("title", {}, stops[j].label)));
        }
        const [lx, ly] = xy[0];
        marks.append(svgEl("text", { class: "order", x: lx + unit, y: ly - unit,
          "font-size": (unit * 2.2).toFixed(3) }, String(n)));
      }
      return;
    }
    const stop = stops[0];
    if (!stop) return;
    const [x, y] = project(stop);
    const dir = p.direction || "unknown";
    // Direction as a shape, not only a colour: an entry points down into the country (▼), an
    // exit up and out (▲), anything else is a diamond.
    const s = unit * 1.4;
    const shape = dir === "entry" ? `M${x - s},${y - s}L${x + s},${y - s}L${x},${y + s}Z`
      : dir === "exit" ? `M${x - s},${y + s}L${x + s},${y + s}L${x},${y - s}Z`
        : `M${x},${y - s}L${x + s},${y}L${x},${y + s}L${x - s},${y}Z`;
    marks.append(svgEl("g", { class: `point dir-${dir}${current}`, "data-alert-id": p.alert_id },
      svgEl("path", { d: shape }),
      svgEl("text", { class: "order", x: x + s * 1.2, y: y - s * 0.6,
        "font-size": (unit * 2.2).toFixed(3) }, String(n)),
      svgEl("title", {}, `${n}. ${when}: ${dir} at ${stop.label}`)));
  });
  svg.append(arcs, marks);
  return svg;
}
