/* exported gategradStepper */
/* The stepper: shows one slide of the walk at a time. `root` is its container, `pageKeys` whether
   the arrow keys work anywhere on the page (a saved page) or only while it has focus (a notebook),
   `pace` the milliseconds per step while playing. In predict mode each backward step first asks what
   the gate sends each input; `tolerance` is how close an answer must be, relative to the engine's. */
function gategradStepper(root, pageKeys, pace, tolerance) {
  "use strict";
  const part = (name) => root.querySelector('[data-part="' + name + '"]');
  const slides = JSON.parse(part("data").textContent);
  const ui = JSON.parse(part("ui").textContent);
  const grads = root.querySelectorAll('[data-part="grad"]');
  const last = slides.length - 1;
  const prefix = root.id.slice(0, -"stepper".length);
  let k = 0;
  let timer = null;
  let predicting = false;
  let answers = {}; /* slide index -> one {answer, right} per input, for the steps checked this round */
  let score = { right: 0, answered: 0 };

  const fill = (template, numbers) =>
    template.replace(/\{\{|\}\}|\{(\w+)\}/g, (whole, key) =>
      key === undefined ? whole[0] : key in numbers ? String(numbers[key]) : whole,
    );

  function asking() {
    return predicting && slides[k].inputs.length > 0 && !(k in answers);
  }
  function show(i) {
    k = Math.max(0, Math.min(last, i));
    const slide = slides[k];
    const question = asking();
    const shown = question ? slides[k - 1] : slide; /* until answered: the picture and table before this gate */
    part("step").textContent = (k + 1) + " / " + slides.length;
    part("heading").textContent = question
      ? fill(ui.predict_question, {
          k: k, n: last, gate: slide.gate, gate_phrase: slide.gate_phrase, out: slide.output, g: slide.upstream,
        })
      : slide.heading;
    part("explanation").textContent = question ? "" : slide.explanation;
    part("figure").innerHTML = shown.svg;
    shown.grads.forEach((g, j) => { grads[j].textContent = g; });
    showQuiz(slide);
    showActiveGate();
  }
  /* A circuit a little wider than its box is shrunk to fit it (to no less than FIT of its size, so its
     text stays readable); a wider one scrolls in its box, which brings the gate being explained to its
     middle, and the box into the window if it is out of it. */
  const FIT = 0.75;
  function fit() {
    const figure = part("figure");
    const svg = figure.querySelector("svg");
    const scale = figure.clientWidth / svg.width.baseVal.value;
    svg.style.width = scale < 1 && scale >= FIT ? figure.clientWidth + "px" : "";
  }
  function showActiveGate() {
    fit();
    const gate = part("figure").querySelector("g.node.gg-active");
    if (gate) gate.scrollIntoView({ block: "nearest", inline: "center" });
  }

  /* ---- predict mode ---- */
  function who(slide, j) {
    const names = slide.inputs.map((input) => input.name);
    const repeated = new Set(names).size < names.length; /* x*x: say which x */
    return repeated ? fill(ui.predict_nth, { input: names[j], i: j + 1 }) : names[j];
  }
  function showQuiz(slide) {
    const form = part("quiz");
    const fields = part("fields");
    const feedback = part("feedback");
    fields.textContent = "";
    feedback.textContent = "";
    form.hidden = !predicting || slide.inputs.length === 0;
    if (form.hidden) return;
    const answered = answers[k];
    slide.inputs.forEach((input, j) => {
      const label = document.createElement("label");
      const field = document.createElement("input");
      field.type = "text";
      field.autocomplete = "off";
      field.spellcheck = false;
      field.id = prefix + "answer-" + j;
      field.dataset.part = "answer";
      if (answered) {
        field.value = answered[j].answer;
        field.disabled = true;
      }
      label.append(fill(ui.predict_field, { input: who(slide, j) }) + " ", field);
      fields.append(label);
    });
    part("check").hidden = Boolean(answered);
    (answered || []).forEach((a, j) => {
      const input = slide.inputs[j];
      const item = document.createElement("li");
      item.className = a.right ? "gg-right" : "gg-wrong";
      item.textContent = fill(ui.predict_feedback, {
        input: who(slide, j), verdict: a.right ? ui.predict_right : ui.predict_wrong, answer: a.answer,
        local: input.local, g: slide.upstream, gets: input.gets,
      });
      feedback.append(item);
    });
  }
  function parse(answer) {
    let t = answer.trim().toLowerCase().replace(/\u2212/g, "-").replace(/^\+/, "");
    if (!t.includes(".") && (t.match(/,/g) || []).length === 1) t = t.replace(",", "."); /* 0,39 */
    const named = { inf: Infinity, infinity: Infinity, "\u221E": Infinity, nan: NaN };
    const sign = t.startsWith("-") ? -1 : 1;
    if (t.replace(/^-/, "") in named) return sign * named[t.replace(/^-/, "")];
    const x = t === "" ? NaN : Number(t);
    return Number.isNaN(x) ? null : x;
  }
  function close(x, exactly) {
    if (Number.isNaN(exactly)) return Number.isNaN(x);
    if (!Number.isFinite(exactly)) return x === exactly;
    return Math.abs(x - exactly) <= tolerance * Math.abs(exactly);
  }
  function focusQuestion() {
    if (asking()) root.querySelector('[data-part="answer"]').focus();
  }
  part("quiz").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!asking()) return;
    const slide = slides[k];
    const fields = Array.from(root.querySelectorAll('[data-part="answer"]'));
    const typed = fields.map((field) => parse(field.value));
    const blank = typed.indexOf(null);
    if (blank >= 0) {
      const note = document.createElement("li");
      note.className = "gg-note";
      note.textContent = ui.predict_not_a_number;
      part("feedback").replaceChildren(note);
      fields[blank].focus();
      return;
    }
    answers[k] = slide.inputs.map((input, j) => ({
      answer: fields[j].value.trim(),
      right: close(typed[j], parse(input.exactly)), /* Python's repr of the engine's float */
    }));
    answers[k].forEach((a) => {
      score.answered += 1;
      score.right += a.right ? 1 : 0;
    });
    part("score").textContent = fill(ui.predict_score, score);
    show(k);
    part(k < last ? "next" : "prev").focus(); /* Enter again goes on */
  });
  part("predict").addEventListener("change", () => {
    predicting = part("predict").checked;
    answers = {};
    score = { right: 0, answered: 0 };
    part("score").textContent = fill(ui.predict_score, score);
    part("score").hidden = !predicting;
    go(k);
  });
  part("predict-toggle").hidden = false; /* predict mode needs this script, so it shows only when it runs */
  fit();
  window.addEventListener("resize", fit);

  /* ---- moving through the steps ---- */
  function pause() {
    clearInterval(timer);
    timer = null;
    part("play").textContent = "\u25B6 " + ui.play;
  }
  function go(i) {
    pause();
    show(i);
    focusQuestion();
  }
  part("play").addEventListener("click", () => {
    if (timer) return pause();
    if (k === last) show(0);
    part("play").textContent = "\u275A\u275A " + ui.pause;
    timer = setInterval(() => {
      show(k + 1);
      if (k === last || asking()) {
        pause();
        focusQuestion();
      }
    }, pace);
  });
  part("prev").addEventListener("click", () => go(k - 1));
  part("next").addEventListener("click", () => go(k + 1));
  const keys = { ArrowLeft: () => k - 1, ArrowRight: () => k + 1, Home: () => 0, End: () => last };
  const keysFrom = pageKeys ? document : root;
  keysFrom.addEventListener("keydown", (event) => {
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.type === "text") return; /* in an answer field the keys move the caret */
    event.preventDefault();
    event.stopPropagation();
    go(keys[event.key]());
  });
}
