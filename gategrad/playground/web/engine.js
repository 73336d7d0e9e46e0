/* The "Your engine" tab: a learner's micrograd-style class, refereed by gategrad check's engine referee in a
   Python of its own, so an engine that never stops is ended (the worker with it) without touching the labs. */
import { Python } from "./python.js";

/* Twice `gategrad check`'s 60 s: the referee's hypothesis search runs slower in wasm than natively. */
export const TIME_LIMIT_S = 120;

function element(tag, attributes = {}, ...children) {
  const made = Object.assign(document.createElement(tag), attributes);
  made.append(...children);
  return made;
}

export function mount(root, api) {
  const { t } = api;
  const intro = element("p");
  const nameLabel = element("label", { htmlFor: "engine-class", className: "field-label" });
  const className = element("input", { id: "engine-class", type: "text", value: "Value", spellcheck: false });
  const source = element("textarea", { id: "engine-source", rows: 18, spellcheck: false, autocomplete: "off" });
  source.setAttribute("aria-label", "Python");
  const button = element("button", { type: "button", id: "engine-run" });
  const status = element("p", { id: "engine-status", role: "status" });
  const report = element("div", { id: "engine-report" });
  root.replaceChildren(
    intro,
    element("div", { className: "expr-input" }, nameLabel, className),
    source,
    element("div", { className: "controls" }, button),
    status,
    report,
  );
  function words() {
    intro.textContent = t("Paste your micrograd-style Value class, then check it against gategrad's engine.");
    nameLabel.textContent = t("Class name");
    button.textContent = t("check");
  }

  let python = null; /* started on the first check, and again after one that ran out of time */
  async function check() {
    python = python || new Python();
    const running = python;
    button.disabled = true;
    status.textContent = t("checking…");
    report.replaceChildren();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), TIME_LIMIT_S * 1000);
    });
    try {
      const result = await Promise.race([
        running.ready.then(() =>
          running.call("engine", "check", { source: source.value, class_name: className.value, lang: api.lang }),
        ),
        timeout,
      ]);
      if (result === "timeout") {
        running.terminate();
        python = null;
        status.textContent = t("Stopped after {seconds} s: the engine took too long (an endless loop?). Python was restarted.").replace("{seconds}", TIME_LIMIT_S);
      } else {
        status.textContent = "";
        show(result);
      }
    } catch (failure) {
      status.textContent = failure.message;
    } finally {
      clearTimeout(timer);
      button.disabled = false;
    }
  }

  /* The referee's report as `gategrad check` prints it, in the chosen language, and its JSON. */
  function show(result) {
    report.replaceChildren(
      element("pre", { className: result.ok ? "ok" : "wrong" }, result.text),
      element("details", {}, element("summary", {}, "JSON"), element("pre", {}, JSON.stringify(result, null, 2))),
    );
  }

  button.addEventListener("click", check);
  api.onLang(words);
  words();
}
