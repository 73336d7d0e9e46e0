/* The expression lab: an expression and its values in, explain's walk, the stepper's pictures and the
   gradients out, all computed by gategrad in the page's Python (gategrad.playground.expression). */

const DEFAULT = { expression: "2*(x*y + max(z, w))", values: { x: "3", y: "-4", z: "2", w: "-1" } };
const SLIDER = { min: -10, max: 10, step: 0.1 };

function fill(template, values) {
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (whole, key) =>
    key === undefined ? whole[0] : key in values ? String(values[key]) : whole,
  );
}

function element(tag, attributes = {}, ...children) {
  const made = Object.assign(document.createElement(tag), attributes);
  made.append(...children);
  return made;
}

export async function mount(root, api) {
  const { t } = api;
  const saved = api.state.get("expr.expression");
  const lab = {
    expression: typeof saved === "string" ? saved : DEFAULT.expression,
    values: { ...(typeof saved === "string" ? api.state.get("expr.values") || {} : DEFAULT.values) },
    step: Number(api.state.get("expr.step")) || 0,
    mistake: api.state.get("expr.mistake") || "",
    predicting: api.state.get("expr.predict") === true,
    result: null,
    answers: {},
    score: { right: 0, answered: 0 },
  };

  /* ---- the page's parts ---- */
  const input = element("input", { id: "expr", type: "text", spellcheck: false, autocomplete: "off" });
  input.value = lab.expression;
  const label = element("label", { htmlFor: "expr", className: "field-label" });
  const vars = element("div", { id: "vars" });
  const error = element("p", { id: "expr-error", className: "error", role: "alert" });
  const prev = element("button", { type: "button", id: "expr-prev" });
  const next = element("button", { type: "button", id: "expr-next" });
  const counter = element("span", { id: "expr-counter", className: "counter" });
  const predictBox = element("input", { type: "checkbox", id: "expr-predict" });
  predictBox.checked = lab.predicting;
  const predictLabel = element("label", { className: "toggle" }, predictBox, " ", element("span"));
  const score = element("span", { id: "expr-score", className: "score" });
  const heading = element("p", { id: "expr-heading", className: "heading" });
  const caption = element("p", { id: "expr-caption", className: "caption", ariaLive: "polite" });
  const quiz = element("form", { id: "expr-quiz", className: "quiz", hidden: true });
  const circuit = element("div", { id: "circuit", className: "circuit" });
  const walkTitle = element("h2");
  const walk = element("ol", { id: "walk" });
  const gradsTitle = element("h2");
  const grads = element("table", { id: "grads" });
  const mistakeTitle = element("h2", { id: "mistake-title" });
  const mistake = element("select", { id: "mistake" });
  mistake.setAttribute("aria-labelledby", "mistake-title");
  const mistakeWhy = element("p", { id: "mistake-why", className: "caption" });
  const mistakeText = element("pre", { id: "mistake-text", className: "lab-text" });
  root.replaceChildren(
    element("div", { className: "expr-input" }, label, input),
    vars,
    error,
    element("div", { className: "controls" }, prev, counter, next, predictLabel, score),
    heading,
    caption,
    quiz,
    circuit,
    element(
      "div",
      { className: "columns" },
      element("div", {}, walkTitle, walk),
      element("div", {}, gradsTitle, grads, mistakeTitle, mistake, mistakeWhy, mistakeText),
    ),
  );

  function words() {
    label.textContent = t("Expression, in the language of gategrad explain");
    prev.textContent = t("prev");
    next.textContent = t("next");
    predictLabel.lastChild.textContent = t("predict");
    walkTitle.textContent = t("Backward pass, one gate at a time");
    gradsTitle.textContent = t("Gradients");
    mistakeTitle.textContent = t("Misconception lab");
    score.textContent = fill(t("score: {right} of {answered}"), lab.score);
  }

  /* ---- running the walk: one request at a time; a change while one runs asks again once it is back ---- */
  let running = null;
  let again = false;
  async function run() {
    if (running) {
      again = true;
      return running;
    }
    root.dataset.running = "true"; /* the page is computing: tests and styles can tell */
    running = (async () => {
      do {
        again = false;
        try {
          const result = await api.call("expr", "run", {
            expression: lab.expression,
            values: lab.values,
            lang: api.lang,
            mistake: lab.mistake || null,
          });
          show(result);
        } catch (failure) {
          error.textContent = failure.message;
          root.classList.add("failed");
        }
      } while (again);
    })();
    await running;
    running = null;
    delete root.dataset.running;
  }

  function save() {
    api.state.set("expr.expression", lab.expression);
    api.state.set("expr.values", lab.values);
    api.state.set("expr.step", lab.step || undefined);
    api.state.set("expr.mistake", lab.mistake || undefined);
    api.state.set("expr.predict", lab.predicting || undefined);
  }

  function show(result) {
    const changed = !lab.result || lab.result.report.expression !== result.report.expression;
    lab.result = result;
    lab.values = Object.fromEntries(result.inputs.map((i) => [i.name, lab.values[i.name] ?? i.value]));
    error.textContent = "";
    root.classList.remove("failed");
    if (changed) lab.answers = {};
    lab.step = Math.min(lab.step, result.frames.length - 1);
    showVars(result.inputs);
    showGrads(result.grads);
    showWalk(result.report.steps);
    showMistake(result);
    save();
    return showStep();
  }

  function showVars(inputs) {
    const names = inputs.map((i) => i.name);
    const shown = Array.from(vars.querySelectorAll("[data-var]"), (box) => box.dataset.var);
    if (names.join("\u0000") === shown.join("\u0000")) return; /* keep the focus in the box being typed in */
    vars.replaceChildren(
      ...inputs.map(({ name }) => {
        const box = element("input", { type: "text", inputMode: "decimal", spellcheck: false, autocomplete: "off" });
        box.dataset.var = name;
        box.value = lab.values[name];
        box.id = `var-${name}`;
        const slider = element("input", { type: "range", min: SLIDER.min, max: SLIDER.max, step: SLIDER.step });
        slider.dataset.slider = name;
        slider.value = Number(lab.values[name]);
        slider.setAttribute("aria-label", name);
        box.addEventListener("input", () => {
          lab.values[name] = box.value;
          if (Number.isFinite(Number(box.value))) slider.value = Number(box.value);
          run();
        });
        slider.addEventListener("input", () => {
          box.value = slider.value;
          lab.values[name] = slider.value;
          run();
        });
        return element("div", { className: "var" }, element("label", { htmlFor: box.id }, name), box, slider);
      }),
    );
  }

  function showGrads(rows) {
    grads.replaceChildren(
      element("tr", {}, element("th", {}, t("input")), element("th", {}, t("grad"))),
      ...rows.map((row) => {
        const cell = element("td", {}, row.text);
        cell.dataset.input = row.name;
        cell.dataset.value = row.value;
        return element("tr", {}, element("td", {}, row.name), cell);
      }),
    );
  }

  function showWalk(steps) {
    const shown = Array.from(walk.querySelectorAll("[data-step]"), (button) => button.textContent);
    if (JSON.stringify(shown) === JSON.stringify(steps.map((step) => step.explanation))) return;
    walk.replaceChildren(
      ...steps.map((step, i) => {
        const button = element("button", { type: "button", className: "step" }, step.explanation);
        button.dataset.step = String(i + 1);
        button.addEventListener("click", () => go(i + 1));
        return element("li", {}, button);
      }),
    );
  }

  function showMistake(result) {
    const names = result.mistakes;
    if (mistake.options.length !== names.length + 1 || mistake.dataset.lang !== api.lang) {
      mistake.replaceChildren(
        new Option(t("none: the right walk"), ""),
        ...names.map((m) => new Option(m.label, m.name)),
      );
      mistake.dataset.lang = api.lang;
    }
    mistake.value = lab.mistake;
    const report = result.mistake;
    mistakeWhy.textContent = report ? report.explanation : "";
    mistakeText.textContent = report ? report.text : "";
    mistakeText.hidden = !report;
  }

  /* ---- stepping ---- */
  function asking() {
    const questions = lab.result.predict;
    return lab.predicting && lab.step > 0 && !(lab.step in lab.answers) && questions[lab.step - 1] !== undefined;
  }

  async function showStep() {
    const { frames } = lab.result;
    const frame = frames[lab.step];
    counter.textContent = `${lab.step + 1} / ${frames.length}`;
    prev.disabled = lab.step === 0;
    next.disabled = lab.step === frames.length - 1;
    heading.textContent = frame.heading;
    caption.textContent = asking() ? "" : frame.caption;
    for (const button of walk.querySelectorAll("[data-step]")) {
      const k = Number(button.dataset.step);
      if (k === lab.step) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
      button.parentElement.hidden = lab.predicting && k >= lab.step && !(k in lab.answers);
    }
    score.hidden = !lab.predicting;
    score.textContent = fill(t("score: {right} of {answered}"), lab.score);
    showQuiz();
    await api.drawDot(frame.dot, circuit);
    showActiveGate();
  }

  /* A wide circuit scrolls in its box: bring the gate being explained to the middle of the box. */
  function showActiveGate() {
    const gate = circuit.querySelector("g.node.gg-active");
    if (!gate) return;
    const box = circuit.getBoundingClientRect();
    const node = gate.getBoundingClientRect();
    circuit.scrollLeft += node.left + node.width / 2 - (box.left + box.width / 2);
  }

  function showQuiz() {
    quiz.hidden = !lab.predicting || lab.step === 0;
    if (quiz.hidden) return;
    const question = lab.result.predict[lab.step - 1];
    const answered = lab.answers[lab.step];
    const fields = question.fields.map((text, j) => {
      const field = element("input", { type: "text", autocomplete: "off", spellcheck: false, id: `answer-${j}` });
      field.dataset.part = "answer";
      if (answered) {
        field.value = answered.typed[j];
        field.disabled = true;
      }
      return element("label", {}, text + " ", field);
    });
    const check = element("button", { type: "submit", hidden: Boolean(answered) }, t("check"));
    const feedback = element(
      "ul",
      { className: "feedback" },
      ...(answered ? answered.feedback : []).map((f) =>
        element("li", { className: f.right ? "right" : "wrong" }, f.text),
      ),
    );
    quiz.replaceChildren(
      element("p", {}, question.question),
      element("p", { className: "hint" }, lab.result.predict_hint),
      ...fields,
      check,
      feedback,
    );
  }

  quiz.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!asking()) return;
    const k = lab.step;
    const typed = Array.from(quiz.querySelectorAll('[data-part="answer"]'), (field) => field.value);
    const checked = await api.call("expr", "predict", {
      expression: lab.expression, values: lab.values, step: k, answers: typed, lang: api.lang,
    });
    if (checked.feedback === null) {
      quiz.querySelector(".feedback").replaceChildren(element("li", { className: "note" }, checked.note));
      return;
    }
    lab.answers[k] = { typed, feedback: checked.feedback };
    lab.score.answered += checked.feedback.length;
    lab.score.right += checked.feedback.filter((f) => f.right).length;
    await showStep();
    (lab.step < lab.result.frames.length - 1 ? next : prev).focus();
  });

  function go(k) {
    lab.step = Math.max(0, Math.min(k, lab.result.frames.length - 1));
    api.state.set("expr.step", lab.step || undefined);
    return showStep().then(() => {
      if (asking()) quiz.querySelector('[data-part="answer"]').focus();
    });
  }

  prev.addEventListener("click", () => go(lab.step - 1));
  next.addEventListener("click", () => go(lab.step + 1));
  root.addEventListener("keydown", (event) => {
    if (event.target.matches("input[type=text], input[type=range], select, textarea")) return;
    if (event.key === "ArrowRight") go(lab.step + 1);
    else if (event.key === "ArrowLeft") go(lab.step - 1);
    else return;
    event.preventDefault();
  });
  predictBox.addEventListener("change", () => {
    lab.predicting = predictBox.checked;
    api.state.set("expr.predict", lab.predicting || undefined);
    showStep();
  });
  input.addEventListener("input", () => {
    lab.expression = input.value;
    run();
  });
  mistake.addEventListener("change", () => {
    lab.mistake = mistake.value;
    run();
  });
  api.onLang(() => {
    words();
    return run();
  });

  words();
  await run();
}
