/* exported gategradViewer */
/* The page of a recorded training run. `root` is its container; the record and the page's words
   are JSON in it. Every number shown is the engine's: the recorded parameters, gradients, sample
   losses and health, or recomputed here with the same float64 operations in the same order as the
   engine's (a neuron's sum from 0, bias first; gradients reaching a neuron from its last reader to
   its first, as backward() visits them). */

/* Python's format(x, ".4g"), gategrad's `fmt`: 4 significant digits, rounded half to even on the
   exact binary value (BigInt arithmetic), trailing zeros dropped, an exponent below 1e-4 or from 1e4. */
function gategradFmt(x) {
  "use strict";
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return "0"; // -0 too, as fmt writes it
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, Math.abs(x));
  const word = bits.getBigUint64(0);
  const biased = Number(word >> 52n);
  const fraction = word & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = (biased === 0 ? 1 : biased) - 1075; // |x| = mantissa * 2**e exactly
  let k = Math.floor(Math.log10(Math.abs(x))) - 3;
  for (;;) {
    let num = mantissa, den = 1n;
    if (e >= 0) num <<= BigInt(e); else den <<= BigInt(-e);
    if (k >= 0) den *= 10n ** BigInt(k); else num *= 10n ** BigInt(-k);
    let q = num / den; // |x| / 10**k, to be 4 digits
    if (q >= 10000n) { k += 1; continue; }
    if (q < 1000n) { k -= 1; continue; }
    const twice = 2n * (num - q * den);
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
    if (q === 10000n) { q = 1000n; k += 1; }
    return (x < 0 ? "-" : "") + gategradLayout(q.toString(), k + 3);
  }
}
function gategradLayout(digits, exponent) {
  "use strict";
  const trim = (s) => s.replace(/0+$/, "").replace(/\.$/, "");
  if (exponent >= -4 && exponent < 4) {
    if (exponent < 0) return trim("0." + "0".repeat(-exponent - 1) + digits);
    return trim(digits.slice(0, exponent + 1) + "." + digits.slice(exponent + 1));
  }
  const power = String(Math.abs(exponent)).padStart(2, "0");
  return trim(digits[0] + "." + digits.slice(1)) + "e" + (exponent < 0 ? "-" : "+") + power;
}

function gategradViewer(root) {
  "use strict";
  const byId = (id) => root.querySelector("#" + id);
  const named = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
  const record = JSON.parse(byId("gategrad-record").textContent, (key, value) =>
    typeof value === "string" && value in named ? named[value] : value);
  const view = JSON.parse(byId("gategrad-view").textContent);
  const S = view.strings;
  const steps = record.steps, layers = record.layers, X = record.X, Y = record.y;
  const last = steps.length - 1;
  // A large net's record keeps the parameters of a few steps only; the others hold their loss and health figures.
  const kept = (s) => s.parameters !== undefined;
  const SVG = "http://www.w3.org/2000/svg";
  const features = record.features;
  // Class c's colour and name: the palette of gategrad.viz.plot.CLASS_COLORS, the names of the record.
  const classColor = (c) => view.class_colors[c % view.class_colors.length];
  const className = (c) => (record.classes ? record.classes[c] : String(c));

  // ---- numbers as the engine writes them, and its sentences ----

  function fill(template, numbers) {
    // As Python's str.format: {{ and }} are the braces themselves
    return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (whole, name) => {
      if (name === undefined) return whole[0];
      if (!(name in numbers)) throw new Error("no number named " + name + " for: " + template);
      return numbers[name];
    });
  }
  const say = (key, numbers) => fill(S[key], numbers || {});
  // A layer's activation as the page's language names it: a gate's name, or the word for "linear".
  const activationName = (activation) => (activation === "linear" ? S.linear : view.gate_names[activation]);

  const fmt = gategradFmt;

  // The gate table's expressions (a gate's choice of sentence, an activation's maths) arrive from
  // Python as trees (gategrad.viz.viewer.expression_tree) and become functions of named numbers here.
  // The page knows the few functions a row may call, never a gate.
  const CALLS = {
    where: (c, x, y) => (c ? x : y), exp: Math.exp, log: Math.log, tanh: Math.tanh, sqrt: Math.sqrt, abs: Math.abs,
    sign: (x) => (x > 0) - (x < 0),
    maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a >= b ? a : b),
  };
  const OPERATORS = {
    "+": (x, y) => x + y, "-": (x, y) => x - y, "*": (x, y) => x * y, "/": (x, y) => x / y,
    "==": (x, y) => x === y, "!=": (x, y) => x !== y, "<": (x, y) => x < y, "<=": (x, y) => x <= y,
    ">": (x, y) => x > y, ">=": (x, y) => x >= y,
  };
  function compile(tree) {
    const [kind, ...rest] = tree;
    if (kind === "num" || kind === "str") return () => rest[0];
    if (kind === "name") {
      return (names) => {
        if (!(rest[0] in names)) throw new Error("the gate table's expression names " + rest[0] + ", which the page lacks");
        return names[rest[0]];
      };
    }
    if (kind === "op" || kind === "cmp") {
      const f = OPERATORS[rest[0]], x = compile(rest[1]), y = compile(rest[2]);
      return (names) => f(x(names), y(names));
    }
    if (kind === "call") {
      const f = CALLS[rest[0]], args = rest.slice(1).map(compile);
      if (!f) throw new Error("the training page has no function " + rest[0] + " for the gate table's expressions");
      return (names) => f(...args.map((arg) => arg(names)));
    }
    const parts = rest.map(compile);
    if (kind === "neg") return (names) => -parts[0](names);
    if (kind === "not") return (names) => !parts[0](names);
    if (kind === "and") return (names) => parts.every((part) => part(names));
    if (kind === "or") return (names) => parts.some((part) => part(names));
    if (kind === "if") return (names) => (parts[0](names) ? parts[1](names) : parts[2](names));
    throw new Error("the training page cannot evaluate an expression of kind " + kind);
  }
  // Which of its sentences a gate's step takes: its row's `case`.
  const CASES = Object.fromEntries(Object.entries(view.gates).map(([op, gate]) => [op, compile(gate.case)]));
  // The numbers a sentence names, as gategrad.engine.gates.sentence gathers them.
  function sentence(op, step) {
    const names = step.inputs.map((i) => i.name);
    const numbers = {
      g: fmt(step.g),
      out: fmt(step.out),
      n: String(step.inputs.length),
      names: step.inputs.length <= 4 ? names.join(view.list_separator) : "...",
    };
    if (step.constant !== undefined) numbers.c = fmt(step.constant);
    ["a", "b"].forEach((key, k) => {
      const input = step.inputs[k];
      if (!input) return;
      numbers[key] = input.name;
      numbers[key + "_value"] = fmt(input.value);
      numbers[key + "_local"] = fmt(input.local);
      numbers[key + "_gets"] = fmt(input.local * step.g);
    });
    const locals = { n: step.inputs.length };
    ["a", "b"].forEach((key, k) => { if (step.inputs[k]) locals[key + "_local"] = step.inputs[k].local; });
    const template = view.gates[op].sentences[CASES[op](locals)];
    // A sentence that counts its inputs comes as one text per count (gettext's plural forms, chosen in Python).
    const text = fill(typeof template === "string" ? template : template[step.inputs.length], numbers);
    return text.replace(/([×·] ?)(-(?:inf|\d[\d.]*(?:e[+-]?\d+)?))/g, "$1($2)"); // 2 × (-4), as gates.fill

  }

  // ---- the net: forward and backward in the engine's float operations ----

  // Each activation's output and local gradient, from its row's `forward` and `local` (operand a, output out).
  const ACTIVATE = {}, LOCAL = {};
  Object.entries(view.activations).forEach(([op, maths]) => {
    const forwardOf = compile(maths.forward), localOf = compile(maths.local);
    ACTIVATE[op] = (z) => forwardOf({ a: z });
    LOCAL[op] = (z, a) => localOf({ a: z, out: a });
  });
  layers.forEach((layer) => {
    if (layer.activation !== "linear" && !(layer.activation in ACTIVATE)) {
      throw new Error("the page was given no maths for the activation " + layer.activation);
    }
  });
  // offsets[l][i]: where neuron i of layer l starts in the parameters (its weights, then its bias).
  let layerStart = 0;
  const offsets = layers.map((layer) => {
    const row = Array.from({ length: layer.nout }, (_, i) => layerStart + i * (layer.nin + 1));
    layerStart += layer.nout * (layer.nin + 1);
    return row;
  });

  function forward(p, x) {
    const zs = [], as = [];
    layers.forEach((layer, l) => {
      const act = ACTIVATE[layer.activation];
      const z = offsets[l].map((at) => {
        let total = 0;
        total += p[at + layer.nin];
        for (let j = 0; j < layer.nin; j++) total += p[at + j] * x[j];
        return total;
      });
      x = act ? z.map(act) : z;
      zs.push(z);
      as.push(x);
    });
    return { z: zs, a: as };
  }
  // d loss / d a and d loss / d z of every neuron for one sample, from the engine's d loss / d output.
  function backward(p, passed, seed) {
    const n = layers.length, ga = new Array(n), gz = new Array(n);
    ga[n - 1] = seed.slice();
    // A gradient starts at 0 and adds what reaches it, so "0 +": -0 arriving is 0 kept, as in the engine.
    for (let l = n - 1; l >= 0; l--) {
      const layer = layers[l], local = LOCAL[layer.activation];
      gz[l] = local ? ga[l].map((g, i) => 0 + local(passed.z[l][i], passed.a[l][i]) * g) : ga[l];
      if (l === 0) break;
      const below = new Array(layer.nin).fill(0);
      for (let i = layer.nout - 1; i >= 0; i--) { // backward() meets a neuron's readers last to first
        const upstream = 0 + gz[l][i]; // what the add gate passes to each product
        for (let j = 0; j < layer.nin; j++) below[j] += p[offsets[l][i] + j] * upstream;
      }
      ga[l - 1] = below;
    }
    return { ga: ga, gz: gz };
  }
  // The class nn.accuracy counts: a single score's sign, or the first largest of several.
  function predicted(outputs) {
    if (outputs.length === 1) return outputs[0] > 0 ? 1 : 0;
    let best = 0;
    outputs.forEach((v, i) => { if (v > outputs[best]) best = i; });
    return best;
  }
  const labelClass = (y) => (layers[layers.length - 1].nout === 1 ? (y > 0 ? 1 : 0) : y);

  // ---- state and the pieces of the page ----

  let k = 0, timer = null, sample = null, neuron = null, mode = "value";
  const slider = byId("step-slider"), play = byId("play");

  // A new element with its attributes and text, added to `parent`: `el` makes SVG ones, `html` HTML ones.
  function make(node, attrs, parent, text) {
    Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  const el = (tag, attrs, parent, text) => make(document.createElementNS(SVG, tag), attrs, parent, text);
  const html = (tag, attrs, parent, text) => make(document.createElement(tag), attrs, parent, text);

  // The loss and accuracy curves; a regression's steps carry R² and MAE instead, and R² takes accuracy's place.
  const regression = steps[0].r2 !== undefined;
  const score = (s) => (regression ? s.r2 : s.accuracy);
  const chart = byId("loss-chart");
  if (regression) chart.parentNode.querySelector("h2").textContent = S.loss_chart_regression;
  const W = 380, H = 300, pad = { left: 52, right: 40, top: 42, bottom: 40 };
  const losses = steps.map((s) => s.loss);
  const finiteLosses = losses.filter(Number.isFinite);
  const logScale = finiteLosses.length > 0 && Math.min(...finiteLosses) > 0 && Math.max(...finiteLosses) / Math.min(...finiteLosses) > 20;
  const lossLo = finiteLosses.length ? Math.min(...finiteLosses) : 0, lossHi = finiteLosses.length ? Math.max(...finiteLosses) : 1;
  const firstStep = steps[0].step, lastStep = Math.max(steps[last].step, firstStep + 1);
  const sx = (step) => pad.left + (W - pad.left - pad.right) * (step - firstStep) / (lastStep - firstStep);
  const ly = (loss) => {
    const t = logScale ? (Math.log(loss) - Math.log(lossLo)) / (Math.log(lossHi) - Math.log(lossLo)) : (loss - lossLo) / (lossHi - lossLo || 1);
    return H - pad.bottom - (H - pad.top - pad.bottom) * t;
  };
  const ay = (acc) => H - pad.bottom - (H - pad.top - pad.bottom) * Math.max(0, acc); // an R² below 0 sits on the axis
  function drawChart() {
    chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("rect", { x: pad.left, y: pad.top, width: W - pad.left - pad.right, height: H - pad.top - pad.bottom, class: "gg-frame" }, chart);
    const lossTicks = logScale ? [lossLo, Math.sqrt(lossLo * lossHi), lossHi] : [lossLo, (lossLo + lossHi) / 2, lossHi];
    lossTicks.forEach((t) => el("text", { x: pad.left - 6, y: ly(t) + 4, class: "gg-tick gg-loss-text", "text-anchor": "end" }, chart, fmt(Number(t.toPrecision(2)))));
    [0, 0.5, 1].forEach((t) => el("text", { x: W - pad.right + 6, y: ay(t) + 4, class: "gg-tick gg-acc-text" }, chart, String(t)));
    [firstStep, Math.round((firstStep + lastStep) / 2), steps[last].step].forEach((t) =>
      el("text", { x: sx(t), y: H - pad.bottom + 16, class: "gg-tick", "text-anchor": "middle" }, chart, String(t)));
    el("text", { x: (pad.left + W - pad.right) / 2, y: H - 6, class: "gg-tick", "text-anchor": "middle" }, chart, S.step_axis);
    const line = (values, y) => values.map((v, i) => Number.isFinite(v) ? `${sx(steps[i].step).toFixed(1)},${y(v).toFixed(1)}` : "").filter(Boolean).join(" ");
    el("polyline", { points: line(losses, ly), class: "gg-loss" }, chart);
    el("polyline", { points: line(steps.map(score), ay), class: "gg-acc" }, chart);
    const lossName = el("text", { x: pad.left, y: pad.top - 10, class: "gg-legend gg-loss-text" }, chart, logScale ? say("log_scale", { name: S.loss }) : S.loss);
    const scoreName = el("text", { x: W - pad.right, y: pad.top - 10, class: "gg-legend gg-acc-text", "text-anchor": "end" }, chart, regression ? S.r2 : S.accuracy);
    // Two long names (Russian's) would run into each other: the loss's then goes a line up.
    const [lossBox, scoreBox] = [lossName.getBBox(), scoreName.getBBox()];
    if (lossBox.x + lossBox.width + 6 > scoreBox.x) lossName.setAttribute("y", pad.top - 26);
    chart.marker = el("line", { y1: pad.top, y2: H - pad.bottom, class: "gg-marker" }, chart);
    chart.lossDot = el("circle", { r: 4, class: "gg-loss-dot" }, chart);
    chart.accDot = el("circle", { r: 4, class: "gg-acc-dot" }, chart);
    chart.addEventListener("click", (event) => {
      const box = chart.getBoundingClientRect();
      const step = firstStep + (lastStep - firstStep) * ((event.clientX - box.left) * W / box.width - pad.left) / (W - pad.left - pad.right);
      let best = 0;
      steps.forEach((s, i) => { if (Math.abs(s.step - step) < Math.abs(steps[best].step - step)) best = i; });
      go(best);
    });
  }
  function showChart() {
    const s = steps[k], x = sx(s.step);
    chart.marker.setAttribute("x1", x);
    chart.marker.setAttribute("x2", x);
    const visible = (dot, y, value) => {
      dot.setAttribute("cx", x);
      dot.setAttribute("cy", Number.isFinite(value) ? y(value) : -10);
    };
    visible(chart.lossDot, ly, s.loss);
    visible(chart.accDot, ay, score(s));
  }

  // The decision regions and the points: over the two features, or over two of them (`axes`, picked
  // by the user) with the others held at their mean.
  const boundary = byId("boundary");
  const dims = X[0].length, plane = dims >= 2 && view.plane;
  const SIDE = 360, CELLS = view.cells;
  const axes = [0, 1];
  let canvas = null, points = null, left = 0, right = 1, bottom = 0, top = 1;
  function drawBoundary() {
    if (!plane) {
      html("p", { class: "gg-muted", id: "plane-note" }, boundary, dims >= 2 ? view.plane_note : S.boundary_not_2d);
      const list = html("div", { class: "gg-sample-list" }, boundary);
      X.forEach((_, i) => html("button", { type: "button", "data-sample": i }, list, String(i)));
      return;
    }
    if (dims > 2) {
      html("p", { class: "gg-small", id: "slice-note" }, boundary);
      const pick = html("div", { class: "gg-axes" }, boundary);
      ["axis_across", "axis_up"].forEach((word, k) => {
        const label = html("label", {}, pick, S[word] + " ");
        const select = html("select", { "data-axis": k }, label);
        features.forEach((name, j) => html("option", { value: j }, select, name));
        select.value = String(axes[k]);
        select.addEventListener("change", () => {
          const j = Number(select.value);
          if (axes[1 - k] === j) axes[1 - k] = axes[k]; // the same feature both ways: the axes swap
          axes[k] = j;
          placePoints();
          showBoundary();
        });
      });
    } else {
      html("p", { class: "gg-small gg-axes" }, boundary,
        S.axis_across + " " + features[0] + " \u00b7 " + S.axis_up + " " + features[1]);
    }
    html("p", { class: "gg-small", id: "boundary-note" }, boundary);
    const frame = html("div", { class: "gg-plane" }, boundary);
    canvas = html("canvas", { width: CELLS, height: CELLS }, frame);
    points = el("svg", { viewBox: `0 0 ${SIDE} ${SIDE}` }, frame);
    placePoints();
    const legend = html("ul", { class: "gg-legend", id: "boundary-legend" }, boundary);
    const classes = html("li", { "data-mark": "classes" }, legend);
    const shown = new Set(Y.map(labelClass));
    Array.from(shown).sort((a, b) => a - b).forEach((c) => {
      const swatch = el("svg", { width: 14, height: 14, class: "gg-swatch" }, classes);
      el("circle", { cx: 7, cy: 7, r: 5, fill: classColor(c), class: "gg-point" }, swatch);
      html("span", { class: "gg-class", "data-class": c }, classes, className(c) + " ");
    });
    html("span", {}, classes, S.legend_classes);
    const ring = html("li", { "data-mark": "picked-sample" }, legend);
    el("circle", { cx: 7, cy: 7, r: 5, fill: "#ffffff", class: "gg-point gg-selected" }, el("svg", { width: 14, height: 14, class: "gg-swatch" }, ring));
    html("span", {}, ring, S.legend_picked_sample);
  }
  function placePoints() {
    const [a, b] = axes;
    const xs = X.map((p) => p[a]), ys = X.map((p) => p[b]);
    left = Math.min(...xs) - 0.5; right = Math.max(...xs) + 0.5; bottom = Math.min(...ys) - 0.5; top = Math.max(...ys) + 0.5;
    points.textContent = "";
    X.forEach((p, i) => {
      const cx = SIDE * (p[a] - left) / (right - left), cy = SIDE * (1 - (p[b] - bottom) / (top - bottom));
      el("circle", {
        cx: cx.toFixed(1), cy: cy.toFixed(1), r: 5, fill: classColor(labelClass(Y[i])),
        class: "gg-point" + (i === sample ? " gg-selected" : ""), "data-sample": i,
      }, points);
    });
    if (dims > 2) {
      const held = features.map((name, j) => [name, j]).filter(([, j]) => !axes.includes(j));
      byId("slice-note").textContent = say("slice_note", {
        held: held.map(([name, j]) => name + " " + fmt(view.feature_means[j])).join(", "),
      });
      root.querySelectorAll("[data-axis]").forEach((select, k) => { select.value = String(axes[k]); });
    }
  }
  function showBoundary() {
    if (!canvas) return;
    const context = canvas.getContext("2d");
    byId("boundary-note").textContent = kept(steps[k]) ? "" : view.not_kept;
    if (!kept(steps[k])) return context.clearRect(0, 0, CELLS, CELLS);
    const p = steps[k].parameters, [a, b] = axes;
    for (let row = 0; row < CELLS; row++) {
      for (let col = 0; col < CELLS; col++) {
        const x = view.feature_means.slice();
        x[a] = left + (right - left) * (col + 0.5) / CELLS;
        x[b] = top - (top - bottom) * (row + 0.5) / CELLS;
        const passed = forward(p, x);
        context.fillStyle = classColor(predicted(passed.a[passed.a.length - 1]));
        context.fillRect(col, row, 1, 1);
      }
    }
  }
  boundary.addEventListener("click", (event) => {
    const target = event.target.closest("[data-sample]");
    if (!target) return;
    pickSample(Number(target.getAttribute("data-sample")));
    reveal(sampleView.closest(".gg-panel"));
  });

  // The net, one circle per neuron and one line per weight.
  const network = byId("network");
  // Thousands of inputs (an image's pixels) are drawn as one box, without their weights.
  const inputsBox = view.inputs_box !== "";
  const columns = [inputsBox ? 1 : layers[0].nin, ...layers.map((layer) => layer.nout)];
  const tallest = Math.max(...columns), NW = 400, NH = Math.max(200, tallest * 26 + 60);
  const short = (name) => (name.length > 14 ? name.slice(0, 13) + "\u2026" : name);
  const inset = inputsBox ? 40 : 28 + 7 * Math.max(...features.map((name) => short(name).length)); // the names' room
  const colX = (c) => inset + (NW - inset - 50) * c / (columns.length - 1);
  const rowY = (c, i) => 46 + (NH - 56) * (i + 0.5) / columns[c];
  const lines = [], circles = [];
  function drawNetwork() {
    network.setAttribute("viewBox", `0 0 ${NW} ${NH}`);
    network.setAttribute("width", NW);
    network.setAttribute("height", NH);
    el("text", { x: colX(0), y: 14, class: "gg-column", "text-anchor": "middle" }, network, "x");
    layers.forEach((layer, l) => {
      el("text", { x: colX(l + 1), y: 14, class: "gg-column", "text-anchor": "middle" }, network, say("layer_name", { layer: l }));
      el("text", { x: colX(l + 1), y: 29, class: "gg-tick", "text-anchor": "middle" }, network, activationName(layer.activation));
      if (l === 0 && inputsBox) return;
      for (let i = 0; i < layer.nout; i++) {
        for (let j = 0; j < layer.nin; j++) {
          lines.push(el("line", { x1: colX(l), y1: rowY(l, j), x2: colX(l + 1), y2: rowY(l + 1, i), class: "gg-weight", "data-param": offsets[l][i] + j }, network));
        }
      }
    });
    if (inputsBox) {
      const box = el("rect", { x: colX(0) - 14, y: 46, width: 28, height: NH - 56, class: "gg-input", id: "inputs-box" }, network);
      el("title", {}, box, view.inputs_box);
      el("text", { x: colX(0), y: 46 + (NH - 56) / 2, class: "gg-tick", "text-anchor": "middle",
        transform: `rotate(-90 ${colX(0)} ${46 + (NH - 56) / 2})` }, network, view.inputs_box);
    }
    for (let j = 0; j < (inputsBox ? 0 : layers[0].nin); j++) {
      el("rect", { x: colX(0) - 8, y: rowY(0, j) - 8, width: 16, height: 16, class: "gg-input" }, network);
      const name = el("text", { x: colX(0) - 12, y: rowY(0, j) + 4, class: "gg-tick", "text-anchor": "end" }, network, short(features[j]));
      el("title", {}, name, features[j]);
    }
    layers.forEach((layer, l) => {
      for (let i = 0; i < layer.nout; i++) {
        const circle = el("circle", { cx: colX(l + 1), cy: rowY(l + 1, i), r: 9, class: "gg-neuron", "data-neuron": `${l}:${i}` }, network);
        el("title", {}, circle, say("neuron_name", { key: `${l}:${i}` }));
        circles.push(circle);
      }
    });
    network.addEventListener("click", (event) => {
      const target = event.target.closest("[data-neuron]");
      if (!target) return;
      pickNeuron(target.getAttribute("data-neuron"));
      reveal(gateView.closest(".gg-panel"));
    });
    root.querySelectorAll("[data-mode]").forEach((button) => button.addEventListener("click", () => {
      mode = button.getAttribute("data-mode");
      root.querySelectorAll("[data-mode]").forEach((b) => b.classList.toggle("gg-on", b === button));
      showNetwork();
    }));
  }
  function showNetwork() {
    const s = steps[k], values = mode === "value" ? s.parameters : s.gradients;
    byId("network-note").textContent = kept(s) ? "" : view.not_kept;
    let at = 0;
    layers.forEach((layer, l) => {
      if (l === 0 && inputsBox) return;
      const mine = lines.slice(at, at + layer.nin * layer.nout);
      at += mine.length;
      if (!kept(s)) {
        mine.forEach((line) => {
          line.setAttribute("stroke", "#9ca3af");
          line.setAttribute("stroke-opacity", "0.3");
          line.setAttribute("stroke-width", "0.6");
        });
        return;
      }
      const size = Math.max(...mine.map((line) => Math.abs(values[line.getAttribute("data-param")])).filter(Number.isFinite)) || 1;
      mine.forEach((line) => {
        const v = values[line.getAttribute("data-param")], t = Number.isFinite(v) ? Math.abs(v) / size : 1;
        line.setAttribute("stroke", !Number.isFinite(v) ? "#111827" : v > 0 ? "#2563eb" : "#dc2626");
        line.setAttribute("stroke-opacity", (0.08 + 0.8 * t).toFixed(3));
        line.setAttribute("stroke-width", (0.4 + 2.6 * t).toFixed(2));
      });
    });
    const health = s.health.layers, passed = sample === null || !kept(s) ? null : forward(s.parameters, X[sample]);
    circles.forEach((circle) => {
      const [l, i] = circle.getAttribute("data-neuron").split(":").map(Number);
      circle.classList.toggle("gg-stuck", health[l].stuck.includes(i));
      circle.classList.toggle("gg-picked", neuron === `${l}:${i}`);
      let fill = "#ffffff";
      if (passed) {
        const row = passed.a[l], size = Math.max(...row.map(Math.abs).filter(Number.isFinite)) || 1;
        const t = Math.min(1, Math.abs(row[i]) / size);
        fill = `rgba(22, 163, 74, ${(0.1 + 0.9 * t).toFixed(3)})`;
      }
      circle.setAttribute("fill", fill);
    });
  }

  // Training health, per layer, with the update ratio of every recorded step drawn small.
  const healthBox = byId("health");
  function showHealth() {
    const s = steps[k], limits = record.health_limits;
    healthBox.textContent = "";
    const table = html("table", { class: "gg-table" }, healthBox);
    const head = html("tr", {}, html("thead", {}, table));
    [S.layer, S.activation, S.dead_relu, S.saturated, S.update_ratio, ""].forEach((t) => html("th", {}, head, t));
    const body = html("tbody", {}, table);
    layers.forEach((layer, l) => {
      const h = s.health.layers[l], row = html("tr", { "data-layer": l }, body);
      html("td", {}, row, String(l));
      html("td", {}, row, activationName(layer.activation));
      const share = (value) => value === null ? S.not_applicable : `${Math.round(value * layer.nout)} / ${layer.nout}`;
      html("td", { class: h.dead_relu !== null && h.dead_relu > limits.mostly_dead ? "gg-warn" : "" }, row, share(h.dead_relu));
      html("td", {}, row, share(h.saturated));
      const ratio = h.update_ratio, far = ratio !== null && !(ratio >= limits.ratio[0] && ratio <= limits.ratio[1]);
      html("td", { class: far ? "gg-warn" : "" }, row, ratio === null ? S.not_applicable : fmt(ratio));
      sparkline(html("td", {}, row), l);
    });
    const found = s.health.nonfinite;
    const where = found === null ? S.none : fill(found.pass === "forward" ? S.nonfinite_forward : S.nonfinite_backward, {
      op: view.gate_names[found.op],
      op_phrase: view.gate_phrases[found.op],
      where: found.neuron === null ? S.the_loss : say("neuron_name", { key: found.neuron }),
    });
    html("p", { class: found === null ? "" : "gg-warn" }, healthBox, say("nonfinite_line", { where: where }));
    html("p", { class: "gg-small" }, healthBox, say("health_note", { saturated: String(limits.saturated) }));
  }
  function sparkline(cell, l) {
    const w = 220, h = 26, svg = el("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "gg-spark" }, cell);
    const y = (r) => h - 2 - (h - 4) * (Math.log10(r) + 6) / 6; // from 1e-6 at the bottom to 1 at the top
    el("rect", { x: 0, y: y(record.health_limits.ratio[1]), width: w, height: y(record.health_limits.ratio[0]) - y(record.health_limits.ratio[1]), class: "gg-band" }, svg);
    const points = steps.map((s, i) => {
      const r = s.health.layers[l].update_ratio;
      return r > 0 && Number.isFinite(r) ? `${(w * i / Math.max(1, last)).toFixed(1)},${Math.max(1, Math.min(h - 1, y(r))).toFixed(1)}` : "";
    }).filter(Boolean).join(" ");
    el("polyline", { points: points, class: "gg-spark-line" }, svg);
    el("line", { x1: w * k / Math.max(1, last), x2: w * k / Math.max(1, last), y1: 0, y2: h, class: "gg-marker" }, svg);
  }

  // One sample's forward and backward pass at this step.
  const sampleView = byId("sample-view");
  function samplePasses() {
    const s = steps[k], p = s.parameters;
    const passed = forward(p, X[sample]);
    return { passed: passed, grads: backward(p, passed, s.output_gradients[sample]) };
  }
  // A step without its parameters has no passes to show: the panels say so.
  function notKept(panel, s) {
    panel.setAttribute("data-step", s.step);
    panel.textContent = "";
    html("p", { class: "gg-muted", "data-part": "not-kept" }, panel, view.not_kept);
  }
  // A sample's inputs, the middle left out when there are many (an image's thousands of pixels).
  const inputsOf = (x) => (x.length <= 8 ? x.map(fmt) : [...x.slice(0, 6).map(fmt), "\u2026", fmt(x[x.length - 1])]);
  function showSample() {
    if (sample === null) return;
    if (!kept(steps[k])) return notKept(sampleView, steps[k]);
    const s = steps[k], { passed, grads } = samplePasses();
    const outputs = passed.a[passed.a.length - 1];
    sampleView.setAttribute("data-sample", sample);
    sampleView.setAttribute("data-step", s.step);
    sampleView.setAttribute("data-output", outputs.length === 1 ? String(outputs[0]) : JSON.stringify(outputs.map(String)));
    sampleView.textContent = "";
    const label = record.classes ? className(labelClass(Y[sample])) : String(Y[sample]);
    html("p", { class: "gg-strong" }, sampleView, say("sample_heading", { sample: sample, x: inputsOf(X[sample]).join(", "), label: label, step: s.step }));
    html("p", {}, sampleView, say("sample_output", {
      output: outputs.map(fmt).join(", "), loss: fmt(s.sample_losses[sample]), grad: s.output_gradients[sample].map(fmt).join(", "),
    }));
    const tables = html("div", { class: "gg-tables" }, sampleView);
    layers.forEach((layer, l) => {
      const table = html("table", { class: "gg-table gg-numbers" }, tables);
      html("caption", {}, table, say("layer_caption", { layer: l, activation: activationName(layer.activation) }));
      const head = html("tr", {}, html("thead", {}, table));
      [S.neuron, "z", "a", S.grad_a, S.grad_z].forEach((t) => html("th", {}, head, t));
      const body = html("tbody", {}, table);
      for (let i = 0; i < layer.nout; i++) {
        const numbers = [passed.z[l][i], passed.a[l][i], grads.ga[l][i], grads.gz[l][i]];
        const row = html("tr", {
          "data-pick": `${l}:${i}`, "data-numbers": JSON.stringify(numbers.map(String)), // in full precision
          class: neuron === `${l}:${i}` ? "gg-picked-row" : "",
        }, body);
        [`${l}:${i}`, ...numbers.map(fmt)].forEach((t) => html("td", {}, row, t));
      }
    });
  }
  sampleView.addEventListener("click", (event) => {
    const row = event.target.closest("[data-pick]");
    if (!row) return;
    pickNeuron(row.getAttribute("data-pick"));
    reveal(gateView.closest(".gg-panel"));
  });

  // One neuron's gates, walked backward for the chosen sample, in the engine's sentences.
  const gateView = byId("gate-view");
  function showGates() {
    if (neuron === null) return;
    if (!kept(steps[k])) return notKept(gateView, steps[k]);
    const [l, i] = neuron.split(":").map(Number);
    const s = steps[k], p = s.parameters, layer = layers[l], at = offsets[l][i];
    const { passed, grads } = samplePasses();
    const [zLabel, aLabel] = view.labels[l][i];
    const inputs = l === 0 ? X[sample] : passed.a[l - 1];
    const z = passed.z[l][i], a = passed.a[l][i], bias = p[at + layer.nin];
    const products = inputs.map((x, j) => p[at + j] * x);
    const linear = layer.activation === "linear";
    const walk = [];
    if (!linear) {
      const local = LOCAL[layer.activation](z, a);
      walk.push(sentence(layer.activation, { g: grads.ga[l][i], out: a, inputs: [{ name: zLabel, value: z, local: local }] }));
    }
    const inputName = (j) => (l === 0 ? `x${j}` : view.labels[l - 1][j][1]);
    const weightName = (j) => `w${l}[${i},${j}]`; // named as PyTorch indexes a layer's weight: [output, input]
    const summed = [
      { name: `b${l}[${i}]`, value: bias, local: 1 },
      ...products.map((v, j) => ({ name: `${weightName(j)}·${inputName(j)}`, value: v, local: 1 })),
    ];
    walk.push(sentence("add", { g: grads.gz[l][i], out: z, inputs: summed }));
    const upstream = 0 + 1 * grads.gz[l][i]; // each product's gradient: 0, plus what the add gate sends it
    for (let j = layer.nin - 1; j >= 0; j--) {
      const w = p[at + j], weight = { name: weightName(j), value: w, local: inputs[j] };
      if (l === 0) walk.push(sentence("mul", { g: upstream, out: products[j], constant: inputs[j], inputs: [weight] }));
      else walk.push(sentence("mul", { g: upstream, out: products[j], inputs: [weight, { name: inputName(j), value: inputs[j], local: w }] }));
    }
    gateView.setAttribute("data-neuron", neuron);
    gateView.setAttribute("data-sample", sample);
    gateView.setAttribute("data-step", s.step);
    gateView.textContent = "";
    const activation = activationName(layer.activation);
    html("div", { class: "gg-heading" }, gateView, say("gate_heading", { key: neuron, activation: activation, sample: sample, step: s.step }));
    html("p", { class: "gg-forward" }, gateView, linear
      ? say("gate_forward_linear", { a: aLabel, a_value: fmt(a) })
      : say("gate_forward", { z: zLabel, a: aLabel, z_value: fmt(z), a_value: fmt(a), activation: activation }));
    const list = html("ol", { class: "gg-walk" }, gateView);
    walk.forEach((text) => html("li", { class: "gg-explanation", "data-part": "sentence" }, list, text));
  }

  // ---- moving through the steps ----

  function show(i) {
    k = Math.max(0, Math.min(last, i));
    slider.value = String(k);
    byId("step-counter").textContent = say("step", { step: steps[k].step });
    byId("step-of").textContent = say("step_of", { index: k + 1, count: steps.length });
    const s = steps[k];
    byId("readout").textContent = regression
      ? say("readout_regression", { loss: fmt(s.loss), r2: fmt(s.r2), mae: fmt(s.mae) })
      : say("readout", { loss: fmt(s.loss), accuracy: fmt(s.accuracy) });
    showChart();
    showBoundary();
    showNetwork();
    showHealth();
    showSample();
    showGates();
  }
  function pause() {
    clearInterval(timer);
    timer = null;
    play.textContent = S.play;
  }
  function go(i) {
    pause();
    show(i);
  }
  function pickSample(i) {
    sample = i;
    root.querySelectorAll("#boundary [data-sample]").forEach((p) => p.classList.toggle("gg-selected", Number(p.getAttribute("data-sample")) === i));
    show(k);
  }
  function pickNeuron(key) {
    neuron = key;
    if (sample === null) pickSample(0); else show(k);
  }
  // What a click picked is shown in a panel: scroll just enough to bring it below the sticky bar and
  // above the window's bottom edge (its top first, if it is taller than the window).
  function reveal(panel) {
    const box = panel.getBoundingClientRect(), bar = root.querySelector(".gg-bar").getBoundingClientRect().bottom;
    if (box.top < bar || box.height > window.innerHeight - bar) window.scrollBy(0, box.top - bar - 8);
    else if (box.bottom > window.innerHeight) window.scrollBy(0, box.bottom - window.innerHeight + 8);
  }
  play.addEventListener("click", () => {
    if (timer) return pause();
    if (k === last) show(0);
    play.textContent = S.pause;
    timer = setInterval(() => {
      show(k + 1);
      if (k === last) pause();
    }, view.pace);
  });
  slider.addEventListener("input", () => go(Number(slider.value)));
  const keys = { ArrowLeft: () => k - 1, ArrowRight: () => k + 1, Home: () => 0, End: () => last };
  document.addEventListener("keydown", (event) => {
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey || event.target === slider) return;
    event.preventDefault();
    go(keys[event.key]());
  });

  drawChart();
  drawBoundary();
  drawNetwork();
  show(0);
  root.setAttribute("data-ready", "true");
}
