// The pseudonymiser page: copy a result to the clipboard or save it as a text file.
document.addEventListener("click", (ev) => {
  const copy = ev.target.closest("[data-copy]");
  if (copy) {
    const area = document.getElementById(copy.dataset.copy);
    const done = () => { const old = copy.textContent; copy.textContent = copy.dataset.copied; setTimeout(() => { copy.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done);
    } else {
      area.select();
      document.execCommand("copy");
      done();
    }
  }
  const dl = ev.target.closest("[data-download]");
  if (dl) {
    const area = document.getElementById(dl.dataset.download);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([area.value], { type: "text/plain;charset=utf-8" }));
    a.download = dl.dataset.filename;
    a.click();
    URL.revokeObjectURL(a.href);
  }
});
