/* The page's Python, in a Web Worker so the page never freezes: Pyodide, gategrad unpacked from python.zip,
   and one entry point, gategrad.playground.bridge.handle, which takes and gives JSON text. */
import { loadPyodide } from "./pyodide/pyodide.mjs";

const started = start();

async function start() {
  self.postMessage({ type: "progress", step: "python" });
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  self.postMessage({ type: "progress", step: "unpack" });
  const zip = await fetch(new URL("./python.zip", import.meta.url));
  if (!zip.ok) throw new Error(`python.zip: ${zip.status} ${zip.statusText}`);
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(await zip.arrayBuffer(), "zip", { extractDir: site });
  self.postMessage({ type: "progress", step: "engine" });
  return pyodide.pyimport("gategrad.playground.bridge");
}

started.then(
  () => self.postMessage({ type: "ready" }),
  (error) => self.postMessage({ type: "failed", error: String(error && error.message ? error.message : error) }),
);

self.onmessage = async (event) => {
  const { id, request } = event.data;
  let reply;
  try {
    const bridge = await started;
    reply = bridge.handle(request);
  } catch (error) {
    /* The bridge turns a learner's mistake into an error reply; an exception here is a bug, and says so. */
    const lines = String(error && error.message ? error.message : error).trim().split("\n");
    reply = JSON.stringify({ ok: false, error: lines[lines.length - 1], bug: lines.join("\n") });
  }
  self.postMessage({ type: "reply", id, reply });
};
