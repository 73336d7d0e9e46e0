/* exported gategradStepper */
/* The stepper: shows one slide of the walk at a time. `root` is its container, `pageKeys` whether
   the arrow keys work anywhere on the page (a saved page) or only while it has focus (a notebook),
   `pace` the milliseconds per step while playing. */
function gategradStepper(root, pageKeys, pace) {
  "use strict";
  const part = (name) => root.querySelector('[data-part="' + name + '"]');
  const slides = JSON.parse(part("data").textContent);
  const ui = JSON.parse(part("ui").textContent);
  const grads = root.querySelectorAll('[data-part="grad"]');
  const last = slides.length - 1;
  let k = 0;
  let timer = null;

  function show(i) {
    k = Math.max(0, Math.min(last, i));
    const slide = slides[k];
    part("step").textContent = (k + 1) + " / " + slides.length;
    part("heading").textContent = slide.heading;
    part("explanation").textContent = slide.explanation;
    part("figure").innerHTML = slide.svg;
    slide.grads.forEach((g, j) => { grads[j].textContent = g; });
  }
  function pause() {
    clearInterval(timer);
    timer = null;
    part("play").textContent = "\u25B6 " + ui.play;
  }
  function go(i) {
    pause();
    show(i);
  }
  part("play").addEventListener("click", () => {
    if (timer) return pause();
    if (k === last) show(0);
    part("play").textContent = "\u275A\u275A " + ui.pause;
    timer = setInterval(() => {
      show(k + 1);
      if (k === last) pause();
    }, pace);
  });
  part("prev").addEventListener("click", () => go(k - 1));
  part("next").addEventListener("click", () => go(k + 1));
  const keys = { ArrowLeft: () => k - 1, ArrowRight: () => k + 1, Home: () => 0, End: () => last };
  const keysFrom = pageKeys ? document : root;
  keysFrom.addEventListener("keydown", (event) => {
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    event.stopPropagation();
    go(keys[event.key]());
  });
}
