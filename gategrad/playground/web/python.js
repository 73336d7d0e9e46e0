/* A client of worker.js: one Python in a Web Worker, asked one request at a time, in order. */

export class Python {
  /* `onProgress(step)` hears "python", "unpack" and "engine" while it starts. */
  constructor(onProgress = () => {}) {
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.waiting = new Map();
    this.next = 0;
    this.queue = Promise.resolve();
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (event) => {
        const message = event.data;
        if (message.type === "progress") onProgress(message.step);
        else if (message.type === "ready") resolve();
        else if (message.type === "failed") reject(new Error(message.error));
        else if (message.type === "reply") this.answer(message);
      };
    });
  }

  answer({ id, reply }) {
    const { resolve, reject } = this.waiting.get(id);
    this.waiting.delete(id);
    const data = JSON.parse(reply);
    if (data.bug) console.error(data.bug);
    if (data.ok) resolve(data.result);
    else reject(new Error(data.error));
  }

  /* One request to the bridge; resolves with its result, rejects with its one-line error. */
  call(lab, action, args = {}) {
    const run = () =>
      new Promise((resolve, reject) => {
        const id = this.next++;
        this.waiting.set(id, { resolve, reject });
        this.worker.postMessage({ id, request: JSON.stringify({ lab, action, args }) });
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /* Stop the worker at once, even in the middle of a request (which then never answers). */
  terminate() {
    this.worker.terminate();
  }
}
