/* The network lab: `gategrad train`'s run, one step at a time, in the page's Python (gategrad.playground.net).
   Every number shown is Python's: this module only lays out the controls, draws the view and routes clicks. */

const DATASETS = ["xor", "moons", "circles", "spiral"];
const ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"];
const LOSSES = ["", "hinge", "mse", "bce", "cross_entropy"]; /* "": train's default for the dataset */
const OPTIMIZERS = ["sgd", "adam", "adamw"];
const DEFAULTS = { dataset: "moons", hidden: "16,16", activation: "relu", loss: "", optimizer: "sgd", lr: "",
  l2: "0.0001", seed: "0", batch: "0" };
const GRID_EVERY_MS = 2000; /* while playing, the regions (slower to compute than a step) every 2 s */
const SVG = "http://www.w3.org/2000/svg";
const MAX_STEPS_PER_CALL = 100; /* what gategrad.playground.net takes in one request */

function element(tag, attributes = {}, ...children) {
  const { dataset = {}, ...properties } = attributes;
  const made = Object.assign(document.createElement(tag), properties);
  Object.assign(made.dataset, dataset);
  made.append(...children);
  return made;
}
function svg(tag, attributes = {}, parent = null) {
  const made = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  if (parent) parent.append(made);
  return made;
}
function fill(template, values) {
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (whole, key) =>
    key === undefined ? whole[0] : key in values ? String(values[key]) : whole,
  );
}
/* A weight or an activation as a colour: blue positive, red negative, stronger for larger. */
function signColor(x, scale) {
  const strength = Math.min(1, Math.abs(x) / scale);
  return x >= 0 ? `rgba(37, 99, 235, ${(0.15 + 0.85 * strength).toFixed(3)})`
    : `rgba(220, 38, 38, ${(0.15 + 0.85 * strength).toFixed(3)})`;
}

export async function mount(root, api) {
  const { t } = api;
  const saved = (key) => api.state.get(`net.${key}`);
  const settings = {};
  for (const key of Object.keys(DEFAULTS)) {
    const value = saved(key);
    settings[key] = value === undefined || value === null ? DEFAULTS[key] : String(value);
  }
  let added = Array.isArray(saved("points")) ? saved("points") : [];
  let removed = Array.isArray(saved("removed")) ? saved("removed") : [];
  let sample = Number.isInteger(saved("sample")) ? saved("sample") : 0;
  let addClass = 0;
  let clickMode = "edit";
  let view = null;
  let walkTarget = null;
  let pending = 0;
  let running = false;
  let playing = false;
  let lastGrid = 0;

  /* ---- the page's parts ---- */
  const controls = {};
  const labels = {};
  function control(key, input) {
    controls[key] = input;
    input.id = `net-${key}`;
    labels[key] = element("span", { className: "field-label" });
    return element("label", { className: "net-field" }, labels[key], input);
  }
  const select = (options) => {
    const made = element("select");
    for (const value of options) made.append(new Option(value, value));
    return made;
  };
  const text = (size) => element("input", { type: "text", size, spellcheck: false, autocomplete: "off" });
  const fields = element(
    "div",
    { className: "net-controls" },
    control("dataset", select(DATASETS)),
    control("hidden", text(8)),
    control("activation", select(ACTIVATIONS)),
    control("loss", select(LOSSES)),
    control("optimizer", select(OPTIMIZERS)),
    control("lr", text(6)),
    control("l2", text(7)),
    control("seed", text(4)),
    control("batch", text(4)),
  );
  const stepButton = element("button", { type: "button", id: "net-step" });
  const playButton = element("button", { type: "button", id: "net-play" });
  playButton.setAttribute("aria-pressed", "false");
  const resetButton = element("button", { type: "button", id: "net-reset" });
  const readout = element("span", { id: "net-loss-value", className: "counter" });
  readout.setAttribute("aria-live", "polite");
  const error = element("p", { id: "net-error", className: "error", role: "alert" });
  const buttons = element("div", { className: "controls" }, stepButton, playButton, resetButton, readout);

  const plotTitle = element("h2");
  const plot = svg("svg", { id: "net-plot", viewBox: "0 0 300 300", class: "net-plot", role: "img" });
  const hint = element("p", { className: "net-hint" });
  const modeEdit = element("input", { type: "radio", name: "net-mode", value: "edit", id: "net-mode-edit", checked: true });
  const modeWalk = element("input", { type: "radio", name: "net-mode", value: "walk", id: "net-mode-walk" });
  const classSelect = element("select", { id: "net-class" });
  const modes = element(
    "div",
    { className: "net-modes" },
    element("label", {}, modeEdit, " ", element("span")),
    element("label", {}, modeWalk, " ", element("span")),
    element("label", {}, element("span", { className: "field-label" }), " ", classSelect),
  );
  const curveTitle = element("h2");
  const curve = svg("svg", { id: "net-curve", viewBox: "0 0 300 120", class: "net-curve", role: "img" });
  const netTitle = element("h2");
  const netHint = element("p", { className: "net-hint" });
  const netPicture = svg("svg", { id: "net-net", class: "net-net" });
  const healthTitle = element("h2");
  const health = element("div", { id: "net-health" });
  const walkTitle = element("h2");
  const walkBox = element("div", { id: "net-walk" });
  walkBox.setAttribute("aria-live", "polite");

  root.replaceChildren(
    fields,
    buttons,
    error,
    element(
      "div",
      { className: "net-columns" },
      element("div", {}, plotTitle, plot, modes, hint, curveTitle, curve),
      element("div", {}, netTitle, netHint, netPicture, healthTitle, health),
    ),
    walkTitle,
    walkBox,
  );
  for (const [key, input] of Object.entries(controls)) input.value = settings[key];

  function words() {
    const names = { dataset: "Data", hidden: "hidden layers", activation: "activation", loss: "loss",
      optimizer: "optimizer", lr: "learning rate", l2: "L2", seed: "seed", batch: "mini-batch" };
    for (const [key, name] of Object.entries(names)) labels[key].textContent = t(name);
    for (const option of controls.dataset.options) option.textContent = t(option.value);
    controls.loss.options[0].textContent = t("default");
    controls.hidden.placeholder = t("e.g. 16,16");
    controls.batch.title = t("0 means all points");
    stepButton.textContent = t("step");
    playButton.textContent = playing ? t("pause") : t("play");
    resetButton.textContent = t("reset");
    plotTitle.textContent = t("Decision regions at this step");
    modes.children[0].lastChild.textContent = t("add or remove points");
    modes.children[1].lastChild.textContent = t("walk a sample");
    modes.children[2].firstChild.textContent = t("class");
    curveTitle.textContent = t("Loss per step");
    netTitle.textContent = t("The net, neuron by neuron");
    netHint.textContent = t("Click a neuron to walk its gates for the chosen sample; click a sample in the plot to walk its backward pass.");
    healthTitle.textContent = t("Training health at this step");
    walkTitle.textContent = walkTarget && "sample" in walkTarget ? t("One sample's forward and backward pass")
      : t("One neuron, gate by gate");
    plot.setAttribute("aria-label", plotTitle.textContent);
    curve.setAttribute("aria-label", curveTitle.textContent);
    netPicture.setAttribute("aria-label", netTitle.textContent);
  }

  /* ---- talking to Python ---- */
  function resetArgs() {
    const args = { dataset: settings.dataset, hidden: settings.hidden, activation: settings.activation,
      optimizer: settings.optimizer, points: added, removed, sample, lang: api.lang };
    if (settings.loss) args.loss = settings.loss;
    if (settings.lr.trim()) args.lr = settings.lr.trim();
    if (settings.l2.trim()) args.l2 = settings.l2.trim();
    args.seed = /^-?\d+$/.test(settings.seed.trim()) ? Number(settings.seed.trim()) : settings.seed;
    args.batch = /^\d+$/.test(settings.batch.trim()) ? Number(settings.batch.trim()) : settings.batch;
    return args;
  }
  async function ask(action, args) {
    try {
      const result = await api.call("net", action, args);
      error.textContent = "";
      root.classList.remove("failed");
      return result;
    } catch (failure) {
      error.textContent = failure.message;
      root.classList.add("failed");
      return null;
    }
  }
  async function reset() {
    stop();
    pending = 0;
    const result = await ask("reset", resetArgs());
    if (result === null) return;
    view = result;
    sample = view.net.sample;
    walkTarget = null;
    draw();
    showWalk(null);
  }
  /* Queued steps run together: clicks while a step runs add to the next request. */
  async function runSteps() {
    if (running || view === null) return;
    running = true;
    while (pending > 0 || playing) {
      const n = playing ? 1 : Math.min(pending, MAX_STEPS_PER_CALL);
      pending -= playing ? 0 : n;
      const now = performance.now();
      const grid = !playing || now - lastGrid > GRID_EVERY_MS;
      const result = await ask("step", { n, grid, sample, lang: api.lang });
      if (result === null || result.diverged) {
        if (result !== null) update(result, grid);
        stop();
        break;
      }
      update(result, grid);
      if (grid) lastGrid = now;
    }
    running = false;
    if (walkTarget !== null) await walk(walkTarget);
  }
  function update(result, withGrid) {
    if (!withGrid) result.grid = view.grid;
    view = result;
    draw();
  }
  function stop() {
    playing = false;
    playButton.setAttribute("aria-pressed", "false");
    playButton.textContent = t("play");
  }
  async function walk(target) {
    walkTarget = target;
    const result = await ask("walk", { target, sample, lang: api.lang });
    showWalk(result);
  }

  /* ---- drawing ---- */
  function draw() {
    const step = view.step;
    readout.dataset.step = String(step);
    if (view.loss === null) {
      delete readout.dataset.loss;
      readout.textContent = `${fill(t("steps taken: {step}"), { step })} · ${t("No step taken yet.")}`;
    } else {
      readout.dataset.loss = String(view.loss);
      readout.textContent = `${fill(t("steps taken: {step}"), { step })} · ${t("batch loss")} ${view.loss_text}`
        + ` · ${t("accuracy")} ${view.accuracy_text}`;
    }
    if (view.diverged) {
      error.textContent = fill(t("Training diverged: {where}"), { where: view.diverged.where });
    }
    controls.lr.placeholder = String(view.settings.lr);
    classSelect.replaceChildren(...Array.from({ length: view.classes }, (_, c) => new Option(String(c), String(c))));
    classSelect.value = String(Math.min(addClass, view.classes - 1));
    hint.textContent = fill(t("Click the plot to add a point of class {label}; click a point to remove it."),
      { label: classSelect.value });
    drawPlot();
    drawCurve();
    drawNet();
    drawHealth();
  }

  /* Class c's colour: gategrad.viz.plot.CLASS_COLORS, as the run page and boundary.png colour it. */
  const classColor = (c) => view.class_colors[c % view.class_colors.length];

  function drawPlot() {
    const [left, right, bottom, top] = view.grid.bounds;
    const size = 300;
    const px = (x) => ((x - left) / (right - left)) * size;
    const py = (y) => size - ((y - bottom) / (top - bottom)) * size;
    plot.replaceChildren();
    const { x: xs, y: ys, cells } = view.grid;
    const w = size / (xs.length - 1), h = size / (ys.length - 1);
    ys.forEach((y, j) => xs.forEach((x, i) => {
      const [label, margin] = cells[j][i];
      svg("rect", { x: (px(x) - w / 2).toFixed(2), y: (py(y) - h / 2).toFixed(2), width: (w + 0.5).toFixed(2),
        height: (h + 0.5).toFixed(2), fill: classColor(label),
        "fill-opacity": (0.12 + 0.33 * Math.min(1, Number(margin))).toFixed(3), class: "net-cell" }, plot);
    }));
    view.points.forEach((point, index) => {
      const circle = svg("circle", { cx: px(point.x[0]).toFixed(2), cy: py(point.x[1]).toFixed(2), r: 5,
        fill: classColor(point.label), class: "net-point", tabindex: 0, role: "button", "data-index": index,
        "data-label": point.label }, plot);
      if ("added" in point) circle.classList.add("net-added");
      if (index === sample) circle.classList.add("net-picked");
      svg("title", {}, circle).textContent = `${fill(t("sample {sample}"), { sample: index })} · ${t("class")} ${point.label}`
        + ("added" in point ? ` · ${t("added")}` : "");
    });
    plot.dataset.toData = JSON.stringify([left, right, bottom, top]);
  }

  function drawCurve() {
    curve.replaceChildren();
    const losses = view.losses.map(Number).filter(Number.isFinite);
    if (losses.length === 0) return;
    const top = Math.max(...losses), width = 300, height = 120;
    const points = losses.map((loss, k) => `${((width * k) / Math.max(1, losses.length - 1)).toFixed(1)},`
      + `${(height - 4 - ((height - 8) * loss) / (top || 1)).toFixed(1)}`);
    svg("polyline", { points: points.join(" "), class: "net-curve-line" }, curve);
  }

  function drawNet() {
    const layers = view.net.layers;
    const columns = [2, ...layers.map((layer) => layer.neurons.length)];
    const tallest = Math.max(...columns);
    const gap = 22, width = 70 * columns.length + 20, height = Math.max(80, gap * tallest + 20);
    netPicture.setAttribute("viewBox", `0 0 ${width} ${height}`);
    netPicture.replaceChildren();
    const colX = (c) => 30 + 70 * c;
    const rowY = (c, i) => height / 2 + (i - (columns[c] - 1) / 2) * gap;
    const biggest = Math.max(1e-9, ...layers.flatMap((layer) => layer.neurons.flatMap((n) => n.w.map((w) => Math.abs(Number(w))))));
    layers.forEach((layer, l) => layer.neurons.forEach((neuron, i) => neuron.w.forEach((w, j) => {
      svg("line", { x1: colX(l), y1: rowY(l, j), x2: colX(l + 1), y2: rowY(l + 1, i), stroke: signColor(Number(w), biggest),
        "stroke-width": (0.5 + (2 * Math.abs(Number(w))) / biggest).toFixed(2) }, netPicture);
    })));
    view.net.x.forEach((x, j) => {
      svg("circle", { cx: colX(0), cy: rowY(0, j), r: 7, class: "net-input", fill: signColor(x, 2) }, netPicture);
    });
    const stuck = view.health ? view.health.layers.map((row) => new Set(row.stuck)) : layers.map(() => new Set());
    layers.forEach((layer, l) => {
      const scale = Math.max(1e-9, ...layer.neurons.map((n) => Math.abs(Number(n.a))));
      layer.neurons.forEach((neuron, i) => {
        const key = `${l}:${i}`;
        const circle = svg("circle", { cx: colX(l + 1), cy: rowY(l + 1, i), r: 8, class: "net-neuron", tabindex: 0,
          role: "button", "data-neuron": key, fill: signColor(Number(neuron.a), scale) }, netPicture);
        if (stuck[l].has(i)) circle.classList.add("net-stuck");
        if (walkTarget && walkTarget.neuron === key) circle.classList.add("net-picked");
        svg("title", {}, circle).textContent = `${fill(t("neuron {key}"), { key })}: ${neuron.text}`;
      });
    });
  }

  function drawHealth() {
    health.replaceChildren();
    if (view.health === null) {
      health.append(element("p", {}, t("No step taken yet.")));
      return;
    }
    const table = element("table", { className: "net-table" });
    const head = element("tr");
    for (const word of ["layer", "activation", "dead ReLUs", "saturated", "update / weight"]) {
      head.append(element("th", {}, t(word)));
    }
    table.append(element("thead", {}, head));
    const body = element("tbody");
    for (const row of view.health.layers) {
      body.append(element("tr", { dataset: { layer: row.layer } },
        element("td", {}, String(row.layer)),
        element("td", {}, row.activation),
        element("td", { className: row.warn_dead ? "net-warn" : "" }, row.dead_relu),
        element("td", {}, row.saturated),
        element("td", { className: row.warn_ratio ? "net-warn" : "" }, row.update_ratio)));
    }
    table.append(body);
    health.append(table, element("p", {}, view.health.nonfinite), element("p", { className: "net-hint" }, view.health.note));
  }

  function showWalk(result) {
    walkBox.replaceChildren();
    words();
    if (result === null) return;
    walkBox.dataset.target = JSON.stringify(result.target);
    walkBox.dataset.sample = String(result.sample);
    walkBox.dataset.step = String(result.step);
    const list = element("ol", { className: "net-walk" });
    let group = undefined;
    for (const step of result.steps) {
      if ("sample" in result.target && step.neuron !== group) {
        group = step.neuron;
        list.append(element("li", { className: "net-walk-group" },
          group === null ? t("the loss") : fill(t("neuron {key}"), { key: group })));
      }
      list.append(element("li", { className: "net-walk-step", dataset: { gate: step.gate } }, step.sentence));
    }
    walkBox.append(element("p", { className: "heading" }, result.heading), element("p", {}, result.detail), list);
    if (view) drawNet();
  }

  /* ---- what the learner does ---- */
  for (const [key, input] of Object.entries(controls)) {
    input.addEventListener("change", () => {
      settings[key] = input.value;
      if (key === "dataset") {
        added = [];
        removed = [];
        api.state.set("net.points", undefined);
        api.state.set("net.removed", undefined);
      }
      api.state.set(`net.${key}`, input.value === DEFAULTS[key] ? undefined : input.value);
      sample = 0;
      api.state.set("net.sample", undefined);
      reset();
    });
  }
  stepButton.addEventListener("click", () => {
    pending += 1;
    runSteps();
  });
  playButton.addEventListener("click", () => {
    if (playing) {
      stop();
      return;
    }
    playing = true;
    playButton.setAttribute("aria-pressed", "true");
    playButton.textContent = t("pause");
    runSteps();
  });
  resetButton.addEventListener("click", () => reset());
  modeEdit.addEventListener("change", () => { clickMode = "edit"; });
  modeWalk.addEventListener("change", () => { clickMode = "walk"; });
  classSelect.addEventListener("change", () => {
    addClass = Number(classSelect.value);
    hint.textContent = fill(t("Click the plot to add a point of class {label}; click a point to remove it."),
      { label: classSelect.value });
  });

  function pointAt(index) {
    const point = view.points[index];
    if (clickMode === "walk") {
      sample = index;
      api.state.set("net.sample", sample || undefined);
      walk({ sample: index }).then(() => ask("step", { n: 0, sample, lang: api.lang, grid: false }))
        .then((result) => result && update(result, false));
      return;
    }
    if ("added" in point) added = added.filter((_, j) => j !== point.added);
    else removed = [...removed, point.dataset];
    saveEdits();
  }
  function saveEdits() {
    api.state.set("net.points", added.length ? added : undefined);
    api.state.set("net.removed", removed.length ? removed : undefined);
    sample = 0;
    api.state.set("net.sample", undefined);
    reset();
  }
  plot.addEventListener("click", (event) => {
    const target = event.target.closest("[data-index]");
    if (target) {
      pointAt(Number(target.dataset.index));
      return;
    }
    if (clickMode !== "edit" || view === null) return;
    const box = plot.getBoundingClientRect();
    const [left, right, bottom, top] = view.grid.bounds;
    /* The plot's pixel, as a point of the plane: only where to put it, Python computes everything else. */
    const x = left + ((event.clientX - box.left) / box.width) * (right - left);
    const y = top - ((event.clientY - box.top) / box.height) * (top - bottom);
    added = [...added, [x, y, Number(classSelect.value)]];
    saveEdits();
  });
  plot.addEventListener("keydown", (event) => {
    const target = event.target.closest("[data-index]");
    if (target && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      pointAt(Number(target.dataset.index));
    }
  });
  function neuronAt(event) {
    const target = event.target.closest("[data-neuron]");
    if (target) walk({ neuron: target.dataset.neuron });
  }
  netPicture.addEventListener("click", neuronAt);
  netPicture.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      neuronAt(event);
    }
  });

  api.onLang(async () => {
    words();
    if (view === null) return;
    const result = await ask("step", { n: 0, sample, lang: api.lang, grid: false });
    if (result !== null) update(result, false);
    if (walkTarget !== null) await walk(walkTarget);
  });

  words();
  await reset();
}
