/* The frame: tabs, language, the URL hash, the Python worker, and the `api` each lab mounts with.
   The numbers and the sentences come from Python (gategrad.playground.bridge); this only routes and draws. */
import { Python } from "./python.js";

const PROGRESS = {
  python: "Loading Python in your browser (about 12 MB, once)…",
  unpack: "Unpacking gategrad…",
  engine: "Starting the engine…",
};

let site = { languages: ["en"], strings: { en: {} }, labs: [], styles: [] }; /* site.json, written by the build */
let lang = "en";
let progressStep = "python";
/* Python starts first: loading it is most of the wait. */
const python = new Python((step) => {
  progressStep = step;
  showProgress();
});
const langListeners = [];

/* ---- the URL hash: every lab's state, each key's value as JSON ---- */
const state = readHash();
function readHash() {
  const found = {};
  for (const [key, text] of new URLSearchParams(location.hash.slice(1))) {
    try {
      found[key] = JSON.parse(text);
    } catch {
      /* a hand-edited value that is not JSON is left out */
    }
  }
  return found;
}
let pendingWrite = false;
function writeHash() {
  pendingWrite = false;
  const params = new URLSearchParams();
  for (const key of Object.keys(state).sort()) params.set(key, JSON.stringify(state[key]));
  history.replaceState(null, "", "#" + params.toString());
}

/* ---- words ---- */
function t(msgid) {
  const text = site.strings[lang] && site.strings[lang][msgid];
  if (text === undefined) {
    console.error(`gategrad playground: no entry for ${JSON.stringify(msgid)} in the page's words`);
    return msgid;
  }
  return text;
}
function translateFrame() {
  document.documentElement.lang = lang;
  document.title = t("gategrad playground: backpropagation live in your browser");
  for (const element of document.querySelectorAll("[data-t]")) element.textContent = t(element.dataset.t);
}

/* ---- drawing: viz-js (Graphviz compiled to wasm), loading while Python does ---- */
const viz = import("./viz/viz.js").then((module) => module.instance());
async function drawDot(dot, element) {
  const svg = (await viz).renderSVGElement(dot);
  /* Graphviz sizes in points: as px, a 14pt label shows at 14px, as in the stepper; CSS shrinks a wide one. */
  for (const side of ["width", "height"]) svg.setAttribute(side, svg.getAttribute(side).replace("pt", "px"));
  svg.setAttribute("role", "img");
  element.replaceChildren(svg);
}

/* What each lab's mount(root, api) gets: call(lab, action, args), one request to Python (queued, in order; it
   rejects with the error line of an {ok: false} reply); t(msgid), a word in the page's language; lang and
   onLang(callback), called once the words of a new language are in; state.get/set(key, value), the lab's part
   of the URL hash (keys start with the lab's name); drawDot(dot, element), Graphviz's SVG in element. */
const api = {
  call: (lab, action, args) => python.call(lab, action, args),
  t,
  get lang() {
    return lang;
  },
  onLang: (callback) => langListeners.push(callback),
  state: {
    get: (key) => state[key],
    set(key, value) {
      if (value === undefined) delete state[key];
      else state[key] = value;
      if (!pendingWrite) {
        pendingWrite = true;
        queueMicrotask(writeHash);
      }
    },
  },
  drawDot,
};

/* ---- tabs: one per lab (site.labs), each a button [data-tab] and a section #tab-<lab> ---- */
function showTab(name) {
  for (const button of document.querySelectorAll(".tabs [data-tab]")) {
    const selected = button.dataset.tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    document.getElementById(`tab-${button.dataset.tab}`).hidden = !selected;
  }
}
function setUpTabs(tabs) {
  for (const button of document.querySelectorAll(".tabs [data-tab]")) button.hidden = !tabs.includes(button.dataset.tab);
  const nav = document.querySelector(".tabs");
  const choose = (tab) => {
    showTab(tab);
    api.state.set("tab", tab);
  };
  nav.addEventListener("click", (event) => {
    if (event.target.dataset.tab) choose(event.target.dataset.tab);
  });
  nav.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const at = tabs.indexOf(event.target.dataset.tab);
    const tab = tabs[(at + step + tabs.length) % tabs.length];
    choose(tab);
    document.getElementById(`tab-button-${tab}`).focus();
  });
  showTab(tabs.includes(state.tab) ? state.tab : tabs[0]);
}

function setUpLanguages() {
  const select = document.getElementById("lang");
  for (const code of site.languages) {
    select.append(new Option(new Intl.DisplayNames([code], { type: "language" }).of(code), code));
  }
  select.value = lang;
  select.addEventListener("change", async () => {
    lang = select.value;
    api.state.set("lang", lang);
    translateFrame();
    for (const listener of langListeners) await listener(lang);
    showProgress();
  });
}

let siteLoaded = false;
function showProgress() {
  if (siteLoaded) document.getElementById("progress").textContent = t(PROGRESS[progressStep]);
}

async function main() {
  const progress = document.getElementById("progress");
  site = await (await fetch("site.json")).json();
  siteLoaded = true;
  lang = site.languages.includes(state.lang) ? state.lang : "en";
  translateFrame();
  showProgress();
  for (const style of site.styles) {
    document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: style }));
  }
  setUpLanguages();
  const tabs = site.labs;
  setUpTabs(tabs);
  try {
    await python.ready;
  } catch (error) {
    progress.textContent = t("The engine could not start: {error}").replace("{error}", error.message);
    throw error;
  }
  const modules = await Promise.all(tabs.map((tab) => import(`./${tab}.js`)));
  await Promise.all(modules.map((module, i) => module.mount(document.getElementById(`tab-${tabs[i]}`), api)));
  progress.hidden = true;
  document.documentElement.dataset.ready = "true";
}

/* Opening another link of the playground in this tab starts it again from that link. */
window.addEventListener("hashchange", () => location.reload());
main();
